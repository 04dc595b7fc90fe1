// CryptoRandom (net-api/crypto-random): the OS CSPRNG behind a RandomSource,
// read through a pool that is refilled as it runs out.

import test from 'ava';
import { CryptoRandom } from '../../net-api/crypto-random';
import { assertRoughlyUniform, draw } from '../helpers/uniform';

test('CryptoRandom: u32, float and fill are roughly uniform', (t) => {
  assertRoughlyUniform(t, new CryptoRandom());
});

test('CryptoRandom keeps producing fresh values across pool refills', (t) => {
  const r = new CryptoRandom();
  const values = draw(r, 5000); // several 1024-word pools
  t.true(new Set(values).size > 4990);
  t.true(values.every((v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff));
  const a = new Uint8Array(32);
  const b = new Uint8Array(32);
  r.fill(a);
  r.fill(b);
  t.notDeepEqual(a, b);
});
