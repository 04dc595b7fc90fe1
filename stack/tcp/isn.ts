// Initial sequence numbers, RFC 6528 section 3:
//   ISN = M + F(localip, localport, remoteip, remoteport, secretkey)
// M is a timer that ticks every 4 microseconds; F is a keyed hash, here
// SipHash-2-4 (Aumasson & Bernstein, 2012) as Linux uses, with a 128-bit key
// drawn once from the stack's random source.

import type { Clock } from '../time/clock';
import type { RandomSource } from '../random';
import { toIpAddress, type AddressInput, type IpAddress } from '../ip/address';

// SipHash works on 64-bit words; each is held here as two int32 halves (h, l)
// so the hash needs no BigInt and allocates nothing. The state lives in
// module variables: sipHash24 is synchronous and never re-entered.
let v0h = 0, v0l = 0, v1h = 0, v1l = 0, v2h = 0, v2l = 0, v3h = 0, v3l = 0;

/** One SipRound (the ARX network from the SipHash paper, section 2). */
function sipRound(): void {
  let s: number;
  let x: number;
  // v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32)
  s = (v0l >>> 0) + (v1l >>> 0);
  v0h = (v0h + v1h + (s > 0xffffffff ? 1 : 0)) | 0;
  v0l = s | 0;
  x = (v1h << 13) | (v1l >>> 19);
  v1l = (v1l << 13) | (v1h >>> 19);
  v1h = x ^ v0h;
  v1l ^= v0l;
  x = v0h;
  v0h = v0l;
  v0l = x;
  // v2 += v3; v3 = rotl(v3, 16); v3 ^= v2
  s = (v2l >>> 0) + (v3l >>> 0);
  v2h = (v2h + v3h + (s > 0xffffffff ? 1 : 0)) | 0;
  v2l = s | 0;
  x = (v3h << 16) | (v3l >>> 16);
  v3l = ((v3l << 16) | (v3h >>> 16)) ^ v2l;
  v3h = x ^ v2h;
  // v0 += v3; v3 = rotl(v3, 21); v3 ^= v0
  s = (v0l >>> 0) + (v3l >>> 0);
  v0h = (v0h + v3h + (s > 0xffffffff ? 1 : 0)) | 0;
  v0l = s | 0;
  x = (v3h << 21) | (v3l >>> 11);
  v3l = ((v3l << 21) | (v3h >>> 11)) ^ v0l;
  v3h = x ^ v0h;
  // v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32)
  s = (v2l >>> 0) + (v1l >>> 0);
  v2h = (v2h + v1h + (s > 0xffffffff ? 1 : 0)) | 0;
  v2l = s | 0;
  x = (v1h << 17) | (v1l >>> 15);
  v1l = ((v1l << 17) | (v1h >>> 15)) ^ v2l;
  v1h = x ^ v2h;
  x = v2h;
  v2h = v2l;
  v2l = x;
}

/** Little-endian 32-bit word of `data` at `i`. */
function le32(data: Uint8Array, i: number): number {
  return data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
}

/** A SipHash key from 16 bytes, as sipHash24 takes it: four little-endian 32-bit words (k0 low, k0 high, k1 low, k1 high). */
export function sipKey(bytes: Uint8Array): Uint32Array {
  if (bytes.length !== 16) throw new RangeError('a SipHash key is 16 bytes');
  const key = new Uint32Array(4);
  for (let i = 0; i < 4; i++) key[i] = le32(bytes, 4 * i);
  return key;
}

/** A fresh SipHash key drawn from `random`. */
export function randomSipKey(random: RandomSource): Uint32Array {
  const key = new Uint32Array(4);
  for (let i = 0; i < 4; i++) key[i] = random.u32();
  return key;
}

/**
 * SipHash-2-4 of data[0, length) under `key` (see sipKey). Returns the low 32
 * bits of the 64-bit result as an unsigned number; if `out` is given, writes
 * the result's low and high 32-bit halves to out[0] and out[1]. Allocates nothing.
 */
export function sipHash24(key: Uint32Array, data: Uint8Array, length: number = data.length, out?: Uint32Array): number {
  const k0l = key[0] | 0, k0h = key[1] | 0, k1l = key[2] | 0, k1h = key[3] | 0;
  // Initialisation: the constants spell "somepseudorandomlygeneratedbytes".
  v0h = k0h ^ 0x736f6d65;
  v0l = k0l ^ 0x70736575;
  v1h = k1h ^ 0x646f7261;
  v1l = k1l ^ 0x6e646f6d;
  v2h = k0h ^ 0x6c796765;
  v2l = k0l ^ 0x6e657261;
  v3h = k1h ^ 0x74656462;
  v3l = k1l ^ 0x79746573;
  // Compression: c = 2 rounds per 8-byte word.
  const whole = length - (length & 7);
  let i = 0;
  for (; i < whole; i += 8) {
    const ml = le32(data, i);
    const mh = le32(data, i + 4);
    v3l ^= ml;
    v3h ^= mh;
    sipRound();
    sipRound();
    v0l ^= ml;
    v0h ^= mh;
  }
  // The last word: the remaining bytes, with length mod 256 in the top byte.
  let ml = 0;
  let mh = (length & 0xff) << 24;
  for (let j = 0; i < length; i++, j++) {
    if (j < 4) ml |= data[i] << (8 * j);
    else mh |= data[i] << (8 * (j - 4));
  }
  v3l ^= ml;
  v3h ^= mh;
  sipRound();
  sipRound();
  v0l ^= ml;
  v0h ^= mh;
  // Finalisation: d = 4 rounds.
  v2l ^= 0xff;
  sipRound();
  sipRound();
  sipRound();
  sipRound();
  const lo = (v0l ^ v1l ^ v2l ^ v3l) >>> 0;
  if (out !== undefined) {
    out[0] = lo;
    out[1] = v0h ^ v1h ^ v2h ^ v3h;
  }
  return lo;
}

/** Writes a 32-bit value big-endian (network order) at `i`. */
function put32(buf: Uint8Array, i: number, v: number): void {
  buf[i] = v >>> 24;
  buf[i + 1] = v >>> 16;
  buf[i + 2] = v >>> 8;
  buf[i + 3] = v;
}

/** Writes an address (4 bytes for IPv4, 16 for IPv6) at `i`; returns the index after it. */
function putAddress(buf: Uint8Array, i: number, a: IpAddress): number {
  if (a.family === 4) {
    put32(buf, i, a.w3);
    return i + 4;
  }
  put32(buf, i, a.w0);
  put32(buf, i + 4, a.w1);
  put32(buf, i + 8, a.w2);
  put32(buf, i + 12, a.w3);
  return i + 16;
}

/** RFC 6528 ISN generator; one per stack. */
export class IsnGenerator {
  private readonly clock: Clock;
  private readonly key: Uint32Array;
  /** The 4-tuple as hashed: addresses of 4 (IPv4) or 16 bytes (IPv6) and the ports. */
  private readonly tuple = new Uint8Array(36);

  constructor(clock: Clock, random: RandomSource) {
    this.clock = clock;
    // RFC 6528 section 3: the secret key should be at least 128 bits, from a good random source.
    this.key = randomSipKey(random);
  }

  /** The ISN for a connection (an IPv4 address may be given as its number). Returns an unsigned 32-bit number. */
  isn(localAddr: AddressInput, localPort: number, remoteAddr: AddressInput, remotePort: number): number {
    const b = this.tuple;
    let i = putAddress(b, 0, toIpAddress(localAddr));
    b[i++] = localPort >>> 8;
    b[i++] = localPort;
    i = putAddress(b, i, toIpAddress(remoteAddr));
    b[i++] = remotePort >>> 8;
    b[i++] = remotePort;
    const f = sipHash24(this.key, b, i);
    // RFC 6528 section 3 (after RFC 793): M ticks every 4 microseconds, i.e. 250 per ms.
    const m = Math.floor(this.clock.now() * 250);
    return (m + f) >>> 0;
  }
}
