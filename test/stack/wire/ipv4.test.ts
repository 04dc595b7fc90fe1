import test from 'ava';
import {
  IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, Ipv4Header, decrementIpv4Ttl, formatIpv4, parseCidr, parseIpv4,
  parseIpv4Address, prefixMask, setIpv4Checksum, writeIpv4Header,
} from '../../../stack/wire/ipv4';
import { checksumValid, internetChecksum } from '../../../stack/wire/checksum';
import {
  FRAGMENT_2, FRAGMENT_3, ICMP_ECHO_REPLY, ICMP_PORT_UNREACHABLE, SYN, hex,
} from './linux-captures';

const LO = 0x7f000001;

test('parses a real Linux SYN header', (t) => {
  const h = new Ipv4Header();
  t.is(parseIpv4(SYN.bytes, h), null);
  t.like(h, {
    version: 4, headerLength: 20, tos: 0, totalLength: 60, id: 62447, dontFragment: true, moreFragments: false,
    fragmentOffset: 0, ttl: 64, protocol: IPPROTO_TCP, checksum: 0x48ca, src: LO, dst: LO,
    headerOffset: 0, payloadOffset: 20, payloadLength: 40,
  });
  t.false(h.isFragment);
});

test('parses real Linux fragments: offset in bytes, MF', (t) => {
  const h = new Ipv4Header();
  t.is(parseIpv4(FRAGMENT_2.bytes, h), null);
  t.like(h, { id: 46296, moreFragments: true, dontFragment: false, fragmentOffset: 1480, protocol: IPPROTO_UDP, payloadLength: 1480 });
  t.true(h.isFragment);
  t.is(parseIpv4(FRAGMENT_3.bytes, h), null);
  t.like(h, { moreFragments: false, fragmentOffset: 2960, payloadLength: 48 });
  t.true(h.isFragment);
});

test('parses a real ICMP error with TOS 0xc0 and no DF', (t) => {
  const h = new Ipv4Header();
  t.is(parseIpv4(ICMP_PORT_UNREACHABLE.bytes, h), null);
  t.like(h, { tos: 0xc0, dontFragment: false, protocol: IPPROTO_ICMP, totalLength: 71, payloadLength: 51 });
});

test('bytes beyond the total length (Ethernet padding) are not payload', (t) => {
  const padded = new Uint8Array(SYN.bytes.length + 6);
  padded.set(SYN.bytes);
  const h = new Ipv4Header();
  t.is(parseIpv4(padded, h), null);
  t.is(h.payloadLength, 40);
  t.is(h.totalLength, 60);
});

test('parses at an offset inside a larger buffer (e.g. after an Ethernet header)', (t) => {
  const frame = new Uint8Array(14 + SYN.bytes.length);
  frame.set(SYN.bytes, 14);
  const h = new Ipv4Header();
  t.is(parseIpv4(frame, h, true, 14), null);
  t.is(h.headerOffset, 14);
  t.is(h.payloadOffset, 34);
  t.is(h.payloadLength, 40);
  t.is(parseIpv4(frame, h, true, 14, 30), 'ipv4-truncated');
});

test('options are skipped by IHL', (t) => {
  const b = new Uint8Array(32);
  writeIpv4Header(b, 0, 32, 1, false, 64, IPPROTO_UDP, 0x0a000001, 0x0a000002);
  b.copyWithin(24, 20, 28);
  b[0] = 0x46; // IHL 6: one 4-byte option word
  b.set([0x94, 0x04, 0x00, 0x00], 20); // router alert (RFC 2113)
  setIpv4Checksum(b, 0);
  const h = new Ipv4Header();
  t.is(parseIpv4(b, h), null);
  t.is(h.headerLength, 24);
  t.is(h.payloadOffset, 24);
  t.is(h.payloadLength, 8);
});

test('writeIpv4Header reproduces real Linux headers byte for byte (positional form)', (t) => {
  const b = new Uint8Array(20);
  t.is(writeIpv4Header(b, 0, 60, 62447, true, 64, IPPROTO_TCP, LO, LO), 20);
  t.deepEqual(b, SYN.bytes.subarray(0, 20));
  writeIpv4Header(b, 0, 68, 43493, false, 64, IPPROTO_ICMP, LO, LO);
  t.deepEqual(b, ICMP_ECHO_REPLY.bytes.subarray(0, 20));
  writeIpv4Header(b, 0, 71, 43501, false, 64, IPPROTO_ICMP, LO, LO, 0xc0);
  t.deepEqual(b, ICMP_PORT_UNREACHABLE.bytes.subarray(0, 20));
  writeIpv4Header(b, 0, 1500, 46296, false, 64, IPPROTO_UDP, LO, LO, 0, true, 1480);
  t.deepEqual(b, FRAGMENT_2.bytes.subarray(0, 20));
});

test('writeIpv4Header record form: a parsed header written back is identical', (t) => {
  for (const c of [SYN, FRAGMENT_2, FRAGMENT_3, ICMP_PORT_UNREACHABLE]) {
    const h = new Ipv4Header();
    t.is(parseIpv4(c.bytes, h), null);
    const b = new Uint8Array(24);
    t.is(writeIpv4Header(b, 4, h), 20);
    t.deepEqual(b.subarray(4), c.bytes.subarray(0, 20));
  }
  const b = new Uint8Array(20);
  writeIpv4Header(b, 0, { totalLength: 40, id: 7, dontFragment: false, ttl: 1, protocol: 6, src: 0xffffffff, dst: 0x80000000 });
  const h = new Ipv4Header();
  t.is(parseIpv4(b, h, true, 0, 20), 'ipv4-truncated'); // total length 40 > 20 bytes given
  const full = new Uint8Array(40);
  full.set(b);
  t.is(parseIpv4(full, h), null);
  t.like(h, { src: 0xffffffff, dst: 0x80000000, ttl: 1, tos: 0, moreFragments: false, fragmentOffset: 0 });
});

test('drop: shorter than 20 bytes', (t) => {
  t.is(parseIpv4(SYN.bytes.subarray(0, 19), new Ipv4Header()), 'ipv4-truncated');
  t.is(parseIpv4(new Uint8Array(0), new Ipv4Header()), 'ipv4-truncated');
});

test('drop: version not 4', (t) => {
  const b = SYN.bytes.slice();
  b[0] = 0x65;
  t.is(parseIpv4(b, new Ipv4Header()), 'ipv4-bad-version');
});

test('drop: IHL below 5', (t) => {
  const b = SYN.bytes.slice();
  b[0] = 0x44;
  t.is(parseIpv4(b, new Ipv4Header()), 'ipv4-bad-header-length');
});

test('drop: header longer than the buffer', (t) => {
  const b = SYN.bytes.slice(0, 40);
  b[0] = 0x4f; // 60-byte header in a 40-byte buffer
  t.is(parseIpv4(b, new Ipv4Header(), false), 'ipv4-truncated');
});

test('drop: total length below the header length', (t) => {
  const b = SYN.bytes.slice();
  b[2] = 0;
  b[3] = 19;
  setIpv4Checksum(b);
  t.is(parseIpv4(b, new Ipv4Header()), 'ipv4-bad-total-length');
});

test('drop: total length beyond the buffer', (t) => {
  const b = SYN.bytes.slice(0, 59);
  t.is(parseIpv4(b, new Ipv4Header()), 'ipv4-truncated');
});

test('drop: bad header checksum, unless verification is off', (t) => {
  const b = SYN.bytes.slice();
  b[8] = 63; // TTL changed, checksum not
  t.is(parseIpv4(b, new Ipv4Header()), 'ipv4-bad-checksum');
  t.is(parseIpv4(b, new Ipv4Header(), false), null);
});

test('decrementIpv4Ttl updates the checksum incrementally (RFC 1624), equal to recomputation', (t) => {
  const b = SYN.bytes.slice();
  for (let ttl = 63; ttl >= 0; ttl--) {
    t.is(decrementIpv4Ttl(b), ttl);
    t.true(checksumValid(b, 0, 20));
    const copy = b.slice(0, 20);
    copy[10] = 0;
    copy[11] = 0;
    t.is((b[10] << 8) | b[11], internetChecksum(copy, 0, 20));
  }
  t.is(decrementIpv4Ttl(b), 0);
});

test('formatIpv4 and parseIpv4Address', (t) => {
  t.is(formatIpv4(LO), '127.0.0.1');
  t.is(formatIpv4(0xffffffff), '255.255.255.255');
  t.is(formatIpv4(0), '0.0.0.0');
  t.is(parseIpv4Address('255.255.255.255'), 0xffffffff);
  t.is(parseIpv4Address('192.168.1.20'), 0xc0a80114);
  t.is(parseIpv4Address('0.0.0.0'), 0);
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.-4', ' 1.2.3.4', '1.2.3.4 ', '1..2.3', 'a.b.c.d', '1.2.3.0x4', '1e2.1.1.1']) {
    t.throws(() => parseIpv4Address(bad), { instanceOf: TypeError }, bad);
  }
});

test('parseCidr and prefixMask', (t) => {
  t.deepEqual(parseCidr('10.0.0.1/24'), { address: 0x0a000001, prefixLength: 24 });
  t.deepEqual(parseCidr('0.0.0.0/0'), { address: 0, prefixLength: 0 });
  t.deepEqual(parseCidr('255.255.255.255/32'), { address: 0xffffffff, prefixLength: 32 });
  for (const bad of ['10.0.0.1', '10.0.0.1/33', '10.0.0.1/', '10.0.0.1/024', '10.0.0/8', '10.0.0.1/-1', '10.0.0.1/8/8']) {
    t.throws(() => parseCidr(bad), { instanceOf: TypeError }, bad);
  }
  t.is(prefixMask(0), 0);
  t.is(prefixMask(8), 0xff000000);
  t.is(prefixMask(24), 0xffffff00);
  t.is(prefixMask(32), 0xffffffff);
});

test('hex helper sanity', (t) => {
  t.deepEqual(hex('00 ff\n10'), Uint8Array.from([0, 255, 16]));
});
