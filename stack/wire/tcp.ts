// TCP header and options parse/emit (RFC 9293 section 3.1; options: MSS
// RFC 9293 3.2 and 3.7.1, window scale and timestamps RFC 7323, SACK RFC 2018).

import { checksumAdd, checksumFold, checksumFoldSum, pseudoHeaderSum } from './checksum';
import { IPPROTO_TCP } from './ipv4';
import { readU16, readU32, u8, writeU32 } from './bytes';

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;

export const TCP_HEADER_LENGTH = 20;
/** Data offset is 4 bits of 32-bit words: at most 60 bytes, 40 of options. */
export const TCP_MAX_HEADER_LENGTH = 60;
export const TCP_MAX_OPTIONS_LENGTH = 40;

// Option kinds and lengths.
export const TCPOPT_EOL = 0;
export const TCPOPT_NOP = 1;
export const TCPOPT_MSS = 2;
export const TCPOPT_WSCALE = 3;
export const TCPOPT_SACK_PERM = 4;
export const TCPOPT_SACK = 5;
export const TCPOPT_TIMESTAMP = 8;
export const TCPOLEN_MSS = 4;
export const TCPOLEN_WSCALE = 3;
export const TCPOLEN_SACK_PERM = 2;
export const TCPOLEN_TIMESTAMP = 10;
/** RFC 7323 section 2.3: shift counts above 14 are treated as 14. */
export const TCP_MAX_WSCALE = 14;
/** A SACK option holds at most 4 blocks (RFC 2018 section 3). */
export const TCP_MAX_SACK_BLOCKS = 4;

export type TcpDropReason =
  | 'tcp-truncated'
  | 'tcp-bad-data-offset'
  | 'tcp-bad-checksum'
  /** A length byte < 2, an option of known kind with the wrong length, or a SACK with 0 or > 4 blocks. */
  | 'tcp-bad-option-length'
  /** An option (or its length byte) runs past the end of the header. */
  | 'tcp-option-overrun';

/**
 * One reusable record for a TCP segment, both parsed (parseTcp overwrites it)
 * and emitted (fill it, then writeTcpHeader). Options: -1 / false / 0 mean
 * absent. The parser reports every option it sees whatever the flags; it is
 * the connection's job to honour MSS, window scale and SACK-permitted only on
 * a SYN (RFC 9293 3.7.1, RFC 7323 2.2, RFC 2018 2).
 */
export class TcpSegment {
  srcPort = 0;
  dstPort = 0;
  /** Unsigned 32-bit. */
  seq = 0;
  /** Unsigned 32-bit. */
  ack = 0;
  /** In bytes (data offset * 4). */
  headerLength = TCP_HEADER_LENGTH;
  flags = 0;
  /** The raw 16-bit field, not yet scaled. */
  window = 0;
  checksum = 0;
  urgentPointer = 0;
  /** -1 absent. */
  mss = -1;
  /** -1 absent, else the shift count (clamped to 14 when parsed). */
  windowScale = -1;
  sackPermitted = false;
  hasTimestamps = false;
  tsVal = 0;
  tsEcr = 0;
  /** Number of valid SACK blocks, 0..4. */
  sackCount = 0;
  /** sackCount (left, right) edge pairs: [left0, right0, left1, right1, ...]. */
  readonly sackBlocks = new Uint32Array(2 * TCP_MAX_SACK_BLOCKS);
  /** Where the payload starts in the parsed buffer. */
  payloadOffset = 0;
  payloadLength = 0;

  clear(): void {
    this.srcPort = 0;
    this.dstPort = 0;
    this.seq = 0;
    this.ack = 0;
    this.headerLength = TCP_HEADER_LENGTH;
    this.flags = 0;
    this.window = 0;
    this.checksum = 0;
    this.urgentPointer = 0;
    this.clearOptions();
    this.payloadOffset = 0;
    this.payloadLength = 0;
  }

  clearOptions(): void {
    this.mss = -1;
    this.windowScale = -1;
    this.sackPermitted = false;
    this.hasTimestamps = false;
    this.tsVal = 0;
    this.tsEcr = 0;
    this.sackCount = 0;
    this.sackBlocks.fill(0);
  }
}

/**
 * Parse the segment at buf[offset, offset+length) (length from the IP payload
 * length) into `out`, verifying the checksum over an IPv4 pseudo-header
 * (RFC 9293 3.1) unless told not to. Returns null or the drop reason.
 */
export function parseTcp(
  buf: Uint8Array,
  offset: number,
  length: number,
  srcAddr: number,
  dstAddr: number,
  out: TcpSegment,
  verifyChecksum = true,
): TcpDropReason | null {
  return parseTcpSegment(buf, offset, length, pseudoHeaderSum(srcAddr, dstAddr, IPPROTO_TCP, length), out, verifyChecksum);
}

/**
 * parseTcp for either IP family: the checksum is verified over
 * `pseudoSum`, the network layer's pseudo-header sum for this segment.
 */
export function parseTcpSegment(
  buf: Uint8Array,
  offset: number,
  length: number,
  pseudoSum: number,
  out: TcpSegment,
  verifyChecksum = true,
): TcpDropReason | null {
  if (length < TCP_HEADER_LENGTH || offset + length > buf.length) return 'tcp-truncated';
  const headerLength = (u8(buf, offset + 12) >>> 4) * 4;
  if (headerLength < TCP_HEADER_LENGTH || headerLength > length) return 'tcp-bad-data-offset';
  if (verifyChecksum) {
    const sum = checksumAdd(buf, offset, length, pseudoSum);
    if (checksumFoldSum(sum) !== 0xffff) return 'tcp-bad-checksum';
  }
  out.clearOptions();
  const reason = parseTcpOptions(buf, offset + TCP_HEADER_LENGTH, offset + headerLength, out);
  if (reason !== null) return reason;
  out.srcPort = readU16(buf, offset);
  out.dstPort = readU16(buf, offset + 2);
  out.seq = readU32(buf, offset + 4);
  out.ack = readU32(buf, offset + 8);
  out.headerLength = headerLength;
  // The 4 reserved bits and the AE bit (RFC 9293 3.1) are ignored.
  out.flags = u8(buf, offset + 13);
  out.window = readU16(buf, offset + 14);
  out.checksum = readU16(buf, offset + 16);
  out.urgentPointer = readU16(buf, offset + 18);
  out.payloadOffset = offset + headerLength;
  out.payloadLength = length - headerLength;
  return null;
}

/** Options in buf[i, end) (RFC 9293 3.1 "Options"). */
function parseTcpOptions(buf: Uint8Array, i: number, end: number, out: TcpSegment): TcpDropReason | null {
  while (i < end) {
    const kind = u8(buf, i);
    if (kind === TCPOPT_EOL) break;
    if (kind === TCPOPT_NOP) {
      i++;
      continue;
    }
    if (i + 1 >= end) return 'tcp-option-overrun';
    const len = u8(buf, i + 1);
    if (len < 2) return 'tcp-bad-option-length';
    if (i + len > end) return 'tcp-option-overrun';
    switch (kind) {
      case TCPOPT_MSS:
        if (len !== TCPOLEN_MSS) return 'tcp-bad-option-length';
        out.mss = readU16(buf, i + 2);
        break;
      case TCPOPT_WSCALE:
        if (len !== TCPOLEN_WSCALE) return 'tcp-bad-option-length';
        // RFC 7323 2.3: a shift count above 14 is used as 14.
        out.windowScale = Math.min(u8(buf, i + 2), TCP_MAX_WSCALE);
        break;
      case TCPOPT_SACK_PERM:
        if (len !== TCPOLEN_SACK_PERM) return 'tcp-bad-option-length';
        out.sackPermitted = true;
        break;
      case TCPOPT_SACK: {
        // RFC 2018 3: length 2 + 8n.
        const n = (len - 2) >>> 3;
        if ((len - 2) % 8 !== 0 || n < 1 || n > TCP_MAX_SACK_BLOCKS) return 'tcp-bad-option-length';
        for (let k = 0; k < 2 * n; k++) out.sackBlocks[k] = readU32(buf, i + 2 + 4 * k);
        out.sackCount = n;
        break;
      }
      case TCPOPT_TIMESTAMP:
        if (len !== TCPOLEN_TIMESTAMP) return 'tcp-bad-option-length';
        out.hasTimestamps = true;
        out.tsVal = readU32(buf, i + 2);
        out.tsEcr = readU32(buf, i + 6);
        break;
      default:
        // Unknown options are skipped by their length (RFC 9293 3.1, RFC 1122 4.2.2.5).
        break;
    }
    i += len;
  }
  return null;
}

/** SACK blocks that fit beside the other options (3 with timestamps, as Linux). */
function sackBlocksToWrite(seg: TcpSegment, used: number): number {
  if (seg.sackCount <= 0) return 0;
  const room = ((TCP_MAX_OPTIONS_LENGTH - used - 4) / 8) | 0;
  return Math.max(0, Math.min(seg.sackCount, TCP_MAX_SACK_BLOCKS, room));
}

function optionsWithoutSack(seg: TcpSegment): number {
  let n = 0;
  if (seg.mss >= 0) n += 4;
  if (seg.hasTimestamps) n += 12; // NOP NOP TS, or SACK_PERM TS
  else if (seg.sackPermitted) n += 4; // NOP NOP SACK_PERM
  if (seg.windowScale >= 0) n += 4; // NOP WSCALE
  return n;
}

/** Bytes of options writeTcpHeader will write for seg (a multiple of 4, at most 40). */
export function tcpOptionsLength(seg: TcpSegment): number {
  const n = optionsWithoutSack(seg);
  const blocks = sackBlocksToWrite(seg, n);
  return n + (blocks > 0 ? 4 + 8 * blocks : 0);
}

/**
 * Write the header and options of seg at buf[offset] with a zero checksum,
 * set seg.headerLength and return it. Options are written when present in seg
 * (mss >= 0, hasTimestamps, sackPermitted, windowScale >= 0, sackCount > 0),
 * in the order and with the padding Linux uses (tcp_options_write), each item
 * 32-bit aligned:
 *   MSS | SACK_PERM,TS (or NOP,NOP,TS) | NOP,NOP,SACK_PERM (without TS) | NOP,WSCALE | NOP,NOP,SACK blocks
 * so a SYN with everything is MSS, SACK_PERM, TS, NOP, WSCALE (20 bytes) and an
 * ACK with timestamps is NOP, NOP, TS. SACK blocks beyond what fits in 40
 * bytes are left out (3 fit beside timestamps). The caller then copies the
 * payload after the header and calls setTcpChecksum.
 */
export function writeTcpHeader(buf: Uint8Array, offset: number, seg: TcpSegment): number {
  let o = offset + TCP_HEADER_LENGTH;
  if (seg.mss >= 0) {
    buf[o] = TCPOPT_MSS;
    buf[o + 1] = TCPOLEN_MSS;
    buf[o + 2] = seg.mss >>> 8;
    buf[o + 3] = seg.mss;
    o += 4;
  }
  if (seg.hasTimestamps) {
    if (seg.sackPermitted) {
      buf[o] = TCPOPT_SACK_PERM;
      buf[o + 1] = TCPOLEN_SACK_PERM;
    } else {
      buf[o] = TCPOPT_NOP;
      buf[o + 1] = TCPOPT_NOP;
    }
    buf[o + 2] = TCPOPT_TIMESTAMP;
    buf[o + 3] = TCPOLEN_TIMESTAMP;
    writeU32(buf, o + 4, seg.tsVal);
    writeU32(buf, o + 8, seg.tsEcr);
    o += 12;
  } else if (seg.sackPermitted) {
    buf[o] = TCPOPT_NOP;
    buf[o + 1] = TCPOPT_NOP;
    buf[o + 2] = TCPOPT_SACK_PERM;
    buf[o + 3] = TCPOLEN_SACK_PERM;
    o += 4;
  }
  if (seg.windowScale >= 0) {
    buf[o] = TCPOPT_NOP;
    buf[o + 1] = TCPOPT_WSCALE;
    buf[o + 2] = TCPOLEN_WSCALE;
    buf[o + 3] = seg.windowScale;
    o += 4;
  }
  const blocks = sackBlocksToWrite(seg, o - offset - TCP_HEADER_LENGTH);
  if (blocks > 0) {
    buf[o] = TCPOPT_NOP;
    buf[o + 1] = TCPOPT_NOP;
    buf[o + 2] = TCPOPT_SACK;
    buf[o + 3] = 2 + 8 * blocks;
    o += 4;
    for (let k = 0; k < 2 * blocks; k++) {
      // In range: blocks <= TCP_MAX_SACK_BLOCKS, and sackBlocks holds 2 * TCP_MAX_SACK_BLOCKS edges.
      writeU32(buf, o, seg.sackBlocks[k]!);
      o += 4;
    }
  }
  const headerLength = o - offset;
  buf[offset] = seg.srcPort >>> 8;
  buf[offset + 1] = seg.srcPort;
  buf[offset + 2] = seg.dstPort >>> 8;
  buf[offset + 3] = seg.dstPort;
  writeU32(buf, offset + 4, seg.seq);
  writeU32(buf, offset + 8, seg.ack);
  buf[offset + 12] = (headerLength >>> 2) << 4;
  buf[offset + 13] = seg.flags;
  buf[offset + 14] = seg.window >>> 8;
  buf[offset + 15] = seg.window;
  buf[offset + 16] = 0;
  buf[offset + 17] = 0;
  buf[offset + 18] = seg.urgentPointer >>> 8;
  buf[offset + 19] = seg.urgentPointer;
  seg.headerLength = headerLength;
  return headerLength;
}

/** Compute and store the checksum of the segment at buf[tcpOffset, +tcpLength) (header + payload; RFC 9293 3.1). */
export function setTcpChecksum(buf: Uint8Array, tcpOffset: number, tcpLength: number, src: number, dst: number): void {
  writeTcpChecksum(buf, tcpOffset, tcpLength, pseudoHeaderSum(src, dst, IPPROTO_TCP, tcpLength));
}

/** setTcpChecksum for either IP family, over the network layer's pseudo-header sum. */
export function writeTcpChecksum(buf: Uint8Array, tcpOffset: number, tcpLength: number, pseudoSum: number): void {
  buf[tcpOffset + 16] = 0;
  buf[tcpOffset + 17] = 0;
  const sum = checksumFold(checksumAdd(buf, tcpOffset, tcpLength, pseudoSum));
  buf[tcpOffset + 16] = sum >>> 8;
  buf[tcpOffset + 17] = sum;
}

const FLAG_LETTERS: ReadonlyArray<readonly [number, string]> = [
  [TCP_FIN, 'F'], [TCP_SYN, 'S'], [TCP_RST, 'R'], [TCP_PSH, 'P'],
  [TCP_ACK, '.'], [TCP_URG, 'U'], [TCP_ECE, 'E'], [TCP_CWR, 'W'],
];
const FLAG_STRINGS: readonly string[] = Array.from({ length: 256 }, (_, flags) => {
  let s = '';
  for (const [bit, letter] of FLAG_LETTERS) if ((flags & bit) !== 0) s += letter;
  return s === '' ? 'none' : s;
});

/** tcpdump's rendering of the flags: 'S', 'S.', 'P.', 'F.', 'R', 'R.', 'SEW', 'none' for no flags. */
export function formatTcpFlags(flags: number): string {
  return FLAG_STRINGS[flags & 0xff]!; // in range: 256 entries, one per value of the flags byte
}
