// ICMPv4 (RFC 792) parse and emit. Writers produce the ICMP message only; the
// caller puts it behind an IPv4 header (protocol IPPROTO_ICMP).

import { checksumAdd, checksumFoldSum, internetChecksum } from './checksum';
import { IPV4_HEADER_LENGTH, IPV4_MIN_REASSEMBLY } from './ipv4';
import { readU16, readU32, u8, writeU32 } from './bytes';

// Types (RFC 792).
export const ICMP_ECHO_REPLY = 0;
export const ICMP_DEST_UNREACHABLE = 3;
export const ICMP_SOURCE_QUENCH = 4;
export const ICMP_REDIRECT = 5;
export const ICMP_ECHO_REQUEST = 8;
export const ICMP_TIME_EXCEEDED = 11;
export const ICMP_PARAMETER_PROBLEM = 12;
export const ICMP_TIMESTAMP_REQUEST = 13;
export const ICMP_TIMESTAMP_REPLY = 14;

// Destination Unreachable codes (RFC 792, RFC 1122 3.2.2.1, RFC 1812 5.2.7.1).
export const ICMP_NET_UNREACHABLE = 0;
export const ICMP_HOST_UNREACHABLE = 1;
export const ICMP_PROTOCOL_UNREACHABLE = 2;
export const ICMP_PORT_UNREACHABLE = 3;
/** Fragmentation needed and DF set; carries the next-hop MTU (RFC 1191 section 4). */
export const ICMP_FRAG_NEEDED = 4;
export const ICMP_SOURCE_ROUTE_FAILED = 5;
export const ICMP_NET_UNKNOWN = 6;
export const ICMP_HOST_UNKNOWN = 7;
export const ICMP_NET_PROHIBITED = 9;
export const ICMP_HOST_PROHIBITED = 10;
export const ICMP_ADMIN_PROHIBITED = 13;

// Time Exceeded codes.
export const ICMP_TTL_EXCEEDED = 0;
export const ICMP_FRAG_REASSEMBLY_EXCEEDED = 1;

export const ICMP_HEADER_LENGTH = 8;
/**
 * Errors quote as much of the offending datagram as fits in a 576-byte IP
 * datagram (RFC 1812 4.3.2.3), as Linux does (icmp_send): at most
 * 576 - 20 (IP) - 8 (ICMP) = 548 bytes. RFC 792 only requires the IP header
 * plus 8 bytes.
 */
export const ICMP_ERROR_MAX_QUOTE = IPV4_MIN_REASSEMBLY - IPV4_HEADER_LENGTH - ICMP_HEADER_LENGTH;

export type IcmpDropReason =
  | 'icmp-truncated'
  | 'icmp-bad-checksum'
  /** An error message whose quoted datagram is not an IPv4 header plus 8 bytes (RFC 792). */
  | 'icmp-bad-quote';

/** True for the error types that quote an offending datagram. */
export function isIcmpError(type: number): boolean {
  return type === ICMP_DEST_UNREACHABLE || type === ICMP_SOURCE_QUENCH || type === ICMP_REDIRECT
    || type === ICMP_TIME_EXCEEDED || type === ICMP_PARAMETER_PROBLEM;
}

/** A parsed ICMP message. Reused: parseIcmp overwrites every field. */
export class IcmpMessage {
  type = 0;
  code = 0;
  checksum = 0;
  /** Echo/timestamp identifier (bytes 4-5). */
  id = 0;
  /** Echo/timestamp sequence number (bytes 6-7). */
  sequence = 0;
  /** Bytes 4-7 as one unsigned 32-bit word (gateway for redirects). */
  rest = 0;
  /** Next-hop MTU of a frag-needed message (bytes 6-7, RFC 1191), else 0. */
  mtu = 0;
  /** Parameter problem pointer (byte 4), else 0. */
  pointer = 0;
  /** Where the message starts in the parsed buffer. */
  offset = 0;
  /** Total message length (header + data). */
  length = 0;
  /** The data after the 8-byte header: echo data, or the quoted datagram of an error. */
  dataOffset = 0;
  dataLength = 0;
  /** For errors: where the quoted original IPv4 header starts (== dataOffset), else -1. */
  originalOffset = -1;
  /** For errors: bytes of the original datagram quoted, else 0. */
  originalLength = 0;
}

/**
 * Parse the ICMP message at buf[offset, offset+length) (length from the IP
 * header's payload length). Error messages must quote at least an IPv4 header
 * and 8 bytes of its payload (RFC 792; Linux icmp_socket_deliver drops less).
 */
export function parseIcmp(
  buf: Uint8Array,
  offset: number,
  length: number,
  out: IcmpMessage,
  verifyChecksum = true,
): IcmpDropReason | null {
  if (length < ICMP_HEADER_LENGTH || offset + length > buf.length) return 'icmp-truncated';
  if (verifyChecksum && checksumFoldSum(checksumAdd(buf, offset, length)) !== 0xffff) return 'icmp-bad-checksum';
  const type = u8(buf, offset);
  const code = u8(buf, offset + 1);
  let originalOffset = -1;
  let originalLength = 0;
  if (isIcmpError(type)) {
    const q = offset + ICMP_HEADER_LENGTH;
    const quoted = length - ICMP_HEADER_LENGTH;
    if (quoted < IPV4_HEADER_LENGTH + 8 || u8(buf, q) >>> 4 !== 4) return 'icmp-bad-quote';
    const ihl = (u8(buf, q) & 0x0f) * 4;
    if (ihl < IPV4_HEADER_LENGTH || ihl + 8 > quoted) return 'icmp-bad-quote';
    originalOffset = q;
    originalLength = quoted;
  }
  out.type = type;
  out.code = code;
  out.checksum = readU16(buf, offset + 2);
  out.id = readU16(buf, offset + 4);
  out.sequence = readU16(buf, offset + 6);
  out.rest = readU32(buf, offset + 4);
  out.mtu = type === ICMP_DEST_UNREACHABLE && code === ICMP_FRAG_NEEDED ? out.sequence : 0;
  out.pointer = type === ICMP_PARAMETER_PROBLEM ? u8(buf, offset + 4) : 0;
  out.offset = offset;
  out.length = length;
  out.dataOffset = offset + ICMP_HEADER_LENGTH;
  out.dataLength = length - ICMP_HEADER_LENGTH;
  out.originalOffset = originalOffset;
  out.originalLength = originalLength;
  return null;
}

/** Copy bytes without allocating a view; correct when the ranges overlap in one buffer. */
function copyBytes(dst: Uint8Array, dstOffset: number, src: Uint8Array, srcOffset: number, length: number): void {
  if (dst.buffer === src.buffer && dst.byteOffset + dstOffset > src.byteOffset + srcOffset) {
    for (let k = length - 1; k >= 0; k--) dst[dstOffset + k] = u8(src, srcOffset + k);
  } else {
    for (let k = 0; k < length; k++) dst[dstOffset + k] = u8(src, srcOffset + k);
  }
}

function storeChecksum(buf: Uint8Array, offset: number, length: number): void {
  buf[offset + 2] = 0;
  buf[offset + 3] = 0;
  const sum = internetChecksum(buf, offset, length);
  buf[offset + 2] = sum >>> 8;
  buf[offset + 3] = sum;
}

/**
 * Echo reply to the echo request at request[reqOffset, +reqLength): same id,
 * sequence and data (RFC 792; RFC 1122 3.2.2.6). Writes reqLength bytes at
 * buf[offset] and returns reqLength. buf may be the request's own buffer (even
 * the same offset: an in-place reply).
 */
export function writeIcmpEchoReply(
  buf: Uint8Array,
  offset: number,
  request: Uint8Array,
  reqOffset: number,
  reqLength: number,
): number {
  if (buf !== request || offset !== reqOffset) copyBytes(buf, offset, request, reqOffset, reqLength);
  buf[offset] = ICMP_ECHO_REPLY;
  buf[offset + 1] = 0;
  storeChecksum(buf, offset, reqLength);
  return reqLength;
}

/** Echo request with the given id, sequence and data; returns 8 + dataLength. */
export function writeIcmpEchoRequest(
  buf: Uint8Array,
  offset: number,
  id: number,
  sequence: number,
  data: Uint8Array,
  dataOffset = 0,
  dataLength = data.length - dataOffset,
): number {
  buf[offset] = ICMP_ECHO_REQUEST;
  buf[offset + 1] = 0;
  buf[offset + 4] = id >>> 8;
  buf[offset + 5] = id;
  buf[offset + 6] = sequence >>> 8;
  buf[offset + 7] = sequence;
  copyBytes(buf, offset + ICMP_HEADER_LENGTH, data, dataOffset, dataLength);
  storeChecksum(buf, offset, ICMP_HEADER_LENGTH + dataLength);
  return ICMP_HEADER_LENGTH + dataLength;
}

/** Length of an error message quoting an original datagram of originalLength bytes. */
export function icmpErrorLength(originalLength: number): number {
  return ICMP_HEADER_LENGTH + Math.min(originalLength, ICMP_ERROR_MAX_QUOTE);
}

/**
 * Any error message: type, code, the 32-bit "rest" word (unused = 0; the
 * next-hop MTU for frag-needed; pointer << 24 for parameter problems; the
 * gateway for redirects), then the quoted original datagram: its IP header
 * and as much of the rest as fits in ICMP_ERROR_MAX_QUOTE. originalLength
 * should be the original's IP total length (not its link-layer padding).
 * Returns icmpErrorLength(originalLength).
 */
export function writeIcmpError(
  buf: Uint8Array,
  offset: number,
  type: number,
  code: number,
  original: Uint8Array,
  originalOffset: number,
  originalLength: number,
  rest = 0,
): number {
  const quote = Math.min(originalLength, ICMP_ERROR_MAX_QUOTE);
  buf[offset] = type;
  buf[offset + 1] = code;
  writeU32(buf, offset + 4, rest);
  copyBytes(buf, offset + ICMP_HEADER_LENGTH, original, originalOffset, quote);
  storeChecksum(buf, offset, ICMP_HEADER_LENGTH + quote);
  return ICMP_HEADER_LENGTH + quote;
}

/** Destination unreachable (type 3); nextHopMtu is used with ICMP_FRAG_NEEDED (RFC 1191 section 4). */
export function writeIcmpDestUnreachable(
  buf: Uint8Array,
  offset: number,
  code: number,
  original: Uint8Array,
  originalOffset: number,
  originalLength: number,
  nextHopMtu = 0,
): number {
  const rest = code === ICMP_FRAG_NEEDED ? nextHopMtu & 0xffff : 0;
  return writeIcmpError(buf, offset, ICMP_DEST_UNREACHABLE, code, original, originalOffset, originalLength, rest);
}

/** Time exceeded (type 11): ICMP_TTL_EXCEEDED in transit or ICMP_FRAG_REASSEMBLY_EXCEEDED. */
export function writeIcmpTimeExceeded(
  buf: Uint8Array,
  offset: number,
  code: number,
  original: Uint8Array,
  originalOffset: number,
  originalLength: number,
): number {
  return writeIcmpError(buf, offset, ICMP_TIME_EXCEEDED, code, original, originalOffset, originalLength);
}
