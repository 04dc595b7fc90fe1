// CryptoRandom: the operating system's CSPRNG as a RandomSource, for stacks
// assembled for real use (the default net stack, TUN/TAP labs, the CLI). It
// lives outside stack/ because it needs node:crypto; simulations pass a
// SeededRandom instead (ARCHITECTURE.md, "Randomness").

import { randomFillSync } from 'node:crypto';
import type { RandomSource } from '../stack/random';

const POOL_WORDS = 1024;

/** The operating system's CSPRNG, read 4 KiB at a time so u32() does not allocate. */
export class CryptoRandom implements RandomSource {
  private readonly pool = new Uint32Array(POOL_WORDS);
  private index = POOL_WORDS;

  u32(): number {
    if (this.index === POOL_WORDS) {
      randomFillSync(this.pool);
      this.index = 0;
    }
    return this.pool[this.index++];
  }

  float(): number {
    return ((this.u32() >>> 5) * 67108864 + (this.u32() >>> 6)) / 9007199254740992;
  }

  fill(out: Uint8Array): void {
    randomFillSync(out);
  }
}
