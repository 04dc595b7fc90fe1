// The Internet checksum (RFC 1071): the 16-bit ones' complement of the ones'
// complement sum of the data taken as big-endian 16-bit words, and its
// incremental update (RFC 1624).
//
// Partial sums are kept "unfolded": a plain non-negative integer that is
// congruent (mod 0xffff) to the ones' complement sum, folded to 16 bits only at
// the end (RFC 1071 section 2 (B) "deferred carries"). Such sums can simply be
// added together, e.g. a pseudo-header sum plus a segment sum.

import { readU16, u8 } from './bytes';

/** Below this many bytes the byte-pair loop wins over setting up a DataView. */
const SMALL = 64;
/** Bytes summed per pass, so the two 32-bit-word accumulators stay exact doubles (< 2^53). */
const CHUNK = 1 << 22;

// One DataView is kept for the most recent backing ArrayBuffer, so summing
// packets that live in the same (pooled) buffer allocates nothing. (A cache,
// not state: results never depend on it. It keeps that one buffer reachable.)
let cachedBuffer: ArrayBufferLike | null = null;
let cachedView: DataView | null = null;

function viewOf(buffer: ArrayBufferLike): DataView {
  if (buffer !== cachedBuffer || cachedView === null) {
    cachedView = new DataView(buffer);
    cachedBuffer = buffer;
  }
  return cachedView;
}

/** Sum of big-endian 16-bit words at buf[i..end), the last odd byte padded with zero (RFC 1071). */
function sumPairs(buf: Uint8Array, i: number, end: number, sum: number): number {
  const end8 = end - 7;
  while (i < end8) {
    sum += readU16(buf, i) + readU16(buf, i + 2) + readU16(buf, i + 4) + readU16(buf, i + 6);
    i += 8;
  }
  while (i + 1 < end) {
    sum += readU16(buf, i);
    i += 2;
  }
  if (i < end) sum += u8(buf, i) << 8;
  return sum;
}

/**
 * Add the 16-bit words of buf[offset, offset+length) to `sum` and return the
 * unfolded result. The word boundaries start at `offset` (which may be odd);
 * an odd trailing byte is padded with a zero byte on the right. When chaining
 * calls over several pieces, every piece but the last must have even length.
 */
export function checksumAdd(buf: Uint8Array, offset: number, length: number, sum = 0): number {
  if (length < SMALL) return sumPairs(buf, offset, offset + length, sum);
  // Keep the 32-bit accumulators exact: at most CHUNK bytes per pass.
  while (length > CHUNK) {
    sum = checksumAdd(buf, offset, CHUNK, sum);
    offset += CHUNK;
    length -= CHUNK;
  }
  // Word at a time: read 32-bit little-endian words (native order, the fastest
  // DataView path) into two accumulators, fold, then swap the bytes of the
  // 16-bit result: the ones' complement sum is byte-order independent
  // (RFC 1071 section 2 (B)).
  const view = viewOf(buf.buffer);
  const base = buf.byteOffset;
  let i = base + offset;
  const end = i + length;
  const end8 = end - 7;
  let a = 0;
  let b = 0;
  while (i < end8) {
    a += view.getUint32(i, true);
    b += view.getUint32(i + 4, true);
    i += 8;
  }
  const swapped = checksumFoldSum((a % 65536) + Math.floor(a / 65536) + (b % 65536) + Math.floor(b / 65536));
  sum += ((swapped & 0xff) << 8) | (swapped >>> 8);
  return sumPairs(buf, i - base, end - base, sum);
}

/** Fold an unfolded sum to 16 bits with end-around carries (no complement). */
export function checksumFoldSum(sum: number): number {
  while (sum > 0xffff) sum = (sum % 65536) + Math.floor(sum / 65536);
  return sum;
}

/** The checksum value to store: the ones' complement of the folded sum, 0..0xffff. */
export function checksumFold(sum: number): number {
  return ~checksumFoldSum(sum) & 0xffff;
}

/** Unfolded sum of the TCP/UDP IPv4 pseudo-header (RFC 9293 section 3.1, RFC 768). */
export function pseudoHeaderSum(src: number, dst: number, protocol: number, length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
}

/** The finished checksum of buf[offset, offset+length), ready to store. */
export function internetChecksum(buf: Uint8Array, offset: number, length: number): number {
  return checksumFold(checksumAdd(buf, offset, length, 0));
}

/**
 * RFC 1624 eqn. 3: the new checksum after one 16-bit word of the covered data
 * changes from oldWord to newWord, HC' = ~(~HC + ~m + m'). Equal to a full
 * recomputation except when the data becomes all zeros (then this gives 0x0000
 * where recomputation gives 0xffff), which cannot happen in an IP header.
 */
export function checksumUpdate16(oldChecksum: number, oldWord: number, newWord: number): number {
  const sum = (~oldChecksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff);
  return ~checksumFoldSum(sum) & 0xffff;
}

/** True when the data (checksum field included) plus initialSum sums to 0xffff, i.e. verifies (RFC 1071). */
export function checksumValid(buf: Uint8Array, off: number, len: number, initialSum = 0): boolean {
  return checksumFoldSum(checksumAdd(buf, off, len, initialSum)) === 0xffff;
}
