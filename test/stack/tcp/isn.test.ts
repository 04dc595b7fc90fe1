import test from 'ava';
import { VirtualClock } from '../../../stack/time/virtual-clock';
import { SeededRandom } from '../../../stack/random';
import { IsnGenerator, randomSipKey, sipHash24, sipKey } from '../../../stack/tcp/isn';

const hex64 = (out: Uint32Array): string => out[1].toString(16).padStart(8, '0') + out[0].toString(16).padStart(8, '0');
const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => i);

test('SipHash-2-4 matches the reference test vectors', (t) => {
  const key = sipKey(bytes(16)); // 00 01 .. 0f
  const out = new Uint32Array(2);
  // The SipHash paper, appendix A: message 00 01 .. 0e.
  t.is(sipHash24(key, bytes(15), 15, out), 0x49be45e5);
  t.is(hex64(out), 'a129ca6149be45e5');
  // The reference implementation's vectors.h, empty message (bytes 31 0e 0e dd 47 db 6f 72).
  sipHash24(key, new Uint8Array(0), 0, out);
  t.is(hex64(out), '726fdb47dd0e0e31');
});

/** An independent, slow SipHash-2-4 over BigInt, straight from the paper, to check every length. */
function referenceSipHash(key: Uint8Array, msg: Uint8Array): bigint {
  const M = (1n << 64n) - 1n;
  const rotl = (x: bigint, b: bigint): bigint => ((x << b) | (x >> (64n - b))) & M;
  const word = (b: Uint8Array, i: number): bigint => {
    let w = 0n;
    for (let j = 7; j >= 0; j--) w = (w << 8n) | BigInt(b[i + j] ?? 0);
    return w;
  };
  const k0 = word(key, 0);
  const k1 = word(key, 8);
  const v = [k0 ^ 0x736f6d6570736575n, k1 ^ 0x646f72616e646f6dn, k0 ^ 0x6c7967656e657261n, k1 ^ 0x7465646279746573n];
  const round = (): void => {
    v[0] = (v[0] + v[1]) & M; v[1] = rotl(v[1], 13n); v[1] ^= v[0]; v[0] = rotl(v[0], 32n);
    v[2] = (v[2] + v[3]) & M; v[3] = rotl(v[3], 16n); v[3] ^= v[2];
    v[0] = (v[0] + v[3]) & M; v[3] = rotl(v[3], 21n); v[3] ^= v[0];
    v[2] = (v[2] + v[1]) & M; v[1] = rotl(v[1], 17n); v[1] ^= v[2]; v[2] = rotl(v[2], 32n);
  };
  const padded = new Uint8Array(msg.length - (msg.length % 8) + 8);
  padded.set(msg);
  padded[padded.length - 1] = msg.length & 0xff;
  for (let i = 0; i < padded.length; i += 8) {
    const m = word(padded, i);
    v[3] ^= m;
    round();
    round();
    v[0] ^= m;
  }
  v[2] ^= 0xffn;
  for (let i = 0; i < 4; i++) round();
  return v[0] ^ v[1] ^ v[2] ^ v[3];
}

test('SipHash-2-4 agrees with a BigInt reference for every length 0..100 and random keys', (t) => {
  const rng = new SeededRandom('siphash');
  const out = new Uint32Array(2);
  for (let len = 0; len <= 100; len++) {
    const keyBytes = new Uint8Array(16);
    rng.fill(keyBytes);
    const msg = new Uint8Array(len + 5);
    rng.fill(msg);
    // Hashing a prefix of a longer buffer must only read `len` bytes.
    const lo = sipHash24(sipKey(keyBytes), msg, len, out);
    const expected = referenceSipHash(keyBytes, msg.subarray(0, len));
    t.is(hex64(out), expected.toString(16).padStart(16, '0'), `length ${len}`);
    t.is(lo, Number(expected & 0xffffffffn));
  }
  t.throws(() => sipKey(new Uint8Array(15)), { instanceOf: RangeError });
});

test('randomSipKey draws four words from the source', (t) => {
  t.deepEqual(randomSipKey(new SeededRandom(5)), randomSipKey(new SeededRandom(5)));
  t.notDeepEqual(randomSipKey(new SeededRandom(5)), randomSipKey(new SeededRandom(6)));
});

const A = 0x0a000001; // 10.0.0.1
const B = 0x0a000002; // 10.0.0.2

test('ISN differs for every change of the 4-tuple', (t) => {
  const gen = new IsnGenerator(new VirtualClock(), new SeededRandom(1));
  const isns = [
    gen.isn(A, 40000, B, 80),
    gen.isn(B, 40000, A, 80), // swapped addresses
    gen.isn(A, 40001, B, 80),
    gen.isn(A, 40000, B, 81),
    gen.isn(A, 40000, 0xc0a80001, 80),
    gen.isn(0xc0a80001, 40000, B, 80),
    gen.isn(A, 80, B, 40000), // swapped ports
  ];
  t.is(new Set(isns).size, isns.length);
  for (const x of isns) t.true(Number.isInteger(x) && x >= 0 && x <= 0xffffffff);
  t.is(gen.isn(A, 40000, B, 80), isns[0]); // and is stable for one tuple at one time
});

test('ISN advances 250 per millisecond (a 4 microsecond clock) for the same tuple', (t) => {
  const clock = new VirtualClock();
  const gen = new IsnGenerator(clock, new SeededRandom(2));
  const base = gen.isn(A, 40000, B, 80);
  const diff = (): number => (gen.isn(A, 40000, B, 80) - base) >>> 0;
  clock.advance(0.003);
  t.is(diff(), 0); // less than one 4 us tick
  clock.advance(0.001);
  t.is(diff(), 1);
  clock.advance(0.996);
  t.is(diff(), 250);
  clock.advance(999);
  t.is(diff(), 250_000);
  clock.advance(3_600_000); // an hour
  t.is(diff(), 250_000 + 900_000_000);
  clock.advance(5 * 3_600_000); // M passes 2^32 after about 4.77 h: the ISN wraps modulo 2^32
  t.true(Math.floor(clock.now() * 250) > 2 ** 32);
  t.is(diff(), Math.floor(clock.now() * 250) % 2 ** 32);
});

test('ISN depends on the secret: same seed same ISN, different seed different ISN', (t) => {
  const at = (seed: number): number => new IsnGenerator(new VirtualClock(1234.5), new SeededRandom(seed)).isn(A, 40000, B, 80);
  t.is(at(7), at(7));
  t.not(at(7), at(8));
});

test('ISNs of many tuples spread over the whole 32-bit space', (t) => {
  const gen = new IsnGenerator(new VirtualClock(), new SeededRandom(3));
  const buckets = new Array<number>(16).fill(0);
  for (let port = 1024; port < 1024 + 16_000; port++) buckets[gen.isn(A, port, B, 443) >>> 28]++;
  for (const c of buckets) t.true(c > 800 && c < 1200, `bucket count ${c}`);
});
