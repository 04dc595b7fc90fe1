// IPv4 header parse and emit (RFC 791 section 3.1), address helpers.

import { checksumAdd, checksumFoldSum, checksumUpdate16, internetChecksum } from './checksum';
import { readU16, readU32, u8, writeU32 } from './bytes';

export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

/** Header without options. */
export const IPV4_HEADER_LENGTH = 20;
/** Largest IPv4 datagram (the total length field is 16 bits). */
export const IPV4_MAX_LENGTH = 65535;
/** Every host must accept a datagram this big (RFC 791 section 3.1, RFC 1122 3.3.3). */
export const IPV4_MIN_REASSEMBLY = 576;

/** Flag bits in the 16-bit flags/fragment-offset word (RFC 791 section 3.1). */
export const IPV4_FLAG_DF = 0x4000;
export const IPV4_FLAG_MF = 0x2000;
export const IPV4_FRAGMENT_OFFSET_MASK = 0x1fff;

export type Ipv4DropReason =
  | 'ipv4-truncated'
  | 'ipv4-bad-version'
  | 'ipv4-bad-header-length'
  | 'ipv4-bad-total-length'
  | 'ipv4-bad-checksum';


/** The fields writeIpv4Header needs. Ipv4Header satisfies it, so one instance can be reused as the emit record. */
export interface Ipv4HeaderFields {
  tos?: number;
  totalLength: number;
  id: number;
  dontFragment: boolean;
  moreFragments?: boolean;
  /** In bytes, a multiple of 8. */
  fragmentOffset?: number;
  ttl: number;
  protocol: number;
  src: number;
  dst: number;
}

/** A parsed IPv4 header. Reused: parseIpv4 overwrites every field. */
export class Ipv4Header implements Ipv4HeaderFields {
  version = 0;
  /** In bytes (IHL * 4). */
  headerLength = 0;
  tos = 0;
  totalLength = 0;
  id = 0;
  dontFragment = false;
  moreFragments = false;
  /** In bytes (the 13-bit field * 8). */
  fragmentOffset = 0;
  ttl = 0;
  protocol = 0;
  checksum = 0;
  /** Unsigned 32-bit. */
  src = 0;
  dst = 0;
  /** Where the header starts in the parsed buffer. */
  headerOffset = 0;
  /** Where the payload starts in the parsed buffer. */
  payloadOffset = 0;
  /** totalLength - headerLength: bytes beyond the total length (link padding) are not payload. */
  payloadLength = 0;

  /** True for any fragment: MF set or a non-zero offset. */
  get isFragment(): boolean {
    return this.moreFragments || this.fragmentOffset !== 0;
  }
}

/**
 * Parse the IPv4 header at buf[offset, offset+length) into `out`. Returns null
 * when the packet is acceptable, else the drop reason (RFC 1122 3.2.1.1-3.2.1.2:
 * version, header length, total length, checksum). Options are not
 * interpreted; they are skipped by the header length. Bytes after totalLength
 * (e.g. Ethernet padding) are ignored.
 */
export function parseIpv4(
  buf: Uint8Array,
  out: Ipv4Header,
  verifyChecksum = true,
  offset = 0,
  length = buf.length - offset,
): Ipv4DropReason | null {
  if (length < IPV4_HEADER_LENGTH) return 'ipv4-truncated';
  const b0 = u8(buf, offset);
  if (b0 >>> 4 !== 4) return 'ipv4-bad-version';
  const headerLength = (b0 & 0x0f) * 4;
  if (headerLength < IPV4_HEADER_LENGTH) return 'ipv4-bad-header-length';
  if (headerLength > length) return 'ipv4-truncated';
  const totalLength = readU16(buf, offset + 2);
  if (totalLength < headerLength) return 'ipv4-bad-total-length';
  if (totalLength > length) return 'ipv4-truncated';
  if (verifyChecksum && checksumFoldSum(checksumAdd(buf, offset, headerLength)) !== 0xffff) return 'ipv4-bad-checksum';
  const frag = readU16(buf, offset + 6);
  out.version = 4;
  out.headerLength = headerLength;
  out.tos = u8(buf, offset + 1);
  out.totalLength = totalLength;
  out.id = readU16(buf, offset + 4);
  out.dontFragment = (frag & IPV4_FLAG_DF) !== 0;
  out.moreFragments = (frag & IPV4_FLAG_MF) !== 0;
  out.fragmentOffset = (frag & IPV4_FRAGMENT_OFFSET_MASK) * 8;
  out.ttl = u8(buf, offset + 8);
  out.protocol = u8(buf, offset + 9);
  out.checksum = readU16(buf, offset + 10);
  out.src = readU32(buf, offset + 12);
  out.dst = readU32(buf, offset + 16);
  out.headerOffset = offset;
  out.payloadOffset = offset + headerLength;
  out.payloadLength = totalLength - headerLength;
  return null;
}

/**
 * Write a 20-byte header (no options) with its checksum at buf[offset] and
 * return 20. Two forms:
 *  - positional, for the hot path (allocates nothing):
 *    writeIpv4Header(buf, offset, totalLength, id, dontFragment, ttl, protocol, src, dst, tos?, moreFragments?, fragmentOffset?)
 *  - a record, for readable call sites: writeIpv4Header(buf, offset, fields);
 *    Ipv4Header satisfies Ipv4HeaderFields, so one instance can be reused.
 */
export function writeIpv4Header(buf: Uint8Array, offset: number, fields: Ipv4HeaderFields): number;
export function writeIpv4Header(
  buf: Uint8Array,
  offset: number,
  totalLength: number,
  id: number,
  dontFragment: boolean,
  ttl: number,
  protocol: number,
  src: number,
  dst: number,
  tos?: number,
  moreFragments?: boolean,
  fragmentOffset?: number,
): number;
export function writeIpv4Header(
  buf: Uint8Array,
  offset: number,
  totalLength: number | Ipv4HeaderFields,
  id = 0,
  dontFragment = false,
  ttl = 0,
  protocol = 0,
  src = 0,
  dst = 0,
  tos = 0,
  moreFragments = false,
  fragmentOffset = 0,
): number {
  if (typeof totalLength !== 'number') {
    const f = totalLength;
    return writeIpv4Fields(buf, offset, f.totalLength, f.id, f.dontFragment, f.ttl, f.protocol, f.src, f.dst,
      f.tos ?? 0, f.moreFragments === true, f.fragmentOffset ?? 0);
  }
  return writeIpv4Fields(buf, offset, totalLength, id, dontFragment, ttl, protocol, src, dst, tos, moreFragments, fragmentOffset);
}

function writeIpv4Fields(
  buf: Uint8Array,
  offset: number,
  totalLength: number,
  id: number,
  dontFragment: boolean,
  ttl: number,
  protocol: number,
  src: number,
  dst: number,
  tos: number,
  moreFragments: boolean,
  fragmentOffset: number,
): number {
  const frag = (dontFragment ? IPV4_FLAG_DF : 0) | (moreFragments ? IPV4_FLAG_MF : 0)
    | ((fragmentOffset >>> 3) & IPV4_FRAGMENT_OFFSET_MASK);
  buf[offset] = 0x45;
  buf[offset + 1] = tos;
  buf[offset + 2] = totalLength >>> 8;
  buf[offset + 3] = totalLength;
  buf[offset + 4] = id >>> 8;
  buf[offset + 5] = id;
  buf[offset + 6] = frag >>> 8;
  buf[offset + 7] = frag;
  buf[offset + 8] = ttl;
  buf[offset + 9] = protocol;
  buf[offset + 10] = 0;
  buf[offset + 11] = 0;
  writeU32(buf, offset + 12, src);
  writeU32(buf, offset + 16, dst);
  const sum = internetChecksum(buf, offset, IPV4_HEADER_LENGTH);
  buf[offset + 10] = sum >>> 8;
  buf[offset + 11] = sum;
  return IPV4_HEADER_LENGTH;
}

/** Recompute the header checksum of the header at buf[offset] (its length taken from IHL). */
export function setIpv4Checksum(buf: Uint8Array, offset = 0): void {
  const headerLength = (u8(buf, offset) & 0x0f) * 4;
  buf[offset + 10] = 0;
  buf[offset + 11] = 0;
  const sum = internetChecksum(buf, offset, headerLength);
  buf[offset + 10] = sum >>> 8;
  buf[offset + 11] = sum;
}

/**
 * Decrement the TTL of the header at buf[offset] in place, updating the
 * checksum incrementally (RFC 1624, RFC 1812 5.3.1). Returns the new TTL; the
 * caller drops the packet (and sends Time Exceeded) when it reaches 0.
 */
export function decrementIpv4Ttl(buf: Uint8Array, offset = 0): number {
  const ttl = u8(buf, offset + 8);
  if (ttl === 0) return 0;
  const protocol = u8(buf, offset + 9);
  const oldWord = (ttl << 8) | protocol;
  const newWord = ((ttl - 1) << 8) | protocol;
  const sum = checksumUpdate16(readU16(buf, offset + 10), oldWord, newWord);
  buf[offset + 8] = ttl - 1;
  buf[offset + 10] = sum >>> 8;
  buf[offset + 11] = sum;
  return ttl - 1;
}

/** '10.0.0.1' */
export function formatIpv4(a: number): string {
  return `${(a >>> 24) & 0xff}.${(a >>> 16) & 0xff}.${(a >>> 8) & 0xff}.${a & 0xff}`;
}

const OCTET = /^(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])$/;

/** Strict dotted quad: four decimal octets 0-255 without leading zeros (as Node's net.isIPv4). Throws TypeError otherwise. */
export function parseIpv4Address(s: string): number {
  if (typeof s !== 'string') throw new TypeError(`Invalid IPv4 address: ${String(s)}`);
  const parts = s.split('.');
  if (parts.length !== 4) throw new TypeError(`Invalid IPv4 address: ${s}`);
  let a = 0;
  for (const p of parts) {
    if (!OCTET.test(p)) throw new TypeError(`Invalid IPv4 address: ${s}`);
    a = a * 256 + Number(p);
  }
  return a >>> 0;
}

/** The netmask for a prefix length 0..32, unsigned. */
export function prefixMask(prefixLength: number): number {
  return prefixLength <= 0 ? 0 : (0xffffffff << (32 - Math.min(prefixLength, 32))) >>> 0;
}

/** '10.0.0.1/24' -> { address: 10.0.0.1, prefixLength: 24 }. The address keeps its host bits. Throws TypeError on bad input. */
export function parseCidr(s: string): { address: number; prefixLength: number } {
  if (typeof s !== 'string') throw new TypeError(`Invalid CIDR: ${String(s)}`);
  const slash = s.indexOf('/');
  if (slash < 0) throw new TypeError(`Invalid CIDR (no prefix length): ${s}`);
  const len = s.slice(slash + 1);
  if (!/^(?:[0-9]|[12][0-9]|3[0-2])$/.test(len)) throw new TypeError(`Invalid CIDR prefix length: ${s}`);
  return { address: parseIpv4Address(s.slice(0, slash)), prefixLength: Number(len) };
}
