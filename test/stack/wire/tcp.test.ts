import test from 'ava';
import {
  TCP_ACK, TCP_CWR, TCP_ECE, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG, TcpSegment, formatTcpFlags, parseTcp,
  setTcpChecksum, tcpOptionsLength, writeTcpHeader,
} from '../../../stack/wire/tcp';
import { internetChecksum } from '../../../stack/wire/checksum';
import type { Capture } from './linux-captures';
import * as cap from './linux-captures';
import { hex } from './linux-captures';

const LO = 0x7f000001;

/** What a NIC does with an offloaded checksum: sum the segment as it is (the field holds the pseudo-header sum) and store the complement. */
function completeOffload(c: Capture): Uint8Array {
  const b = c.bytes.slice();
  if (c.offloaded) {
    const sum = internetChecksum(b, 20, b.length - 20);
    b[36] = sum >>> 8;
    b[37] = sum & 0xff;
  }
  return b;
}

function parse(c: Capture): TcpSegment {
  const seg = new TcpSegment();
  const b = completeOffload(c);
  const reason = parseTcp(b, 20, b.length - 20, LO, LO, seg);
  if (reason !== null) throw new Error(reason);
  return seg;
}

const tcpCaptures: Array<[string, Capture, string]> = [
  ['SYN', cap.SYN, 'S'], ['SYN_ACK', cap.SYN_ACK, 'S.'], ['ACK', cap.ACK, '.'], ['DATA_PSH', cap.DATA_PSH, 'P.'],
  ['DATA_PSH_REPLY', cap.DATA_PSH_REPLY, 'P.'], ['FIN', cap.FIN, 'F.'], ['TIME_WAIT_ACK', cap.TIME_WAIT_ACK, '.'],
  ['RST_ACK_REFUSED', cap.RST_ACK_REFUSED, 'R.'], ['RST_ACK_ABORT', cap.RST_ACK_ABORT, 'R.'], ['RST', cap.RST, 'R'],
  ['SYN_NO_TS', cap.SYN_NO_TS, 'S'], ['SYN_ACK_NO_TS', cap.SYN_ACK_NO_TS, 'S.'], ['FIN_NO_TS', cap.FIN_NO_TS, 'F.'],
];

test('real offloaded Linux segments fail verification as captured, and pass once the checksum is completed to the value tcpdump computed', (t) => {
  for (const [name, c] of tcpCaptures) {
    const seg = new TcpSegment();
    const stored = (c.bytes[36] << 8) | c.bytes[37];
    const expected = c.offloaded ? c.tcpdumpChecksum ?? -1 : stored;
    if (c.offloaded) {
      t.is(parseTcp(c.bytes, 20, c.bytes.length - 20, LO, LO, seg), 'tcp-bad-checksum', name);
      const b = completeOffload(c);
      t.is((b[36] << 8) | b[37], expected, name);
    }
    t.is(parse(c).checksum, expected, name);
  }
});

test('parses a real Linux SYN: MSS, SACK-permitted, timestamps, window scale', (t) => {
  const s = parse(cap.SYN);
  t.like(s, {
    srcPort: 49738, dstPort: 5000, seq: 1508470574, ack: 0, headerLength: 40, flags: TCP_SYN, window: 64240,
    urgentPointer: 0, mss: 1460, windowScale: 10, sackPermitted: true, hasTimestamps: true, tsVal: 87567698, tsEcr: 0,
    sackCount: 0, payloadOffset: 60, payloadLength: 0,
  });
});

test('parses a real Linux SYN-ACK', (t) => {
  const s = parse(cap.SYN_ACK);
  t.like(s, {
    srcPort: 5000, dstPort: 49738, seq: 3430220130, ack: 1508470575, flags: TCP_SYN | TCP_ACK, window: 65160,
    mss: 1460, windowScale: 10, sackPermitted: true, hasTimestamps: true, tsVal: 208310609, tsEcr: 87567698,
  });
});

test('parses real Linux data with PSH', (t) => {
  const s = parse(cap.DATA_PSH);
  t.like(s, {
    seq: 1508470575, ack: 3430220131, flags: TCP_PSH | TCP_ACK, window: 63, headerLength: 32, mss: -1, windowScale: -1,
    sackPermitted: false, hasTimestamps: true, tsVal: 87567699, tsEcr: 208310609, payloadOffset: 52, payloadLength: 13,
  });
  t.is(Buffer.from(cap.DATA_PSH.bytes.subarray(s.payloadOffset, s.payloadOffset + s.payloadLength)).toString(), 'hello tcplab\n');
});

test('parses real Linux FIN and RSTs', (t) => {
  t.like(parse(cap.FIN), { flags: TCP_FIN | TCP_ACK, seq: 1508470588, ack: 3430220137, payloadLength: 0 });
  t.like(parse(cap.RST), { flags: TCP_RST, seq: 305419896, ack: 0, window: 0, headerLength: 20, hasTimestamps: false });
  t.like(parse(cap.RST_ACK_REFUSED), { flags: TCP_RST | TCP_ACK, seq: 0, ack: 1444867389, window: 0 });
  t.like(parse(cap.RST_ACK_ABORT), { flags: TCP_RST | TCP_ACK, hasTimestamps: true });
  t.like(parse(cap.SYN_NO_TS), { mss: 1460, sackPermitted: true, windowScale: 10, hasTimestamps: false, headerLength: 32 });
});

test('formatTcpFlags renders every real segment as tcpdump did', (t) => {
  for (const [name, c, flags] of tcpCaptures) t.is(formatTcpFlags(parse(c).flags), flags, name);
  t.is(formatTcpFlags(0), 'none');
  t.is(formatTcpFlags(TCP_SYN | TCP_ECE | TCP_CWR), 'SEW');
  t.is(formatTcpFlags(TCP_SYN | TCP_ACK | TCP_ECE), 'S.E');
  t.is(formatTcpFlags(0xff), 'FSRP.UEW');
  t.is(formatTcpFlags(TCP_FIN | TCP_PSH | TCP_URG), 'FPU');
});

test('writeTcpHeader + setTcpChecksum rebuild real Linux segments byte for byte (option order and padding included)', (t) => {
  for (const [name, c] of tcpCaptures) {
    const seg = parse(c);
    const expected = completeOffload(c).subarray(20);
    const out = new Uint8Array(expected.length);
    t.is(tcpOptionsLength(seg), seg.headerLength - 20, name);
    const hl = writeTcpHeader(out, 0, seg);
    t.is(hl, seg.headerLength, name);
    t.is((out[16] << 8) | out[17], 0, `${name}: checksum left zero`);
    out.set(c.bytes.subarray(20 + hl), hl);
    setTcpChecksum(out, 0, out.length, LO, LO);
    t.deepEqual(out, expected, name);
  }
});

test('SYN option layouts: with TS MSS,SACK_PERM,TS,NOP,WSCALE; without TS MSS,NOP,NOP,SACK_PERM,NOP,WSCALE', (t) => {
  const seg = new TcpSegment();
  seg.flags = TCP_SYN;
  seg.mss = 1460;
  seg.sackPermitted = true;
  seg.hasTimestamps = true;
  seg.tsVal = 0x01020304;
  seg.windowScale = 7;
  const out = new Uint8Array(60);
  t.is(writeTcpHeader(out, 0, seg), 40);
  t.deepEqual(out.subarray(20, 40), hex('020405b4 0402080a 01020304 00000000 01030307'));
  seg.hasTimestamps = false;
  t.is(writeTcpHeader(out, 0, seg), 32);
  t.deepEqual(out.subarray(20, 32), hex('020405b4 01010402 01030307'));
  t.is(out[12], 8 << 4);
});

test('SACK blocks follow the timestamps (NOP,NOP,SACK); 3 fit beside TS, 4 without', (t) => {
  const seg = new TcpSegment();
  seg.flags = TCP_ACK;
  seg.hasTimestamps = true;
  seg.tsVal = 5;
  seg.tsEcr = 6;
  seg.sackCount = 4;
  seg.sackBlocks.set([100, 200, 300, 400, 0xfffffff0, 0x10, 7, 8]);
  t.is(tcpOptionsLength(seg), 12 + 4 + 24);
  const out = new Uint8Array(60);
  t.is(writeTcpHeader(out, 0, seg), 60);
  t.deepEqual(out.subarray(20, 36), hex('0101080a 00000005 00000006 0101051a'));
  setTcpChecksum(out, 0, 60, 1, 2);
  const back = new TcpSegment();
  t.is(parseTcp(out, 0, 60, 1, 2, back), null);
  t.is(back.sackCount, 3);
  t.deepEqual([...back.sackBlocks.subarray(0, 6)], [100, 200, 300, 400, 0xfffffff0, 0x10]);
  seg.hasTimestamps = false;
  t.is(tcpOptionsLength(seg), 36);
  t.is(writeTcpHeader(out, 0, seg), 56);
  setTcpChecksum(out, 0, 56, 1, 2);
  t.is(parseTcp(out, 0, 56, 1, 2, back), null);
  t.is(back.sackCount, 4);
  t.false(back.hasTimestamps);
  t.deepEqual([...back.sackBlocks], [100, 200, 300, 400, 0xfffffff0, 0x10, 7, 8]);
});

test('round trip of every field, unsigned 32-bit sequence numbers and payload', (t) => {
  const seg = new TcpSegment();
  Object.assign(seg, {
    srcPort: 65535, dstPort: 1, seq: 0xfffffffe, ack: 0x80000000, flags: TCP_ACK | TCP_PSH | TCP_URG, window: 0xffff,
    urgentPointer: 3, hasTimestamps: true, tsVal: 0xffffffff, tsEcr: 0x80000001,
  });
  const out = new Uint8Array(32 + 5);
  const hl = writeTcpHeader(out, 0, seg);
  out.set([1, 2, 3, 4, 5], hl);
  setTcpChecksum(out, 0, out.length, 0x0a000001, 0xc0a80001);
  const back = new TcpSegment();
  t.is(parseTcp(out, 0, out.length, 0x0a000001, 0xc0a80001, back), null);
  t.like(back, {
    srcPort: 65535, dstPort: 1, seq: 0xfffffffe, ack: 0x80000000, flags: TCP_ACK | TCP_PSH | TCP_URG, window: 0xffff,
    urgentPointer: 3, tsVal: 0xffffffff, tsEcr: 0x80000001, payloadOffset: 32, payloadLength: 5, mss: -1, windowScale: -1,
  });
  // Wrong addresses in the pseudo-header.
  t.is(parseTcp(out, 0, out.length, 0x0a000001, 0xc0a80002, back), 'tcp-bad-checksum');
});

test('clear() resets every field', (t) => {
  const s = parse(cap.SYN);
  s.sackCount = 2;
  s.sackBlocks[0] = 9;
  s.clear();
  const fresh = new TcpSegment();
  t.deepEqual({ ...s, sackBlocks: [...s.sackBlocks] }, { ...fresh, sackBlocks: [...fresh.sackBlocks] });
});

/** A segment with the given option bytes (padded to 4) and a correct checksum. */
function withOptions(options: number[], dataOffsetWords?: number): Uint8Array {
  const optLen = (options.length + 3) & ~3;
  const b = new Uint8Array(20 + optLen);
  b.set(options, 20);
  b[12] = (dataOffsetWords ?? (20 + optLen) / 4) << 4;
  b[13] = TCP_ACK;
  setTcpChecksum(b, 0, b.length, 1, 2);
  return b;
}

function reasonFor(b: Uint8Array): string | null {
  return parseTcp(b, 0, b.length, 1, 2, new TcpSegment());
}

test('window scale above 14 is clamped to 14 (RFC 7323 2.3)', (t) => {
  const s = new TcpSegment();
  const b = withOptions([3, 3, 15, 0]);
  t.is(parseTcp(b, 0, b.length, 1, 2, s), null);
  t.is(s.windowScale, 14);
});

test('unknown options are skipped by their length; EOL ends the list', (t) => {
  const s = new TcpSegment();
  let b = withOptions([30, 6, 1, 2, 3, 4, 2, 4, 0x05, 0xb4]); // MPTCP-ish, then MSS
  t.is(parseTcp(b, 0, b.length, 1, 2, s), null);
  t.is(s.mss, 1460);
  b = withOptions([1, 0, 2, 0, 0xff, 0xff]); // NOP, EOL, then garbage that must not be read
  t.is(parseTcp(b, 0, b.length, 1, 2, s), null);
  t.is(s.mss, -1);
});

test('drop: segment shorter than 20 bytes', (t) => {
  t.is(parseTcp(cap.RST.bytes, 20, 19, LO, LO, new TcpSegment()), 'tcp-truncated');
  t.is(parseTcp(cap.RST.bytes, 20, 21, LO, LO, new TcpSegment()), 'tcp-truncated'); // past the buffer
});

test('drop: data offset below 5 words', (t) => {
  t.is(reasonFor(withOptions([], 4)), 'tcp-bad-data-offset');
  t.is(reasonFor(withOptions([], 0)), 'tcp-bad-data-offset');
});

test('drop: data offset beyond the segment', (t) => {
  t.is(reasonFor(withOptions([1, 1, 1, 1], 15)), 'tcp-bad-data-offset');
  t.is(reasonFor(withOptions([1, 1, 1, 1], 6)), null);
});

test('drop: option length 0 or 1', (t) => {
  t.is(reasonFor(withOptions([30, 0, 0, 0])), 'tcp-bad-option-length');
  t.is(reasonFor(withOptions([30, 1, 0, 0])), 'tcp-bad-option-length');
});

test('drop: option overrunning the header', (t) => {
  t.is(reasonFor(withOptions([1, 1, 30, 3])), 'tcp-option-overrun');
  t.is(reasonFor(withOptions([1, 1, 8, 10])), 'tcp-option-overrun');
  t.is(reasonFor(withOptions([1, 1, 1, 2])), 'tcp-option-overrun'); // kind in the last byte, no length byte
});

test('drop: known options with the wrong length', (t) => {
  t.is(reasonFor(withOptions([2, 3, 5, 1])), 'tcp-bad-option-length'); // MSS
  t.is(reasonFor(withOptions([2, 5, 5, 0xb4, 0])), 'tcp-bad-option-length');
  t.is(reasonFor(withOptions([3, 4, 7, 0])), 'tcp-bad-option-length'); // WSCALE
  t.is(reasonFor(withOptions([4, 3, 0, 1])), 'tcp-bad-option-length'); // SACK_PERM
  t.is(reasonFor(withOptions([8, 8, 0, 0, 0, 0, 0, 0])), 'tcp-bad-option-length'); // TS
  t.is(reasonFor(withOptions([5, 2, 1, 1])), 'tcp-bad-option-length'); // SACK, no block
  t.is(reasonFor(withOptions([5, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])), 'tcp-bad-option-length'); // SACK, not 2 + 8n
  t.is(reasonFor(withOptions([5, 10, 0, 0, 0, 0, 0, 0, 0, 0])), null); // SACK with one block is fine
});

test('SACK with 4 blocks parses; 5 blocks do not fit anyway', (t) => {
  const b = withOptions([1, 1, 5, 34, ...new Array<number>(32).fill(1)]);
  const s = new TcpSegment();
  t.is(parseTcp(b, 0, b.length, 1, 2, s), null);
  t.is(s.sackCount, 4);
  t.is(s.sackBlocks[7], 0x01010101);
});

test('drop: bad checksum (payload corrupted)', (t) => {
  const b = completeOffload(cap.DATA_PSH);
  t.is(parseTcp(b, 20, b.length - 20, LO, LO, new TcpSegment()), null);
  b[b.length - 1] ^= 0x20;
  t.is(parseTcp(b, 20, b.length - 20, LO, LO, new TcpSegment()), 'tcp-bad-checksum');
  t.is(parseTcp(b, 20, b.length - 20, LO, LO, new TcpSegment(), false), null);
});
