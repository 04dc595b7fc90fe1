// Packet forging for the fuzzer: IPv4 packets with any header (options,
// fragment fields), TCP segments with any flags and any option bytes, ICMP
// errors quoting a given datagram, and fragments of a packet. Checksums come
// out right; a test breaks them afterwards when it wants them wrong.

import { IPPROTO_ICMP, IPPROTO_TCP, setIpv4Checksum } from '../../stack/wire/ipv4';
import { readU32, writeU32 } from '../../stack/wire/bytes';
import { setTcpChecksum } from '../../stack/wire/tcp';
import { writeIcmpError } from '../../stack/wire/icmp';

export interface IpFields {
  src: number;
  dst: number;
  protocol: number;
  ttl?: number;
  id?: number;
  tos?: number;
  dontFragment?: boolean;
  moreFragments?: boolean;
  /** In bytes; written as offset / 8. */
  fragmentOffset?: number;
  /** Option bytes, padded with zeros (end of options) to a multiple of 4; at most 40. */
  options?: Uint8Array;
}

/** An IPv4 packet around `payload`, with a correct header checksum. */
export function ipv4(f: IpFields, payload: Uint8Array): Uint8Array {
  const optionBytes = Math.min(40, ((f.options?.length ?? 0) + 3) & ~3);
  const hl = 20 + optionBytes;
  const p = new Uint8Array(hl + payload.length);
  const total = Math.min(p.length, 0xffff);
  const frag = (f.dontFragment ? 0x4000 : 0) | (f.moreFragments ? 0x2000 : 0) | (((f.fragmentOffset ?? 0) >>> 3) & 0x1fff);
  p[0] = 0x40 | (hl >>> 2);
  p[1] = f.tos ?? 0;
  p[2] = total >>> 8;
  p[3] = total;
  p[4] = (f.id ?? 0) >>> 8;
  p[5] = f.id ?? 0;
  p[6] = frag >>> 8;
  p[7] = frag;
  p[8] = f.ttl ?? 64;
  p[9] = f.protocol;
  writeU32(p, 12, f.src);
  writeU32(p, 16, f.dst);
  if (f.options !== undefined) p.set(f.options.subarray(0, optionBytes), 20);
  p.set(payload, hl);
  setIpv4Checksum(p, 0);
  return p;
}

export interface TcpFields {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  urgent?: number;
  /** Option bytes as they go on the wire, padded with zeros to a multiple of 4 (at most 40). */
  options?: Uint8Array;
  /** The data offset field (words) to write instead of the true one. */
  dataOffset?: number;
}

/** A TCP segment (header, options, payload) with its checksum for src -> dst. */
export function tcp(f: TcpFields, payload: Uint8Array, src: number, dst: number): Uint8Array {
  const optionBytes = Math.min(40, ((f.options?.length ?? 0) + 3) & ~3);
  const hl = 20 + optionBytes;
  const s = new Uint8Array(hl + payload.length);
  s[0] = f.srcPort >>> 8;
  s[1] = f.srcPort;
  s[2] = f.dstPort >>> 8;
  s[3] = f.dstPort;
  writeU32(s, 4, f.seq >>> 0);
  writeU32(s, 8, f.ack >>> 0);
  s[12] = ((f.dataOffset ?? hl >>> 2) & 0x0f) << 4;
  s[13] = f.flags;
  s[14] = f.window >>> 8;
  s[15] = f.window;
  s[18] = (f.urgent ?? 0) >>> 8;
  s[19] = f.urgent ?? 0;
  if (f.options !== undefined) s.set(f.options.subarray(0, optionBytes), 20);
  s.set(payload, hl);
  setTcpChecksum(s, 0, s.length, src, dst);
  return s;
}

/** An IPv4 packet carrying a TCP segment from src to dst. */
export function tcpPacket(src: number, dst: number, f: TcpFields, payload: Uint8Array, ip: Partial<IpFields> = {}): Uint8Array {
  return ipv4({ dontFragment: true, ...ip, src, dst, protocol: IPPROTO_TCP }, tcp(f, payload, src, dst));
}

/** NOP, NOP, timestamps: what a segment of an established connection carries. */
export function timestampsOption(tsVal: number, tsEcr: number): Uint8Array {
  const o = new Uint8Array(12);
  o[0] = 1;
  o[1] = 1;
  o[2] = 8;
  o[3] = 10;
  writeU32(o, 4, tsVal >>> 0);
  writeU32(o, 8, tsEcr >>> 0);
  return o;
}

/** An ICMP error message (type, code, the 32-bit "rest" word) quoting `original`, checksummed. */
export function icmpError(type: number, code: number, rest: number, original: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + Math.min(original.length, 548));
  const n = writeIcmpError(out, 0, type, code, original, 0, original.length, rest >>> 0);
  return out.subarray(0, n);
}

/** An IPv4 packet carrying an ICMP message. */
export function icmpPacket(src: number, dst: number, icmp: Uint8Array): Uint8Array {
  return ipv4({ src, dst, protocol: IPPROTO_ICMP }, icmp);
}

/**
 * Fragments of an IPv4 packet: one per piece, each with the packet's header
 * (without options), the piece's offset and MF flag, and the payload bytes at
 * that offset (zeros past the end of the payload, so pieces may lie out of range).
 */
export function fragments(packet: Uint8Array, pieces: ReadonlyArray<{ offset: number; length: number; more: boolean }>): Uint8Array[] {
  const hl = (packet[0] & 0x0f) * 4;
  const body = packet.subarray(hl);
  const fields: IpFields = {
    src: readU32(packet, 12), dst: readU32(packet, 16), protocol: packet[9], ttl: packet[8], id: (packet[4] << 8) | packet[5], tos: packet[1],
  };
  return pieces.map((p) => {
    const data = new Uint8Array(p.length);
    if (p.offset < body.length) data.set(body.subarray(p.offset, Math.min(body.length, p.offset + p.length)));
    return ipv4({ ...fields, moreFragments: p.more, fragmentOffset: p.offset }, data);
  });
}
