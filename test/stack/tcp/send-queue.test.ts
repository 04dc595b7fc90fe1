// The send queue: what goes in comes out byte for byte, whatever mix of
// copied, by-reference, small and large writes; copies go straight into owned
// blocks, which return to the stack's pool once acknowledged.

import test from 'ava';
import { BLOCK_SIZE, BlockPool, SendQueue } from '../../../stack/tcp/send-queue';
import { rng as xorshift } from '../../helpers/rng';

function contents(q: SendQueue): Uint8Array {
  const out = new Uint8Array(q.length);
  q.copy(0, q.length, out, 0);
  return out;
}

test('random mixes of pushCopy and push, read back at random offsets and shifted, match a plain model', (t) => {
  const next32 = xorshift(11);
  const rng = {
    int: (a: number, b: number): number => a + (next32() % (b - a + 1)),
    chance: (p: number): boolean => next32() / 2 ** 32 < p,
  };
  const pool = new BlockPool();
  const q = new SendQueue(pool);
  let model: number[] = [];
  let next = 0;
  for (let step = 0; step < 1200; step++) {
    const r = rng.int(0, 9);
    if (r < 6) {
      const n = rng.chance(0.2) ? rng.int(BLOCK_SIZE, 3 * BLOCK_SIZE) : rng.int(1, 3000);
      const data = new Uint8Array(n);
      for (let i = 0; i < n; i++) data[i] = (next++ * 31) & 0xff;
      if (rng.chance(0.5)) q.pushCopy(data);
      else q.push(data);
      model.push(...data);
    } else if (q.length > 0) {
      const n = rng.int(0, q.length);
      q.shift(n);
      model = model.slice(n);
    }
    if (q.length > 0 && step % 7 === 0) {
      const off = rng.int(0, q.length - 1);
      const len = rng.int(0, q.length - off);
      const out = new Uint8Array(len);
      q.copy(off, len, out, 0);
      t.deepEqual([...out], model.slice(off, off + len), `step ${step}`);
    }
    t.is(q.length, model.length);
  }
  t.deepEqual([...contents(q)], model);
});

test('pushCopy keeps no reference to the caller\'s buffer: changing it afterwards changes nothing queued', (t) => {
  const q = new SendQueue(new BlockPool());
  const data = new Uint8Array(40_000).fill(7);
  q.pushCopy(data);
  data.fill(9);
  t.true(contents(q).every((b) => b === 7));
});

test('acknowledged blocks go back to the pool and are reused: a long transfer allocates a bounded number of blocks', (t) => {
  const pool = new BlockPool(8);
  const q = new SendQueue(pool);
  const chunk = new Uint8Array(10_000);
  let taken = 0;
  const distinct = new Set<ArrayBufferLike>();
  const realTake = pool.take.bind(pool);
  pool.take = () => {
    taken++;
    const b = realTake();
    distinct.add(b.buffer);
    return b;
  };
  for (let i = 0; i < 1000; i++) {
    q.pushCopy(chunk);
    if (q.length > 3 * BLOCK_SIZE) q.shift(q.length - BLOCK_SIZE);
  }
  q.shift(q.length);
  t.true(pool.size > 0, 'blocks came back');
  t.true(taken >= 600, `${taken} blocks taken for 10 MB`);
  // At most four blocks are ever in use at once; every other take was a reused block.
  t.true(distinct.size <= 6, `${distinct.size} distinct blocks`);
  t.true(pool.size <= 8);
});

test('by-reference buffers never enter the pool, even when they end at their ArrayBuffer\'s end', (t) => {
  const pool = new BlockPool();
  const q = new SendQueue(pool);
  q.push(new Uint8Array(50_000));
  q.shift(50_000);
  t.is(pool.size, 0);
});
