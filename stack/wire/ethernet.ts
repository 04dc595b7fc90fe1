// Ethernet II framing (IEEE 802.3 with an EtherType, RFC 894) and MAC address helpers.

import { readU16, u8 } from './bytes';

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_VLAN = 0x8100;
export const ETHERTYPE_IPV6 = 0x86dd;

export const ETHERNET_HEADER_LENGTH = 14;
export const MAC_LENGTH = 6;
/** Shortest frame on the wire without the FCS; shorter frames are padded with zeros (the receiver ignores the padding by the IP total length). */
export const ETHERNET_MIN_FRAME = 60;

export type EthernetDropReason = 'ethernet-truncated';

/** A parsed Ethernet II header. Reused: parseEthernet overwrites it, copying the addresses into the preallocated arrays. */
export class EthernetHeader {
  readonly dst = new Uint8Array(MAC_LENGTH);
  readonly src = new Uint8Array(MAC_LENGTH);
  etherType = 0;
  /** Where the payload starts in the parsed buffer. */
  payloadOffset = 0;
  /** Bytes after the header (may include padding). */
  payloadLength = 0;
}

/** Parse the header of the frame at buf[offset, offset+length). */
export function parseEthernet(
  buf: Uint8Array,
  out: EthernetHeader,
  offset = 0,
  length = buf.length - offset,
): EthernetDropReason | null {
  if (length < ETHERNET_HEADER_LENGTH || offset + length > buf.length) return 'ethernet-truncated';
  for (let i = 0; i < MAC_LENGTH; i++) {
    out.dst[i] = u8(buf, offset + i);
    out.src[i] = u8(buf, offset + MAC_LENGTH + i);
  }
  out.etherType = readU16(buf, offset + 12);
  out.payloadOffset = offset + ETHERNET_HEADER_LENGTH;
  out.payloadLength = length - ETHERNET_HEADER_LENGTH;
  return null;
}

/** Write a 14-byte header; returns 14. */
export function writeEthernetHeader(
  buf: Uint8Array,
  offset: number,
  dst: Uint8Array,
  src: Uint8Array,
  etherType: number,
): number {
  for (let i = 0; i < MAC_LENGTH; i++) {
    buf[offset + i] = u8(dst, i);
    buf[offset + MAC_LENGTH + i] = u8(src, i);
  }
  buf[offset + 12] = etherType >>> 8;
  buf[offset + 13] = etherType;
  return ETHERNET_HEADER_LENGTH;
}

/** ff:ff:ff:ff:ff:ff. Treat as read-only. */
export const BROADCAST_MAC: Uint8Array = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
/** 00:00:00:00:00:00 (the unknown target of an ARP request). Treat as read-only. */
export const ZERO_MAC: Uint8Array = new Uint8Array(MAC_LENGTH);

/**
 * Make the address in `mac` a locally administered unicast one, in place (RFC 7042 2.1:
 * the U/L bit set, the I/G bit clear), and return it: random bytes -> a MAC of our own.
 */
export function makeLocalUnicastMac(mac: Uint8Array): Uint8Array {
  mac[0] = (u8(mac, 0) & 0xfc) | 0x02;
  return mac;
}

export function isBroadcastMac(mac: Uint8Array, offset = 0): boolean {
  for (let i = 0; i < MAC_LENGTH; i++) if (mac[offset + i] !== 0xff) return false;
  return true;
}

/** Group address: the I/G bit, the least significant bit of the first octet (broadcast included). */
export function isMulticastMac(mac: Uint8Array, offset = 0): boolean {
  return (u8(mac, offset) & 1) !== 0;
}

export function macEquals(a: Uint8Array, b: Uint8Array, aOffset = 0, bOffset = 0): boolean {
  for (let i = 0; i < MAC_LENGTH; i++) if (a[aOffset + i] !== b[bOffset + i]) return false;
  return true;
}

/** The two lower-case hex digits of every byte value, back to back: byte b's are at [2b, 2b+2). */
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0')).join('');

function hex(mac: Uint8Array, i: number): string {
  const b = u8(mac, i);
  return HEX.slice(2 * b, 2 * b + 2);
}

/** '02:00:00:00:00:01' (lower case, as Linux prints it). */
export function formatMac(mac: Uint8Array, offset = 0): string {
  return `${hex(mac, offset)}:${hex(mac, offset + 1)}:${hex(mac, offset + 2)}:${hex(mac, offset + 3)}:${hex(mac, offset + 4)}:${hex(mac, offset + 5)}`;
}

/** Six two-digit hex octets separated by ':' or '-'. Throws TypeError otherwise. */
export function parseMac(s: string): Uint8Array {
  if (typeof s !== 'string' || !/^[0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(?:\1[0-9a-fA-F]{2}){4}$/.test(s)) {
    throw new TypeError(`Invalid MAC address: ${String(s)}`);
  }
  const mac = new Uint8Array(MAC_LENGTH);
  for (let i = 0; i < MAC_LENGTH; i++) mac[i] = parseInt(s.slice(3 * i, 3 * i + 2), 16);
  return mac;
}
