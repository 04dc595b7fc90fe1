// Randomness for the stack: the RandomSource interface and SeededRandom.
// ISNs, ephemeral ports and link impairments draw from an injected source:
// seeded in simulation, cryptographic where a stack is assembled for real use
// (CryptoRandom, in net-api/crypto-random, since it needs node:crypto)
// (ARCHITECTURE.md, "Randomness").

export interface RandomSource {
  /** A uniformly distributed unsigned 32-bit integer. */
  u32(): number;
  /** A uniformly distributed double in [0, 1). */
  float(): number;
  /** Fill `out` with random bytes. */
  fill(out: Uint8Array): void;
}

/** One step of splitmix32 on `x` (already advanced by the caller): a bijective 32-bit mixer. */
function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x21f0aaad);
  x ^= x >>> 15;
  x = Math.imul(x, 0x735a2d97);
  x ^= x >>> 15;
  return x >>> 0;
}

const GOLDEN = 0x9e3779b9;

/** Two 32-bit words from a seed: the number's IEEE-754 bits (little-endian, so every platform agrees), or two string hashes. */
function seedWords(seed: number | string): [number, number] {
  if (typeof seed === 'number') {
    if (!Number.isFinite(seed)) throw new RangeError(`seed must be finite, got ${seed}`);
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, seed === 0 ? 0 : seed, true); // -0 and 0 are the same seed
    return [view.getUint32(0, true), view.getUint32(4, true)];
  }
  if (typeof seed !== 'string') throw new TypeError('seed must be a number or a string');
  // Two independent multiplicative hashes over UTF-16 code units, then avalanche.
  let a = 0x811c9dc5 ^ seed.length;
  let b = 0x6a09e667 ^ Math.imul(seed.length, GOLDEN);
  for (let i = 0; i < seed.length; i++) {
    const c = seed.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 13;
  }
  return [mix32(a), mix32(b ^ 0x2545f491)];
}

/**
 * A deterministic generator for simulation: xoshiro128** (Blackman & Vigna),
 * its 128-bit state expanded from the seed with splitmix32. The same seed
 * gives the same sequence on every run and platform. Not for secrets.
 */
export class SeededRandom implements RandomSource {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number | string) {
    const [lo, hi] = seedWords(seed);
    // Chain the words through splitmix32 so (lo, hi) -> state is one-to-one in the first two words.
    let x = (lo + GOLDEN) | 0;
    this.s0 = mix32(x);
    x = ((hi ^ this.s0) + 2 * GOLDEN) | 0;
    this.s1 = mix32(x);
    x = (x + GOLDEN) | 0;
    this.s2 = mix32(x ^ lo);
    x = (x + GOLDEN) | 0;
    this.s3 = mix32(x ^ hi);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s3 = 1; // the all-zero state is a fixed point
    for (let i = 0; i < 8; i++) this.u32();
  }

  /** A generator with the given raw xoshiro128** state (for checking against the reference vectors). */
  static fromState(s0: number, s1: number, s2: number, s3: number): SeededRandom {
    if (((s0 | s1 | s2 | s3) >>> 0) === 0) throw new RangeError('xoshiro128** state must not be all zero');
    const r = new SeededRandom(0);
    r.s0 = s0 | 0;
    r.s1 = s1 | 0;
    r.s2 = s2 | 0;
    r.s3 = s3 | 0;
    return r;
  }

  u32(): number {
    const s1 = this.s1;
    const r = Math.imul(s1, 5);
    const result = Math.imul((r << 7) | (r >>> 25), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return result;
  }

  float(): number {
    // 53 random bits: 27 from one draw, 26 from the next.
    return ((this.u32() >>> 5) * 67108864 + (this.u32() >>> 6)) / 9007199254740992;
  }

  fill(out: Uint8Array): void {
    let i = 0;
    for (; i + 4 <= out.length; i += 4) {
      const x = this.u32();
      out[i] = x;
      out[i + 1] = x >>> 8;
      out[i + 2] = x >>> 16;
      out[i + 3] = x >>> 24;
    }
    if (i < out.length) {
      let x = this.u32();
      for (; i < out.length; i++, x >>>= 8) out[i] = x;
    }
  }
}
