// 10,000 random and mutated buffers through every parser: nothing may throw,
// and whatever a parser accepts must describe ranges inside the buffer.

import test from 'ava';
import { Ipv4Header, parseIpv4 } from '../../../stack/wire/ipv4';
import { IcmpMessage, parseIcmp } from '../../../stack/wire/icmp';
import { TcpSegment, parseTcp, setTcpChecksum, writeTcpHeader } from '../../../stack/wire/tcp';
import { EthernetHeader, parseEthernet } from '../../../stack/wire/ethernet';
import { ArpPacket, parseArp } from '../../../stack/wire/arp';
import { fragmentIpv4 } from '../../../stack/ip/fragment';
import { Reassembler } from '../../../stack/ip/reassembly';
import * as captures from './linux-captures';
import { hex } from './linux-captures';
import { rng } from '../../helpers/rng';


const seeds: Uint8Array[] = [
  ...Object.values(captures).flatMap((c) => (typeof c === 'function' ? [] : [c.bytes])),
  hex('0001 0800 06 04 0001 02000000000a 0a000001 000000000000 0a000002'),
];

function mutate(next: () => number): Uint8Array {
  const kind = next() % 6;
  if (kind === 0) {
    const b = new Uint8Array(next() % 120);
    for (let i = 0; i < b.length; i++) b[i] = next() & 0xff;
    if (b.length > 0 && (next() & 1) === 1) b[0] = 0x40 | (b[0] & 0x0f); // version 4 more often
    return b;
  }
  const seed = seeds[next() % seeds.length];
  let b = seed.slice();
  const flips = 1 + (next() % 6);
  for (let k = 0; k < flips && b.length > 0; k++) {
    const at = next() % b.length;
    if (kind === 1) b[at] ^= 1 << (next() % 8);
    else b[at] = next() & 0xff;
  }
  if (kind === 3) b = b.slice(0, next() % (b.length + 1));
  if (kind === 4) {
    const longer = new Uint8Array(b.length + (next() % 40));
    longer.set(b);
    b = longer;
  }
  if (kind === 5 && b.length > 40) {
    // Aim at the TCP options area and the length fields.
    const at = [0, 2, 3, 32, 33, 40, 41, 42, 43, 44, 45][next() % 11];
    if (at < b.length) b[at] = next() & 0xff;
  }
  return b;
}

test('10,000 random and mutated buffers: no parser throws, accepted packets stay within bounds', (t) => {
  const next = rng(0xc0ffee);
  const ip = new Ipv4Header();
  const icmp = new IcmpMessage();
  const seg = new TcpSegment();
  const seg2 = new TcpSegment();
  const eth = new EthernetHeader();
  const arp = new ArpPacket();
  let now = 0;
  const reassembler = new Reassembler({ now: () => now, maxBytes: 64 * 1024 });
  const out = new Uint8Array(100);
  let accepted = 0;
  let tcpAccepted = 0;
  for (let i = 0; i < 10000; i++) {
    const b = mutate(next);
    const where = `case ${i}`;
    try {
      parseEthernet(b, eth);
      parseArp(b, 0, b.length, arp);
      parseIcmp(b, 0, b.length, icmp);
      parseTcp(b, 0, b.length, 1, 2, seg, (next() & 1) === 1);
      parseIpv4(b, ip, true);
      if (parseIpv4(b, ip, false) !== null) continue;
      accepted++;
      t.true(ip.payloadOffset + ip.payloadLength <= b.length, where);
      if (parseIcmp(b, ip.payloadOffset, ip.payloadLength, icmp, false) === null && icmp.originalOffset >= 0) {
        t.true(icmp.originalOffset + icmp.originalLength <= b.length, where);
      }
      if (parseTcp(b, ip.payloadOffset, ip.payloadLength, ip.src, ip.dst, seg, false) === null) {
        tcpAccepted++;
        t.true(seg.headerLength >= 20 && seg.headerLength <= 60, where);
        t.true(seg.payloadOffset + seg.payloadLength <= b.length, where);
        t.true(seg.sackCount <= 4 && seg.windowScale <= 14, where);
        // What was parsed can be written and parses back the same (options re-emitted in Linux order).
        const hl = writeTcpHeader(out, 0, seg);
        setTcpChecksum(out, 0, hl, 1, 2);
        t.is(parseTcp(out, 0, hl, 1, 2, seg2), null, where);
        t.like(seg2, {
          srcPort: seg.srcPort, seq: seg.seq, ack: seg.ack, flags: seg.flags, window: seg.window, mss: seg.mss,
          windowScale: seg.windowScale, sackPermitted: seg.sackPermitted, hasTimestamps: seg.hasTimestamps,
          tsVal: seg.tsVal, tsEcr: seg.tsEcr,
        }, where);
      }
      const frags = fragmentIpv4(b, 68 + (next() % 1500));
      if (typeof frags !== 'string') for (const f of frags) t.true(f.length <= Math.max(68 + 1500, ip.totalLength), where);
      if (ip.isFragment) {
        now += 100;
        reassembler.input(ip, b);
        t.true(reassembler.bytesHeld <= 64 * 1024, where);
      }
    } catch (e) {
      t.fail(`${where} threw ${String(e)} for ${Buffer.from(b).toString('hex')}`);
      return;
    }
  }
  reassembler.expire();
  // The mutations must reach deep: many packets get through the IP parser and into TCP option parsing.
  t.true(accepted > 2000, `accepted ${accepted}`);
  t.true(tcpAccepted > 500, `tcp accepted ${tcpAccepted}`);
});
