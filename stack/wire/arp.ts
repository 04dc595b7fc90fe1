// ARP for IPv4 over Ethernet (RFC 826).

import { readU16, readU32, u8, writeU32 } from './bytes';
import { ETHERTYPE_IPV4, MAC_LENGTH } from './ethernet';

export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;
export const ARP_HTYPE_ETHERNET = 1;
/** htype, ptype, hlen, plen, op, sha, spa, tha, tpa. */
export const ARP_LENGTH = 28;

export type ArpDropReason =
  | 'arp-truncated'
  /** Not Ethernet/IPv4: htype != 1, ptype != 0x0800, hlen != 6 or plen != 4. */
  | 'arp-unsupported'
  /** Neither request nor reply. */
  | 'arp-bad-opcode';

/** A parsed ARP packet. Reused: parseArp overwrites it, copying the MACs into the preallocated arrays. */
export class ArpPacket {
  op = 0;
  readonly senderMac = new Uint8Array(MAC_LENGTH);
  senderIp = 0;
  readonly targetMac = new Uint8Array(MAC_LENGTH);
  targetIp = 0;
}

/** Parse the ARP packet at buf[offset, offset+length) (trailing Ethernet padding is ignored). */
export function parseArp(buf: Uint8Array, offset: number, length: number, out: ArpPacket): ArpDropReason | null {
  if (length < ARP_LENGTH || offset + ARP_LENGTH > buf.length) return 'arp-truncated';
  const htype = readU16(buf, offset);
  const ptype = readU16(buf, offset + 2);
  if (htype !== ARP_HTYPE_ETHERNET || ptype !== ETHERTYPE_IPV4 || u8(buf, offset + 4) !== MAC_LENGTH || u8(buf, offset + 5) !== 4) {
    return 'arp-unsupported';
  }
  const op = readU16(buf, offset + 6);
  if (op !== ARP_REQUEST && op !== ARP_REPLY) return 'arp-bad-opcode';
  out.op = op;
  for (let i = 0; i < MAC_LENGTH; i++) {
    out.senderMac[i] = u8(buf, offset + 8 + i);
    out.targetMac[i] = u8(buf, offset + 18 + i);
  }
  out.senderIp = readU32(buf, offset + 14);
  out.targetIp = readU32(buf, offset + 24);
  return null;
}

/** Write an ARP packet (28 bytes, no Ethernet header); returns 28. */
export function writeArp(
  buf: Uint8Array,
  offset: number,
  op: number,
  senderMac: Uint8Array,
  senderIp: number,
  targetMac: Uint8Array,
  targetIp: number,
): number {
  buf[offset] = 0;
  buf[offset + 1] = ARP_HTYPE_ETHERNET;
  buf[offset + 2] = ETHERTYPE_IPV4 >>> 8;
  buf[offset + 3] = ETHERTYPE_IPV4 & 0xff;
  buf[offset + 4] = MAC_LENGTH;
  buf[offset + 5] = 4;
  buf[offset + 6] = op >>> 8;
  buf[offset + 7] = op;
  for (let i = 0; i < MAC_LENGTH; i++) {
    buf[offset + 8 + i] = u8(senderMac, i);
    buf[offset + 18 + i] = u8(targetMac, i);
  }
  writeU32(buf, offset + 14, senderIp);
  writeU32(buf, offset + 24, targetIp);
  return ARP_LENGTH;
}

/** Who has targetIp? The target MAC is zero, as Linux sends it (RFC 826 leaves it unspecified). */
export function writeArpRequest(buf: Uint8Array, offset: number, senderMac: Uint8Array, senderIp: number, targetIp: number): number {
  writeArp(buf, offset, ARP_REQUEST, senderMac, senderIp, senderMac, targetIp);
  buf.fill(0, offset + 18, offset + 24);
  return ARP_LENGTH;
}

/** senderIp is at senderMac, told to the requester (targetMac, targetIp). */
export function writeArpReply(
  buf: Uint8Array,
  offset: number,
  senderMac: Uint8Array,
  senderIp: number,
  targetMac: Uint8Array,
  targetIp: number,
): number {
  return writeArp(buf, offset, ARP_REPLY, senderMac, senderIp, targetMac, targetIp);
}
