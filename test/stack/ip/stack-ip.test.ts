// The IP layer inside a Stack: ICMP echo, fragmentation and reassembly on the
// wire, protocol unreachable, TTL, routing, and every malformed packet counted
// and dropped without an exception.

import test from 'ava';
import { A, B, ip, pair, type Pair } from '../../helpers/sim';
import { Ipv4Header, parseIpv4, writeIpv4Header, setIpv4Checksum, IPPROTO_TCP, IPPROTO_ICMP } from '../../../stack/wire/ipv4';
import { IcmpMessage, parseIcmp, ICMP_DEST_UNREACHABLE, ICMP_ECHO_REQUEST, writeIcmpEchoRequest, writeIcmpError } from '../../../stack/wire/icmp';
import { TcpSegment, writeTcpHeader, setTcpChecksum, TCP_SYN } from '../../../stack/wire/tcp';
import { Lab } from '../../../tools/lab/lab';
import type { EchoReply } from '../../../stack/ip/ipv4';
import { LoopbackDevice } from '../../../devices/loopback';
import { copyBytes } from '../../../stack/buffers';

interface Sent {
  t: number;
  from: string;
  h: Ipv4Header;
  bytes: Uint8Array;
}

function ipFrames(p: Pair): Sent[] {
  const out: Sent[] = [];
  for (const f of p.lab.frames) {
    if (f.stage !== 'send') continue;
    const h = new Ipv4Header();
    if (parseIpv4(f.bytes, h, false) === null) out.push({ t: f.time, from: f.from, h, bytes: f.bytes });
  }
  return out;
}

/** Inject raw packets as if host a had sent them, bypassing its stack. */
function inject(p: Pair, ...packets: Uint8Array[]): void {
  p.lab.links.get('a-b')!.a.send(packets);
}

function rawPacket(protocol: number, payload: Uint8Array, opts: { src?: number; dst?: number; id?: number; mf?: boolean; offset?: number; ttl?: number } = {}): Uint8Array {
  const buf = new Uint8Array(20 + payload.length);
  writeIpv4Header(buf, 0, 20 + payload.length, opts.id ?? 7, false, opts.ttl ?? 64, protocol, opts.src ?? ip(A), opts.dst ?? ip(B), 0, opts.mf ?? false, opts.offset ?? 0);
  buf.set(payload, 20);
  return buf;
}

test('ping: an echo request is answered with the same id, sequence and data; TTL 64 both ways', (t) => {
  const p = pair({ link: { delayMs: 7 } });
  const replies: EchoReply[] = [];
  p.a.ip.onEchoReply = (r) => replies.push(r);
  t.true(p.a.ip.ping(ip(B), 0x1234, 1, new TextEncoder().encode('hello ping')));
  p.lab.runUntilIdle();
  t.is(replies.length, 1);
  t.is(replies[0].id, 0x1234);
  t.is(replies[0].sequence, 1);
  t.is(Buffer.from(replies[0].data).toString(), 'hello ping');
  t.is(replies[0].src, ip(B));
  const frames = ipFrames(p);
  t.is(frames.length, 2);
  t.deepEqual(frames.map((f) => [f.from, f.h.protocol, f.h.ttl, f.t]), [['a', IPPROTO_ICMP, 64, 0], ['b', IPPROTO_ICMP, 64, 7]]);
});

test('an echo reply\'s data is the receiver\'s to keep: a copy, not a view pinning the frame\'s slab', (t) => {
  const p = pair();
  const replies: EchoReply[] = [];
  p.a.ip.onEchoReply = (r) => replies.push(r);
  p.a.ip.ping(ip(B), 1, 1, new TextEncoder().encode('keep me'));
  p.lab.runUntilIdle();
  t.is(replies.length, 1);
  t.is(Buffer.from(replies[0].data).toString(), 'keep me');
  t.is(replies[0].data.buffer.byteLength, replies[0].data.length);
});

test('ping can be turned off (icmp_echo_ignore_all)', (t) => {
  const p = pair({ configB: { ip: { answerPing: false } } });
  let replies = 0;
  p.a.ip.onEchoReply = () => replies++;
  p.a.ip.ping(ip(B), 1, 1, new Uint8Array(8));
  p.lab.runUntilIdle();
  t.is(replies, 0);
});

test('a 4000-byte echo crosses an MTU-1500 link in fragments both ways and is reassembled intact', (t) => {
  const p = pair({ link: { delayMs: 1, mtu: 1500 } });
  const data = new Uint8Array(4000).map((_, i) => (i * 13) & 0xff);
  const replies: EchoReply[] = [];
  p.a.ip.onEchoReply = (r) => replies.push(r);
  p.a.ip.ping(ip(B), 9, 2, data);
  p.lab.runUntilIdle();
  t.is(replies.length, 1);
  t.deepEqual(replies[0].data, data);
  const frames = ipFrames(p);
  const fromA = frames.filter((f) => f.from === 'a');
  const fromB = frames.filter((f) => f.from === 'b');
  t.is(fromA.length, 3);
  t.is(fromB.length, 3);
  t.deepEqual(fromA.map((f) => [f.h.moreFragments, f.h.fragmentOffset]), [[true, 0], [true, 1480], [false, 2960]]);
  t.true(fromA.every((f) => f.bytes.length <= 1500 && f.h.id === fromA[0].h.id && !f.h.dontFragment));
});

test('fragments arriving out of order and duplicated are reassembled', (t) => {
  const p = pair({ link: { delayMs: 1, mtu: 1500, reorder: 0.5, reorderDelayMs: 2, duplicate: 0.3 }, seed: 11 });
  const data = new Uint8Array(20000).map((_, i) => (i * 7) & 0xff);
  const replies: EchoReply[] = [];
  p.a.ip.onEchoReply = (r) => replies.push(r);
  for (let i = 0; i < 5; i++) p.a.ip.ping(ip(B), 1, i, data);
  p.lab.runUntilIdle();
  t.true(replies.length >= 5);
  t.true(replies.every((r) => Buffer.compare(Buffer.from(r.data), Buffer.from(data)) === 0));
});

test('an incomplete datagram is dropped after the reassembly timeout (30 s) and counted', (t) => {
  const p = pair();
  const icmp = new Uint8Array(16);
  writeIcmpEchoRequest(icmp, 0, 1, 1, new Uint8Array(8));
  inject(p, rawPacket(IPPROTO_ICMP, icmp, { mf: true, id: 99 }));
  p.lab.runUntilIdle();
  t.is(p.b.counter('ipv4-reassembly-timeout'), 1);
  t.is(p.lab.now(), 30_000);
});

test('a packet for an unknown protocol gets ICMP protocol unreachable quoting its header', (t) => {
  const p = pair();
  const pkt = rawPacket(99, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
  inject(p, pkt);
  p.lab.runUntilIdle();
  t.is(p.b.counter('ipv4-unknown-protocol'), 1);
  const back = ipFrames(p).filter((f) => f.from === 'b');
  t.is(back.length, 1);
  const m = new IcmpMessage();
  t.is(parseIcmp(back[0].bytes, back[0].h.payloadOffset, back[0].h.payloadLength, m), null);
  t.is(m.type, ICMP_DEST_UNREACHABLE);
  t.is(m.code, 2);
  t.deepEqual(Uint8Array.from(back[0].bytes.subarray(m.originalOffset, m.originalOffset + 28)), pkt.subarray(0, 28));
});

test('packets for another host are dropped (a host does not forward) and counted', (t) => {
  const p = pair();
  inject(p, rawPacket(IPPROTO_ICMP, new Uint8Array(8), { dst: ip('10.0.0.77') }));
  p.lab.runUntilIdle();
  t.is(p.b.counter('ipv4-not-for-us'), 1);
  t.is(ipFrames(p).filter((f) => f.from === 'b').length, 0);
});

test('every malformed packet is counted by its reason and dropped; the stack keeps working', (t) => {
  const p = pair();
  const good = rawPacket(IPPROTO_ICMP, new Uint8Array(8));
  const cases: Array<[string, Uint8Array]> = [];
  cases.push(['ipv4-truncated', good.subarray(0, 12)]);
  const badVersion = good.slice(); badVersion[0] = 0x65; cases.push(['ipv4-bad-version', badVersion]);
  const badIhl = good.slice(); badIhl[0] = 0x44; cases.push(['ipv4-bad-header-length', badIhl]);
  const badTotal = good.slice(); badTotal[2] = 0; badTotal[3] = 10; setIpv4Checksum(badTotal, 0); cases.push(['ipv4-bad-total-length', badTotal]);
  const badSum = good.slice(); badSum[10] ^= 0xff; cases.push(['ipv4-bad-checksum', badSum]);
  // ICMP with a broken checksum.
  const icmp = new Uint8Array(16);
  writeIcmpEchoRequest(icmp, 0, 1, 1, new Uint8Array(8));
  icmp[2] ^= 1;
  cases.push(['icmp-bad-checksum', rawPacket(IPPROTO_ICMP, icmp)]);
  cases.push(['icmp-truncated', rawPacket(IPPROTO_ICMP, new Uint8Array([ICMP_ECHO_REQUEST, 0, 0]))]);
  // TCP: truncated, bad data offset, bad checksum, bad option length, option overrun.
  const seg = new TcpSegment();
  seg.srcPort = 1000; seg.dstPort = 80; seg.seq = 1; seg.flags = TCP_SYN; seg.window = 1000; seg.mss = 1460;
  const tcp = new Uint8Array(24);
  writeTcpHeader(tcp, 0, seg);
  const tcpPacket = (mutate: (b: Uint8Array) => void, fixSum = true): Uint8Array => {
    const pkt = rawPacket(IPPROTO_TCP, tcp);
    mutate(pkt.subarray(20));
    if (fixSum) setTcpChecksum(pkt, 20, pkt.length - 20, ip(A), ip(B));
    return pkt;
  };
  cases.push(['tcp-truncated', rawPacket(IPPROTO_TCP, tcp.subarray(0, 12))]);
  cases.push(['tcp-bad-data-offset', tcpPacket((b) => { b[12] = 0x40; })]);
  cases.push(['tcp-bad-checksum', tcpPacket((b) => { b[16] ^= 0xff; }, false)]);
  cases.push(['tcp-bad-option-length', tcpPacket((b) => { b[21] = 3; })]);
  cases.push(['tcp-option-overrun', tcpPacket((b) => { b[20] = 8; b[21] = 10; })]);
  for (const [reason, pkt] of cases) {
    inject(p, pkt);
    p.lab.runUntilIdle();
    t.is(p.b.counter(reason), 1, reason);
  }
  // No reply went out for any of them, and the stack still answers a ping.
  t.is(ipFrames(p).filter((f) => f.from === 'b').length, 0);
  let replies = 0;
  p.a.ip.onEchoReply = () => replies++;
  p.a.ip.ping(ip(B), 1, 1, new Uint8Array(4));
  p.lab.runUntilIdle();
  t.is(replies, 1);
});

test('malformed drops are traced with their reason', (t) => {
  const p = pair();
  const reasons: string[] = [];
  p.b.tracer.on((ev) => { if (ev.type === 'drop') reasons.push(`${ev.layer}:${ev.reason}`); });
  const bad = rawPacket(IPPROTO_ICMP, new Uint8Array(8));
  bad[10] ^= 1;
  inject(p, bad);
  p.lab.runUntilIdle();
  t.deepEqual(reasons, ['ip:ipv4-bad-checksum']);
});

test('routing: a default route through a gateway host, longest prefix first', (t) => {
  // a -- r -- c : a reaches c's network through its default route; r is the only neighbour.
  const lab = new Lab({ seed: 3 });
  const a = lab.host('a');
  const r = lab.host('r');
  lab.link(a, r, { addressA: '10.0.0.1/24', addressB: '10.0.0.254/24' });
  a.addRoute('0.0.0.0/0', '10.0.0.254');
  t.deepEqual(a.ip.routeTo(ip('192.168.5.5')), { src: ip('10.0.0.1'), mtu: 1500 });
  t.deepEqual(a.ip.routeTo(ip('10.0.0.254')), { src: ip('10.0.0.1'), mtu: 1500 });
  // A more specific route wins over the default.
  const b = lab.host('b');
  lab.link(a, b, { addressA: '10.9.0.1/16', addressB: '10.9.0.2/16', mtu: 9000 });
  t.deepEqual(a.ip.routeTo(ip('10.9.3.3')), { src: ip('10.9.0.1'), mtu: 9000 });
  // The frame for 192.168.5.5 leaves toward r.
  a.ip.ping(ip('192.168.5.5'), 1, 1, new Uint8Array(4));
  lab.runUntilIdle();
  const sent = lab.frames.filter((f) => f.stage === 'send');
  t.is(sent.length, 1);
  t.is(sent[0].link, 'a-r');
  t.is(r.counter('ipv4-not-for-us'), 1);
});

test('a stack talks to itself through its own address', (t) => {
  const p = pair();
  let replies = 0;
  p.a.ip.onEchoReply = () => replies++;
  p.a.ip.ping(ip(A), 1, 1, new Uint8Array(4));
  p.lab.runUntilIdle();
  t.is(replies, 1);
  t.is(ipFrames(p).length, 0);
});

/** An ICMP destination unreachable from b about `original` (a packet a sent), injected at a. */
function icmpUnreachableTo(p: Pair, code: number, original: Uint8Array): void {
  const icmp = new Uint8Array(8 + original.length);
  writeIcmpError(icmp, 0, ICMP_DEST_UNREACHABLE, code, original, 0, original.length);
  const pkt = rawPacket(IPPROTO_ICMP, icmp, { src: ip(B), dst: ip(A) });
  p.lab.links.get('a-b')!.b.send([pkt]);
}

test('ICMP port unreachable for a SYN ends the connect with ECONNREFUSED; host unreachable with EHOSTUNREACH', (t) => {
  for (const [code, expected] of [[3, 'ECONNREFUSED'], [1, 'EHOSTUNREACH'], [0, 'ENETUNREACH']] as const) {
    const p = pair({ link: { delayMs: 5 } });
    p.lab.links.get('a-b')!.set({ aToB: { loss: 1 } });
    const errors: string[] = [];
    p.a.tcp.connect({ remoteAddress: ip(B), remotePort: 80 }, { onClose: (_c, err) => errors.push(err?.code ?? 'none') });
    p.lab.run(1);
    const syn = ipFrames(p).find((f) => f.from === 'a')!;
    icmpUnreachableTo(p, code, syn.bytes);
    p.lab.run(100);
    t.deepEqual(errors, [expected]);
  }
});

test('ICMP errors quoting a sequence number not outstanding are ignored (RFC 5927)', (t) => {
  const p = pair({ link: { delayMs: 5 } });
  p.lab.links.get('a-b')!.set({ aToB: { loss: 1 } });
  const errors: string[] = [];
  p.a.tcp.connect({ remoteAddress: ip(B), remotePort: 80 }, { onClose: (_c, err) => errors.push(err?.code ?? 'none') });
  p.lab.run(1);
  const syn = copyBytes(ipFrames(p).find((f) => f.from === 'a')!.bytes); // not slice(): the recorded frame is a Buffer
  syn[24] ^= 0x80; // a different sequence number in the quoted TCP header
  icmpUnreachableTo(p, 3, syn);
  p.lab.run(100);
  t.deepEqual(errors, []);
});

test('on an established connection ICMP unreachable is a soft error, named when the connection times out', (t) => {
  const p = pair({ link: { delayMs: 5 }, configA: { tcp: { dataRetries: 3 } } });
  const errors: string[] = [];
  p.b.tcp.listen({ port: 80 }, { onConnection(c) { c.attach({}); } });
  const conn = p.a.tcp.connect({ remoteAddress: ip(B), remotePort: 80 }, { onClose: (_c, err) => errors.push(err?.code ?? 'none') });
  p.lab.run(100);
  p.lab.links.get('a-b')!.set({ aToB: { loss: 1 } });
  const before = p.lab.frames.length;
  conn.send(new Uint8Array(100));
  p.lab.run(1);
  const data = p.lab.frames.slice(before).find((f) => f.stage === 'send' && f.from === 'a')!;
  icmpUnreachableTo(p, 1, data.bytes);
  p.lab.run(50);
  t.is(conn.state, 'ESTABLISHED');
  p.lab.runUntilIdle();
  t.deepEqual(errors, ['EHOSTUNREACH']);
});

test('on a 64 KiB-MTU loopback the MSS is 65495 (an IPv4 datagram holds at most 65535 bytes), and a large transfer completes', (t) => {
  const lab = new Lab({ seed: 1 });
  const a = lab.host('a');
  const lo = new LoopbackDevice(lab.clock, { mtu: 65536 });
  a.addInterface(lo, { address: '127.0.0.1/8' });
  let got = 0;
  a.tcp.listen({ port: 9 }, { onConnection(c) { c.attach({ onReadable(c) { let x; while ((x = c.read()) !== null) got += x.length; } }); } });
  const conn = a.tcp.connect({ remoteAddress: ip('127.0.0.1'), remotePort: 9 }, { onConnect(c) { c.send(new Uint8Array(1_000_000)); } });
  lab.runUntilIdle();
  t.is(conn.sndMss, 65495);
  t.is(got, 1_000_000);
  t.is(a.counter('ipv4-bad-total-length'), 0);
});
