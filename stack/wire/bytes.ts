// Byte access for the wire code: single bytes and big-endian (network order,
// RFC 791 Appendix B) 16- and 32-bit fields.
//
// The wire code compiles with noUncheckedIndexedAccess (tsconfig.strict-wire.json),
// where buf[i] is `number | undefined`. Every read goes through here after its
// caller has checked the packet's length (each parser tests the bytes it is
// given before it reads a field), so a read is always in range for a valid
// call; the `?? 0` makes a read past the end, which only a bug could do, see
// zero bytes (as the checksum pads an odd byte, RFC 1071) and never undefined.

/** The byte at buf[i]. */
export function u8(buf: Uint8Array, i: number): number {
  return buf[i] ?? 0;
}

/** The big-endian 16-bit field at buf[i, i+2). */
export function readU16(buf: Uint8Array, i: number): number {
  return ((buf[i] ?? 0) << 8) | (buf[i + 1] ?? 0);
}

/** The big-endian unsigned 32-bit field at buf[i, i+4). */
export function readU32(buf: Uint8Array, i: number): number {
  return (((buf[i] ?? 0) << 24) | ((buf[i + 1] ?? 0) << 16) | ((buf[i + 2] ?? 0) << 8) | (buf[i + 3] ?? 0)) >>> 0;
}

/** Store `value` as a big-endian 32-bit field at buf[i, i+4). */
export function writeU32(buf: Uint8Array, i: number, value: number): void {
  buf[i] = value >>> 24;
  buf[i + 1] = value >>> 16;
  buf[i + 2] = value >>> 8;
  buf[i + 3] = value;
}
