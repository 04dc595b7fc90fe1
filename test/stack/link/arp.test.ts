// Ethernet and ARP in the stack, on an Ethernet lab link: requests and replies
// on the wire, the cache, packets held while resolving, failure after the
// retries (EHOSTUNREACH), gratuitous ARP, and TCP over it all.

import test from 'ava';
import { Lab } from '../../../tools/lab/lab';
import { ArpPacket, parseArp, ARP_REQUEST, ARP_REPLY } from '../../../stack/wire/arp';
import { EthernetHeader, parseEthernet, ETHERTYPE_ARP, ETHERTYPE_IPV4, formatMac } from '../../../stack/wire/ethernet';
import { parseIpv4Address as ip, formatIpv4 } from '../../../stack/wire/ipv4';
import { Recorder, B } from '../../helpers/sim';
import type { Stack } from '../../../stack/stack';

interface EthFrame {
  t: number;
  from: string;
  type: number;
  dst: string;
  arp?: { op: number; senderIp: string; targetIp: string; senderMac: string };
}

function ethPair(link: Record<string, unknown> = {}): { lab: Lab; a: Stack; b: Stack } {
  const lab = new Lab({ seed: 5 });
  const a = lab.host('a');
  const b = lab.host('b');
  lab.link(a, b, { addressA: '10.0.0.1/24', addressB: '10.0.0.2/24', linkType: 'ethernet', delayMs: 1, ...link });
  return { lab, a, b };
}

function frames(lab: Lab): EthFrame[] {
  const eth = new EthernetHeader();
  const arp = new ArpPacket();
  const out: EthFrame[] = [];
  for (const f of lab.frames) {
    if (f.stage !== 'send' || parseEthernet(f.bytes, eth) !== null) continue;
    const e: EthFrame = { t: f.time, from: f.from, type: eth.etherType, dst: formatMac(eth.dst) };
    if (eth.etherType === ETHERTYPE_ARP && parseArp(f.bytes, eth.payloadOffset, eth.payloadLength, arp) === null) {
      e.arp = { op: arp.op, senderIp: formatIpv4(arp.senderIp), targetIp: formatIpv4(arp.targetIp), senderMac: formatMac(arp.senderMac) };
    }
    out.push(e);
  }
  return out;
}

test('gratuitous ARP when an interface comes up', (t) => {
  const { lab, a } = ethPair();
  lab.runUntilIdle();
  const g = frames(lab).filter((f) => f.arp !== undefined && f.arp.senderIp === f.arp.targetIp);
  t.is(g.length, 2);
  t.true(g.every((f) => f.dst === 'ff:ff:ff:ff:ff:ff' && f.arp!.op === ARP_REQUEST));
  t.is(g.find((f) => f.from === 'a')!.arp!.senderMac, formatMac(a.ip.interfaces[0].device.mac!));
});

test('ARP: request broadcast, reply unicast, the packet that waited goes out, and the cache is used next time', (t) => {
  const { lab, a, b } = ethPair();
  lab.runUntilIdle();
  lab.frames.length = 0;
  let replies = 0;
  a.ip.onEchoReply = () => replies++;
  a.ip.ping(ip(B), 1, 1, new Uint8Array(8));
  lab.runUntilIdle();
  a.ip.ping(ip(B), 1, 2, new Uint8Array(8));
  lab.runUntilIdle();
  t.is(replies, 2);
  const f = frames(lab);
  const kinds = f.map((x) => `${x.from}:${x.type === ETHERTYPE_ARP ? (x.arp!.op === ARP_REQUEST ? 'who-has' : 'is-at') : 'ip'}`);
  // b learned a from a's request (RFC 826: it was the target), so its reply needs no request of its own.
  t.deepEqual(kinds, ['a:who-has', 'b:is-at', 'a:ip', 'b:ip', 'a:ip', 'b:ip']);
  t.is(f[0].dst, 'ff:ff:ff:ff:ff:ff');
  t.is(f[0].arp!.targetIp, B);
  t.is(f[1].dst, formatMac(a.ip.interfaces[0].device.mac!));
  t.is(f[2].dst, formatMac(b.ip.interfaces[0].device.mac!));
  t.is(f[2].type, ETHERTYPE_IPV4);
  t.is(a.ip.interfaces[0].ethernet!.arp.entries().length, 1);
});

test('ARP: no answer -> three requests one second apart, then the waiting TCP connect fails with EHOSTUNREACH', (t) => {
  const { lab, a } = ethPair();
  lab.runUntilIdle();
  lab.frames.length = 0;
  const t0 = lab.now();
  const cli = new Recorder();
  a.tcp.connect({ remoteAddress: ip('10.0.0.9'), remotePort: 80 }, cli);
  lab.runUntilIdle();
  const requests = frames(lab).filter((f) => f.arp?.op === ARP_REQUEST && f.arp.targetIp === '10.0.0.9');
  t.deepEqual(requests.map((r) => r.t - t0), [0, 1000, 2000]);
  t.is(cli.error?.code, 'EHOSTUNREACH');
  t.is(lab.now() - t0, 3000);
  t.is(a.counter('arp-failed'), 1);
});

test('ARP: entries age out and are asked for again; a stale entry keeps working meanwhile', (t) => {
  const { lab, a } = ethPair();
  lab.runUntilIdle();
  a.ip.ping(ip(B), 1, 1, new Uint8Array(8));
  lab.runUntilIdle();
  lab.frames.length = 0;
  lab.run(31_000);
  let replies = 0;
  a.ip.onEchoReply = () => replies++;
  a.ip.ping(ip(B), 1, 2, new Uint8Array(8));
  lab.runUntilIdle();
  t.is(replies, 1);
  const f = frames(lab);
  t.true(f.some((x) => x.from === 'a' && x.arp?.op === ARP_REQUEST));
  t.true(f.some((x) => x.from === 'b' && x.arp?.op === ARP_REPLY));
});

test('frames for another MAC and unknown ethertypes are counted and dropped', (t) => {
  const { lab, b } = ethPair();
  lab.runUntilIdle();
  const link = lab.links.get('a-b')!;
  const other = new Uint8Array(60);
  other.set([2, 0, 0, 0, 0, 9], 0);
  other[12] = 0x08;
  const unknown = new Uint8Array(60);
  unknown.fill(0xff, 0, 6);
  unknown[12] = 0x88;
  unknown[13] = 0xb5;
  link.a.send([other, unknown, new Uint8Array(5)]);
  lab.runUntilIdle();
  t.is(b.counter('ethernet-not-for-us'), 1);
  t.is(b.counter('ethernet-unknown-type'), 1);
  t.is(b.counter('ethernet-truncated'), 1);
});

test('TCP over Ethernet with ARP: a transfer completes and both ends close', (t) => {
  const { lab, a, b } = ethPair({ loss: 0.02 });
  const srv = new Recorder();
  b.tcp.listen({ port: 80 }, { onConnection(c) { srv.onEnd = () => { srv.ended = true; c.shutdown(); }; c.attach(srv); } });
  const cli = new Recorder();
  const conn = a.tcp.connect({ remoteAddress: ip(B), remotePort: 80 }, cli);
  cli.onConnect = () => { conn.send(new Uint8Array(200_000).fill(7)); conn.shutdown(); };
  lab.runUntilIdle();
  t.is(srv.bytes, 200_000);
  t.true(cli.closed && srv.closed);
  t.is(cli.error, null);
});
