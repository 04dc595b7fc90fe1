import test from 'ava';
import {
  ICMP_DEST_UNREACHABLE, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, ICMP_ERROR_MAX_QUOTE, ICMP_FRAG_NEEDED,
  ICMP_FRAG_REASSEMBLY_EXCEEDED, ICMP_HOST_UNREACHABLE, ICMP_PARAMETER_PROBLEM, ICMP_PORT_UNREACHABLE,
  ICMP_TIME_EXCEEDED, ICMP_TTL_EXCEEDED, IcmpMessage, icmpErrorLength, isIcmpError, parseIcmp,
  writeIcmpDestUnreachable, writeIcmpEchoReply, writeIcmpEchoRequest, writeIcmpError, writeIcmpTimeExceeded,
} from '../../../stack/wire/icmp';
import { IPPROTO_ICMP, writeIpv4Header } from '../../../stack/wire/ipv4';
import { checksumValid } from '../../../stack/wire/checksum';
import {
  ICMP_ECHO_REPLY as REPLY, ICMP_ECHO_REQUEST as REQUEST, ICMP_PORT_UNREACHABLE as UNREACH,
  ICMP_PORT_UNREACHABLE_576 as UNREACH_576, UDP_PROBE,
} from './linux-captures';

const LO = 0x7f000001;

test('parses a real Linux echo request and reply', (t) => {
  const m = new IcmpMessage();
  t.is(parseIcmp(REQUEST.bytes, 20, 48, m), null);
  t.like(m, {
    type: ICMP_ECHO_REQUEST, code: 0, checksum: 0x6d62, id: 0xcbc9, sequence: 1, offset: 20, length: 48,
    dataOffset: 28, dataLength: 40, originalOffset: -1, originalLength: 0, mtu: 0,
  });
  t.is(REQUEST.bytes[m.dataOffset], 0x10);
  t.is(parseIcmp(REPLY.bytes, 20, 48, m), null);
  t.like(m, { type: ICMP_ECHO_REPLY, id: 0xcbc9, sequence: 1, dataLength: 40 });
});

test('writeIcmpEchoReply builds exactly the reply Linux sent', (t) => {
  const out = new Uint8Array(48);
  t.is(writeIcmpEchoReply(out, 0, REQUEST.bytes, 20, 48), 48);
  t.deepEqual(out, REPLY.bytes.subarray(20));
  // In place, in the request's own buffer.
  const inPlace = REQUEST.bytes.slice();
  writeIcmpEchoReply(inPlace, 20, inPlace, 20, 48);
  t.deepEqual(inPlace.subarray(20), REPLY.bytes.subarray(20));
  // Overlapping ranges of one buffer.
  const shifted = new Uint8Array(100);
  shifted.set(REQUEST.bytes.subarray(20), 10);
  writeIcmpEchoReply(shifted, 14, shifted, 10, 48);
  t.deepEqual(shifted.subarray(14, 62), REPLY.bytes.subarray(20));
});

test('writeIcmpEchoRequest builds exactly the request Linux sent', (t) => {
  const data = REQUEST.bytes.slice(28);
  const out = new Uint8Array(48);
  t.is(writeIcmpEchoRequest(out, 0, 0xcbc9, 1, data), 48);
  t.deepEqual(out, REQUEST.bytes.subarray(20));
  const big = new Uint8Array(60);
  t.is(writeIcmpEchoRequest(big, 4, 0xcbc9, 1, REQUEST.bytes, 28, 40), 48);
  t.deepEqual(big.subarray(4, 52), REQUEST.bytes.subarray(20));
});

test('parses a real port unreachable and locates the quoted datagram', (t) => {
  const m = new IcmpMessage();
  t.is(parseIcmp(UNREACH.bytes, 20, 51, m), null);
  t.like(m, { type: ICMP_DEST_UNREACHABLE, code: ICMP_PORT_UNREACHABLE, originalOffset: 28, originalLength: 43, rest: 0 });
  t.deepEqual(UNREACH.bytes.subarray(m.originalOffset, m.originalOffset + m.originalLength), UDP_PROBE.bytes);
});

test('writeIcmpDestUnreachable + writeIpv4Header rebuild the real port unreachable byte for byte', (t) => {
  const out = new Uint8Array(71);
  const n = writeIcmpDestUnreachable(out, 20, ICMP_PORT_UNREACHABLE, UDP_PROBE.bytes, 0, UDP_PROBE.bytes.length);
  t.is(n, 51);
  t.is(icmpErrorLength(43), 51);
  writeIpv4Header(out, 0, 20 + n, 43501, false, 64, IPPROTO_ICMP, LO, LO, 0xc0);
  t.deepEqual(out, UNREACH.bytes);
});

test('errors quote at most 548 bytes, so the datagram is 576 bytes, as Linux', (t) => {
  // The quote Linux put in its 576-byte error, followed by the rest of a 3028-byte original.
  const original = new Uint8Array(3028);
  original.set(UNREACH_576.bytes.subarray(28));
  original.fill(0xaa, 548);
  t.is(icmpErrorLength(original.length), 8 + ICMP_ERROR_MAX_QUOTE);
  t.is(ICMP_ERROR_MAX_QUOTE, 548);
  const out = new Uint8Array(576);
  const n = writeIcmpDestUnreachable(out, 20, ICMP_PORT_UNREACHABLE, original, 0, original.length);
  t.is(n, 556);
  t.deepEqual(out.subarray(20), UNREACH_576.bytes.subarray(20));
  const m = new IcmpMessage();
  t.is(parseIcmp(UNREACH_576.bytes, 20, 556, m), null);
  t.is(m.originalLength, 548);
});

test('frag-needed carries the next-hop MTU (RFC 1191)', (t) => {
  const out = new Uint8Array(100);
  const n = writeIcmpDestUnreachable(out, 0, ICMP_FRAG_NEEDED, UDP_PROBE.bytes, 0, 43, 1400);
  t.is(n, 51);
  t.true(checksumValid(out, 0, n));
  const m = new IcmpMessage();
  t.is(parseIcmp(out, 0, n, m), null);
  t.like(m, { type: ICMP_DEST_UNREACHABLE, code: ICMP_FRAG_NEEDED, mtu: 1400, originalOffset: 8 });
  // Other codes leave the rest word zero.
  writeIcmpDestUnreachable(out, 0, ICMP_HOST_UNREACHABLE, UDP_PROBE.bytes, 0, 43, 1400);
  t.is(parseIcmp(out, 0, n, m), null);
  t.like(m, { code: ICMP_HOST_UNREACHABLE, mtu: 0, rest: 0 });
});

test('time exceeded round trip, both codes', (t) => {
  for (const code of [ICMP_TTL_EXCEEDED, ICMP_FRAG_REASSEMBLY_EXCEEDED]) {
    const out = new Uint8Array(64);
    const n = writeIcmpTimeExceeded(out, 2, code, UDP_PROBE.bytes, 0, 43);
    const m = new IcmpMessage();
    t.is(parseIcmp(out, 2, n, m), null);
    t.like(m, { type: ICMP_TIME_EXCEEDED, code, originalOffset: 10, originalLength: 43 });
  }
});

test('parameter problem exposes its pointer', (t) => {
  const out = new Uint8Array(64);
  const n = writeIcmpError(out, 0, ICMP_PARAMETER_PROBLEM, 0, UDP_PROBE.bytes, 0, 43, 9 << 24);
  const m = new IcmpMessage();
  t.is(parseIcmp(out, 0, n, m), null);
  t.is(m.pointer, 9);
});

test('isIcmpError', (t) => {
  t.true(isIcmpError(3));
  t.true(isIcmpError(11));
  t.true(isIcmpError(12));
  t.false(isIcmpError(0));
  t.false(isIcmpError(8));
});

test('drop: shorter than the 8-byte header', (t) => {
  t.is(parseIcmp(REQUEST.bytes, 20, 7, new IcmpMessage()), 'icmp-truncated');
  t.is(parseIcmp(REQUEST.bytes, 20, 49, new IcmpMessage()), 'icmp-truncated'); // runs past the buffer
});

test('drop: bad ICMP checksum', (t) => {
  const b = REQUEST.bytes.slice();
  b[40] ^= 1;
  t.is(parseIcmp(b, 20, 48, new IcmpMessage()), 'icmp-bad-checksum');
  t.is(parseIcmp(b, 20, 48, new IcmpMessage(), false), null);
});

test('drop: an error quoting less than an IP header plus 8 bytes', (t) => {
  const out = new Uint8Array(64);
  let n = writeIcmpDestUnreachable(out, 0, ICMP_PORT_UNREACHABLE, UDP_PROBE.bytes, 0, 27);
  t.is(parseIcmp(out, 0, n, new IcmpMessage()), 'icmp-bad-quote');
  const notIp = UDP_PROBE.bytes.slice();
  notIp[0] = 0x60;
  n = writeIcmpDestUnreachable(out, 0, ICMP_PORT_UNREACHABLE, notIp, 0, 43);
  t.is(parseIcmp(out, 0, n, new IcmpMessage()), 'icmp-bad-quote');
  const longHeader = UDP_PROBE.bytes.slice();
  longHeader[0] = 0x4f; // a 60-byte header cannot fit in 43 bytes with 8 more
  n = writeIcmpDestUnreachable(out, 0, ICMP_PORT_UNREACHABLE, longHeader, 0, 43);
  t.is(parseIcmp(out, 0, n, new IcmpMessage()), 'icmp-bad-quote');
});
