import test from 'ava';
import { SeededRandom, type RandomSource } from '../../../stack/random';
import { VirtualClock } from '../../../stack/time/virtual-clock';
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

test('connections held until exhaustion use every port of small ranges, then -1', (t) => {
  for (const [min, max] of [[1000, 1000], [1000, 1001], [1001, 1003], [2000, 2008], [3001, 3064], [65500, 65535]]) {
    for (const destination of [[B, 80], [0, 0]]) {
      const ports = new EphemeralPorts(new SeededRandom(min), min, max);
      const used = new Set<number>();
      for (let i = min; i <= max; i++) {
        const p = ports.pick(A, destination[0], destination[1], (port) => used.has(port));
        t.true(p >= min && p <= max && !used.has(p), `${min}..${max}: port ${p}`);
        used.add(p);
      }
      t.is(ports.pick(A, destination[0], destination[1], (port) => used.has(port)), -1, `${min}..${max}`);
    }
  }
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
  const odd = new EphemeralPorts(new SeededRandom(3), 5001, 5009);
  tried.length = 0;
  t.is(odd.pick(A, B, 80, (p) => (tried.push(p), true)), -1);
  t.deepEqual([...tried].sort((a, b) => a - b), [5001, 5002, 5003, 5004, 5005, 5006, 5007, 5008, 5009]);
  const single = new EphemeralPorts(new SeededRandom(3), 7, 7);
  t.is(single.pick(A, B, 80, none), 7);
  t.is(single.pick(A, B, 80, () => true), -1);
});

test('consecutive connections to one destination take random steps, not consecutive ports (CVE-2022-32296)', (t) => {
  const ports = new EphemeralPorts(new SeededRandom(4));
  const picks = Array.from({ length: 1001 }, () => ports.pick(A, B, 80, none));
  const steps = new Map<number, number>();
  for (let i = 1; i < picks.length; i++) {
    const step = (picks[i] - picks[i - 1] + 28232) % 28232; // forward distance within 32768..60999
    steps.set(step, (steps.get(step) ?? 0) + 1);
  }
  t.false(steps.has(1), 'two consecutive connections took consecutive ports');
  t.false(steps.has(0), 'a port was handed out twice in a row');
  // Linux's increments: 2 * (1 + a random 0..7), so eight distinct steps, none dominant.
  t.true(steps.size >= 6, `only ${steps.size} distinct steps: ${[...steps.keys()].join(' ')}`);
  const commonest = Math.max(...steps.values());
  t.true(commonest < 250, `one step occurs ${commonest} times in 1000`);
});

test('connect picks prefer the parity of the range\'s low end; binds the other, from a random start', (t) => {
  const ports = new EphemeralPorts(new SeededRandom(11), 40001, 40999);
  for (let i = 0; i < 200; i++) t.is((ports.pick(A, (B + i) >>> 0, 443, none) - 40001) % 2, 0);
  const binds = Array.from({ length: 200 }, () => ports.pick(A, 0, 0, none));
  for (const p of binds) t.is((p - 40001) % 2, 1);
  t.true(new Set(binds).size > 150, 'bind picks should start at random');
  // The preferred half full, the other half is used.
  const even = (p: number): boolean => (p - 40001) % 2 === 0;
  t.is(even(ports.pick(A, B, 443, even)), false);
  t.is(even(ports.pick(A, 0, 0, (p) => !even(p))), true);
});

test('different destinations start from unrelated ports', (t) => {
  const ports = new EphemeralPorts(new SeededRandom(5));
  const picks = new Set<number>();
  for (let i = 0; i < 50; i++) picks.add(ports.pick(A, (0xc0a80000 + i) >>> 0, 80, none));
  t.true(picks.size >= 48, `only ${picks.size} distinct ports for 50 destinations`);
  const byPort = new Set<number>();
  for (let port = 1; port <= 50; port++) byPort.add(ports.pick(A, B, port, none));
  t.true(byPort.size >= 48);
  // Each destination has its own offset and (almost always) its own counter: picks towards
  // one destination leave the next pick towards another where it was.
  const quiet = new EphemeralPorts(new SeededRandom(12));
  const other = new EphemeralPorts(new SeededRandom(12));
  for (let i = 0; i < 100; i++) quiet.pick(A, B, 80, none);
  t.is(quiet.pick(A, B, 443, none), other.pick(A, B, 443, none));
  // Consecutive destinations must not give consecutive ports (that would leak the counter).
  const seq = [0, 1, 2, 3].map((i) => new EphemeralPorts(new SeededRandom(6)).pick(A, B + i, 80, none));
  t.false(seq[1] === seq[0] + 1 && seq[2] === seq[1] + 1 && seq[3] === seq[2] + 1);
});

test('the same seed gives the same choices; another seed does not', (t) => {
  const run = (seed: number): number[] => {
    const ports = new EphemeralPorts(new SeededRandom(seed));
    const held = new Set<number>();
    return Array.from({ length: 1000 }, (_, i) => {
      const p = ports.pick(A, B + (i % 3), 80, (port) => held.has(port));
      if (i % 2 === 0) held.add(p);
      return p;
    });
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

test('picks stay cheap: a sparse in-use set costs about one inUse call per pick', (t) => {
  const r = new SeededRandom(13);
  const busy = new Set<number>();
  while (busy.size < 2823) busy.add(32768 + (r.u32() % 28232)); // a tenth of the range
  const ports = new EphemeralPorts(new SeededRandom(14));
  let calls = 0;
  const inUse = (port: number): boolean => {
    calls++;
    return busy.has(port);
  };
  for (let i = 0; i < 100_000; i++) {
    const p = ports.pick(A, (B + (i % 1000)) >>> 0, 80 + (i % 3), inUse);
    t.false(busy.has(p));
  }
  t.true(calls / 100_000 < 1.5, `${calls / 100_000} inUse calls per pick`);
  // Connections held to one destination: passing busy ports moves the counter past them.
  const held = new Set<number>();
  calls = 0;
  for (let i = 0; i < 10_000; i++) held.add(ports.pick(A, B, 443, (port) => (calls++, held.has(port))));
  t.is(held.size, 10_000);
  t.true(calls / 10_000 < 3, `${calls / 10_000} inUse calls per pick with up to 10,000 held`);
});

test('an idle stack stays small: the 65,536 counters are made on the first connect', (t) => {
  const inner = new SeededRandom(15);
  let bytes = 0;
  const counting: RandomSource = {
    u32: () => ((bytes += 4), inner.u32()),
    float: () => ((bytes += 8), inner.float()),
    fill: (out) => ((bytes += out.length), inner.fill(out)),
  };
  const ports = new EphemeralPorts(counting);
  t.is(bytes, 16); // the SipHash key
  ports.pick(A, 0, 0, none); // a bind: a random start, no counters
  t.is(bytes, 20);
  ports.pick(A, B, 80, none);
  t.true(bytes >= 20 + 2 * 65536, `only ${bytes} random bytes drawn`);
  const after = bytes;
  ports.pick(A, B, 80, none);
  t.is(bytes, after + 4); // one draw for the random increment
});

test('with a clock, offsets and counters are reshuffled every 10 seconds', (t) => {
  const run = (at: number): number[] => {
    const ports = new EphemeralPorts(new SeededRandom(16), 32768, 60999, new VirtualClock(at));
    return Array.from({ length: 20 }, (_, i) => ports.pick(A, (B + i) >>> 0, 80, none));
  };
  t.deepEqual(run(0), run(9_999));
  const later = run(10_000);
  const same = run(0).filter((p, i) => p === later[i]).length;
  t.true(same <= 2, `${same} of 20 destinations kept their port across the 10 s boundary`);
});
