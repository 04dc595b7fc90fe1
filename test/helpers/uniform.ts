// Statistical checks shared by the tests of every RandomSource (SeededRandom
// in test/stack, CryptoRandom in test/net-api).

import type { ExecutionContext } from 'ava';
import type { RandomSource } from '../../stack/random';

/** `n` successive u32() draws. */
export const draw = (r: RandomSource, n: number): number[] => Array.from({ length: n }, () => r.u32());

/** Chi-square statistic of `n` draws of `bucket()` into `k` buckets. */
function chiSquare(k: number, n: number, bucket: () => number): number {
  const counts = new Array<number>(k).fill(0);
  for (let i = 0; i < n; i++) counts[bucket()]++;
  const e = n / k;
  return counts.reduce((acc, c) => acc + ((c - e) * (c - e)) / e, 0);
}

/** Assert that u32, float and fill of `r` are roughly uniform and u32 rarely repeats. */
export function assertRoughlyUniform(t: ExecutionContext, r: RandomSource): void {
  // 64 buckets, 63 degrees of freedom: p = 1e-6 lies near 130.
  t.true(chiSquare(64, 200_000, () => r.u32() >>> 26) < 130, 'u32 high bits');
  t.true(chiSquare(64, 200_000, () => r.u32() & 63) < 130, 'u32 low bits');
  t.true(chiSquare(64, 200_000, () => Math.floor(r.float() * 64)) < 130, 'float');
  let min = 1;
  let max = 0;
  for (let i = 0; i < 100_000; i++) {
    const f = r.float();
    if (f < min) min = f;
    if (f > max) max = f;
  }
  t.true(min >= 0 && min < 0.001 && max < 1 && max > 0.999);
  const bytes = new Uint8Array(256 * 400 + 3); // odd length: the tail is filled too
  r.fill(bytes);
  let i = 0;
  t.true(chiSquare(256, bytes.length, () => bytes[i++]) < 380, 'fill bytes');
  const u = new Set(draw(r, 10_000));
  t.true(u.size > 9_990, 'u32 values repeat too often');
}
