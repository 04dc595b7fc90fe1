import test from 'ava';
import { SeededRandom } from '../../../stack/random';
import { EphemeralPorts } from '../../../stack/tcp/ports';

const A = 0x0a000001;
const B = 0x0a000002;
const none = (): boolean => false;

test('picks stay within the default range 32768..60999', (t) => {
  const ports = new EphemeralPorts(new SeededRandom(1));
  t.is(ports.min, 32768);
  t.is(ports.max, 60999);
  for (let i = 0; i < 5000; i++) {
    const p = ports.pick(A, (B + i) >>> 0, 80 + (i % 7), none);
    t.true(p >= 32768 && p <= 60999, `port ${p}`);
  }
});

test('ports already in use are skipped; each pick is a fresh port towards one destination', (t) => {
  const ports = new EphemeralPorts(new SeededRandom(2), 40000, 40999);
  const used = new Set<number>();
  for (let i = 0; i < 1000; i++) {
    const p = ports.pick(A, B, 443, (port) => used.has(port));
    t.false(used.has(p));
    used.add(p);
  }
  t.is(used.size, 1000); // the whole range, no repeats
  t.is(ports.pick(A, B, 443, (port) => used.has(port)), -1);
  used.delete(40123);
  t.is(ports.pick(A, B, 443, (port) => used.has(port)), 40123);
});

test('returns -1 when every port is in use, after trying each exactly once', (t) => {
  const ports = new EphemeralPorts(new SeededRandom(3), 5000, 5009);
  const tried: number[] = [];
  t.is(
    ports.pick(A, B, 80, (p) => {
      tried.push(p);
      return true;
    }),
    -1,
  );
  t.deepEqual([...tried].sort((a, b) => a - b), [5000, 5001, 5002, 5003, 5004, 5005, 5006, 5007, 5008, 5009]);
  const single = new EphemeralPorts(new SeededRandom(3), 7, 7);
  t.is(single.pick(A, B, 80, none), 7);
  t.is(single.pick(A, B, 80, () => true), -1);
});

test('consecutive connections to one destination take consecutive ports (RFC 6056 algorithm 4)', (t) => {
  const ports = new EphemeralPorts(new SeededRandom(4));
  const first = ports.pick(A, B, 80, none);
  const second = ports.pick(A, B, 80, none);
  t.is(second, first === 60999 ? 32768 : first + 1);
});

test('different destinations start from unrelated ports', (t) => {
  const ports = new EphemeralPorts(new SeededRandom(5));
  const picks = new Set<number>();
  for (let i = 0; i < 50; i++) picks.add(ports.pick(A, (0xc0a80000 + i) >>> 0, 80, none));
  t.true(picks.size >= 48, `only ${picks.size} distinct ports for 50 destinations`);
  const byPort = new Set<number>();
  for (let port = 1; port <= 50; port++) byPort.add(ports.pick(A, B, port, none));
  t.true(byPort.size >= 48);
  // Consecutive destinations must not give consecutive ports (that would leak the counter).
  const seq = [0, 1, 2, 3].map((i) => new EphemeralPorts(new SeededRandom(6)).pick(A, B + i, 80, none));
  t.false(seq[1] === seq[0] + 1 && seq[2] === seq[1] + 1 && seq[3] === seq[2] + 1);
});

test('the same seed gives the same choices; another seed does not', (t) => {
  const run = (seed: number): number[] => {
    const ports = new EphemeralPorts(new SeededRandom(seed));
    return Array.from({ length: 20 }, (_, i) => ports.pick(A, B + (i % 3), 80, none));
  };
  t.deepEqual(run(7), run(7));
  t.notDeepEqual(run(7), run(8));
});

test('bad ranges are rejected', (t) => {
  const r = new SeededRandom(1);
  t.throws(() => new EphemeralPorts(r, 0, 100), { instanceOf: RangeError });
  t.throws(() => new EphemeralPorts(r, 100, 65536), { instanceOf: RangeError });
  t.throws(() => new EphemeralPorts(r, 2000, 1000), { instanceOf: RangeError });
  t.throws(() => new EphemeralPorts(r, 1.5, 1000), { instanceOf: RangeError });
});
