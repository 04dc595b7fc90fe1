// The timer wheel (stack/time/wheel) and VirtualClock (stack/time/virtual-clock):
// ordering, exact deadlines, long timers, flush-hook groups and run limits.
// RealClock is tested in test/net-api/real-clock.test.ts.

import test from 'ava';
import type { Timer } from '../../../stack/time/clock';
import { TimerWheel } from '../../../stack/time/wheel';
import { VirtualClock } from '../../../stack/time/virtual-clock';
import { SeededRandom } from '../../../stack/random';

/** A VirtualClock whose timers log "<name>@<now>" when they fire. */
function logging(start = 0) {
  const clock = new VirtualClock(start);
  const log: string[] = [];
  const make = (name: string, then?: () => void): Timer =>
    clock.createTimer(() => {
      log.push(`${name}@${clock.now()}`);
      then?.();
    });
  return { clock, log, make };
}

test('timers fire in deadline order and see now() equal to their exact deadline', (t) => {
  const { clock, log, make } = logging();
  make('c').start(30.25);
  make('a').start(0.125);
  make('b').startAt(7.5);
  make('d').start(30.75);
  clock.runUntil(100);
  t.deepEqual(log, ['a@0.125', 'b@7.5', 'c@30.25', 'd@30.75']);
  t.is(clock.now(), 100);
});

test('equal deadlines fire in arming order; re-arming counts as a new arming', (t) => {
  const { clock, log, make } = logging();
  const a = make('a');
  const b = make('b');
  const c = make('c');
  a.start(5);
  b.start(5);
  c.start(5);
  a.start(5); // re-armed last: now fires last
  clock.runUntilIdle();
  t.deepEqual(log, ['b@5', 'c@5', 'a@5']);
});

test('armed, deadline, re-arm and stop', (t) => {
  const { clock, log, make } = logging();
  const a = make('a');
  t.false(a.armed);
  t.is(a.deadline, Infinity);
  a.start(10);
  t.true(a.armed);
  t.is(a.deadline, 10);
  t.is(clock.pending(), 1);
  a.start(20); // moves, does not duplicate
  t.is(a.deadline, 20);
  t.is(clock.pending(), 1);
  clock.runUntil(15);
  t.deepEqual(log, []);
  clock.runUntil(20);
  t.deepEqual(log, ['a@20']);
  t.false(a.armed);
  t.is(a.deadline, Infinity);
  a.start(5);
  a.stop();
  a.stop(); // stopping twice is harmless
  t.false(a.armed);
  t.is(clock.pending(), 0);
  t.true(clock.runUntilIdle());
  t.deepEqual(log, ['a@20']);
  t.is(clock.now(), 20);
});

test('a deadline in the past fires at the next opportunity, at the present time', (t) => {
  const { clock, log, make } = logging(1000);
  const a = make('a');
  a.startAt(3);
  t.is(a.deadline, 1000);
  a.start(-5);
  t.is(a.deadline, 1000);
  t.throws(() => a.start(Number.NaN), { instanceOf: RangeError });
  clock.runUntil(1000);
  t.deepEqual(log, ['a@1000']);
});

test('timers armed by callbacks for the current instant fire in the same advance, in order', (t) => {
  const { clock, log, make } = logging();
  const later = make('later');
  const echo = make('echo');
  const echo2 = make('echo2');
  const first = make('first', () => {
    echo.start(0); // this instant, after the work already due now
    echo2.startAt(clock.now() + 0.5);
  });
  const same = make('same');
  first.start(10);
  same.start(10);
  later.start(10.25);
  clock.runUntil(10.25);
  t.deepEqual(log, ['first@10', 'same@10', 'echo@10', 'later@10.25']);
  t.true(echo2.armed);
  clock.runUntil(10.5);
  t.deepEqual(log.slice(4), ['echo2@10.5']);
});

test('a timer may re-arm itself from its own callback', (t) => {
  const clock = new VirtualClock();
  const seen: number[] = [];
  const tick: Timer = clock.createTimer(() => {
    seen.push(clock.now());
    if (seen.length < 5) tick.start(200);
  });
  tick.start(200);
  t.true(clock.runUntilIdle());
  t.deepEqual(seen, [200, 400, 600, 800, 1000]);
});

test('a callback can stop a timer that is due at the same instant', (t) => {
  const { clock, log, make } = logging();
  const victim = make('victim');
  const killer = make('killer', () => victim.stop());
  killer.start(1);
  victim.start(1);
  clock.runUntilIdle();
  t.deepEqual(log, ['killer@1']);
  t.is(clock.pending(), 0);
});

test('fractional deadlines inside one millisecond slot: only those <= the target fire', (t) => {
  const { clock, log, make } = logging();
  make('x').startAt(5.7);
  make('y').startAt(5.2);
  clock.runUntil(5.5);
  t.deepEqual(log, ['y@5.2']);
  t.is(clock.now(), 5.5);
  make('z').startAt(5.6); // same slot, armed after the slot was opened
  make('w').startAt(5.55);
  clock.runUntil(6);
  t.deepEqual(log, ['y@5.2', 'w@5.55', 'z@5.6', 'x@5.7']);
});

test('long timers (TIME_WAIT 2*MSL, 7200 s keepalive, a day, a century) fire at exactly their deadline', (t) => {
  const { clock, log, make } = logging(0.5);
  make('timewait').start(2 * 60_000);
  make('keepalive').start(7_200_000);
  make('day').start(86_400_000);
  make('century').start(100 * 365 * 86_400_000); // beyond the wheel's 2^40 ms reach
  make('soon').start(3);
  t.is(clock.nextDeadline(), 3.5);
  clock.runUntil(7_200_000); // not yet: keepalive is due at 7_200_000.5
  t.deepEqual(log, ['soon@3.5', 'timewait@120000.5']);
  t.true(clock.runUntilIdle({ maxEvents: 10 }));
  t.deepEqual(log, ['soon@3.5', 'timewait@120000.5', 'keepalive@7200000.5', 'day@86400000.5', `century@${100 * 365 * 86_400_000 + 0.5}`]);
});

test('a timer due exactly where a higher-level slot begins does not hide that slot', (t) => {
  const { clock, log, make } = logging();
  const a = make('a');
  const b = make('b');
  const c = make('c');
  // b (45 ms) and c (100 ms) sit in the second level; x's callback arms a for
  // tick 32, in the first level, exactly where b's 32 ms block begins.
  const x = make('x', () => a.startAt(32.5));
  b.start(45);
  c.start(100);
  x.start(20);
  t.true(clock.runUntilIdle());
  t.deepEqual(log, ['x@20', 'a@32.5', 'b@45', 'c@100']);
  t.is(clock.pending(), 0);
});

test('a long timer fires exactly when reached by many small steps', (t) => {
  const { clock, log, make } = logging();
  make('keepalive').start(7_200_000);
  make('rto').start(1234.5);
  for (let i = 0; i < 7200; i++) clock.advance(1000);
  t.deepEqual(log, ['rto@1234.5', 'keepalive@7200000']);
  t.is(clock.now(), 7_200_000);
});

test('a clock started late in time (beyond 2^31 ms) still orders and times timers exactly', (t) => {
  const start = 2 ** 33 + 0.25;
  const { clock, log, make } = logging(start);
  make('b').start(40_000);
  make('a').start(31);
  make('c').start(2 ** 36);
  clock.runUntilIdle();
  t.deepEqual(log, [`a@${start + 31}`, `b@${start + 40_000}`, `c@${start + 2 ** 36}`]);
});

test('100,000 timers with random deadlines fire in (deadline, arming) order at their deadlines', (t) => {
  const clock = new VirtualClock();
  const rng = new SeededRandom('wheel-100k');
  const n = 100_000;
  const deadlines = new Float64Array(n);
  const fired: number[] = [];
  let wrongTime = 0;
  for (let i = 0; i < n; i++) {
    // Mix of short (delayed ACK), medium (RTO) and long (keepalive) timers; some exact duplicates.
    const r = rng.float();
    const d = r < 0.3 ? rng.float() * 200 : r < 0.9 ? 200 + rng.float() * 120_000 : rng.float() * 7_200_000;
    deadlines[i] = i % 97 === 0 ? Math.floor(d) : d;
    const timer = clock.createTimer(() => {
      if (clock.now() !== deadlines[i]) wrongTime++;
      fired.push(i);
    });
    timer.startAt(deadlines[i]);
  }
  t.is(clock.pending(), n);
  t.true(clock.runUntilIdle());
  t.is(fired.length, n);
  t.is(wrongTime, 0);
  const expected = Array.from({ length: n }, (_, i) => i).sort((a, b) => deadlines[a] - deadlines[b] || a - b);
  t.deepEqual(fired, expected);
});

test('stopping and re-arming many timers that are already due in one slot keeps exact order', (t) => {
  const clock = new VirtualClock();
  const rng = new SeededRandom('one-slot');
  const n = 3000;
  const fired: number[] = [];
  const timers = Array.from({ length: n }, (_, i) => clock.createTimer(() => fired.push(i)));
  const deadline = new Float64Array(n);
  const seq = new Float64Array(n);
  const live = new Array<boolean>(n).fill(true);
  let s = 0;
  for (let i = 0; i < n; i++) {
    deadline[i] = 10 + Math.floor(rng.float() * 64) / 64; // all in the 10 ms slot, with many ties
    timers[i].startAt(deadline[i]);
    seq[i] = s++;
  }
  t.is(clock.nextDeadline(), Math.min(...deadline)); // the slot is now open and sorted
  for (let k = 0; k < 2000; k++) {
    const i = Math.floor(rng.float() * n);
    if (rng.float() < 0.6) {
      timers[i].stop();
      live[i] = false;
    } else {
      deadline[i] = 10 + Math.floor(rng.float() * 64) / 64;
      timers[i].startAt(deadline[i]);
      seq[i] = s++;
      live[i] = true;
    }
  }
  clock.runUntilIdle();
  const expected = Array.from({ length: n }, (_, i) => i)
    .filter((i) => live[i])
    .sort((a, b) => deadline[a] - deadline[b] || seq[a] - seq[b]);
  t.deepEqual(fired, expected);
});

test('random arm / re-arm / stop / advance, also from callbacks, matches a naive sorted model', (t) => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    const rng = new SeededRandom(seed);
    const clock = new VirtualClock(seed === 6 ? 2 ** 31 - 5000 : 0); // one run crosses 2^31 ms
    const count = 300;
    // The model: each timer's deadline and arming sequence number, or null when disarmed.
    const model: ({ deadline: number; seq: number } | null)[] = new Array(count).fill(null);
    let seq = 0;
    let fired = 0;
    const mistakes: string[] = [];
    const timers: Timer[] = [];
    const modelNext = (): number => {
      let best = -1;
      for (let i = 0; i < count; i++) {
        const m = model[i];
        if (m === null) continue;
        const b = best < 0 ? null : model[best];
        if (b === null || m.deadline < b.deadline || (m.deadline === b.deadline && m.seq < b.seq)) best = i;
      }
      return best;
    };
    const delay = (): number => {
      const r = rng.float();
      if (r < 0.1) return 0;
      if (r < 0.5) return rng.float() * 40;
      if (r < 0.8) return rng.float() * 3000;
      if (r < 0.95) return rng.float() * 200_000;
      return rng.float() * 9_000_000;
    };
    const arm = (i: number): void => {
      const r = rng.float();
      // Some deadlines land exactly on slot-block boundaries (multiples of 32 and 1024 ms),
      // where a level-0 slot and a higher-level cascade come due at the same tick.
      if (r < 0.15) timers[i].startAt(Math.ceil((clock.now() + delay()) / 32) * 32 + (r < 0.05 ? 0 : 0.5));
      else if (r < 0.2) timers[i].startAt(Math.ceil((clock.now() + delay()) / 1024) * 1024);
      else timers[i].start(delay());
      model[i] = { deadline: timers[i].deadline, seq: seq++ };
    };
    const stop = (i: number): void => {
      timers[i].stop();
      model[i] = null;
    };
    for (let i = 0; i < count; i++) {
      timers.push(
        clock.createTimer(() => {
          fired++;
          // Whatever fires must be the model's (deadline, seq)-least timer, at its deadline.
          const best = modelNext();
          const m = model[i];
          if (best !== i || m === null || m.deadline !== clock.now()) {
            mistakes.push(`seed ${seed}: ${i} fired at ${clock.now()}; model expected ${best}@${best < 0 ? '-' : model[best]!.deadline}`);
          }
          model[i] = null;
          // Callbacks sometimes arm or stop timers, like a TCP connection would.
          const r = rng.float();
          if (r < 0.3) arm(Math.floor(rng.float() * count));
          else if (r < 0.4) stop(Math.floor(rng.float() * count));
        }),
      );
    }
    for (let i = 0; i < count; i++) arm(i);
    for (let steps = 0; steps < 5000 && mistakes.length === 0; steps++) {
      const r = rng.float();
      if (r < 0.2) arm(Math.floor(rng.float() * count));
      else if (r < 0.3) stop(Math.floor(rng.float() * count));
      else if (r < 0.35) clock.step();
      else {
        clock.runUntil(clock.now() + delay());
        const best = modelNext();
        const expectNext = best < 0 ? Infinity : model[best]!.deadline;
        if (expectNext <= clock.now()) mistakes.push(`seed ${seed}: ${best} should have fired by ${clock.now()}`);
        if (clock.nextDeadline() !== expectNext) mistakes.push(`seed ${seed}: nextDeadline ${clock.nextDeadline()} != ${expectNext}`);
      }
      const armed = model.filter((m) => m !== null).length;
      if (clock.pending() !== armed) mistakes.push(`seed ${seed}: pending ${clock.pending()} != ${armed}`);
    }
    t.deepEqual(mistakes, []);
    t.true(fired > 1000, `seed ${seed} fired only ${fired}`);
  }
});

test('flush hooks run after each group of timers that fired at one instant', (t) => {
  const { clock, log, make } = logging();
  clock.addFlushHook(() => log.push(`flush@${clock.now()}`));
  make('a').start(1);
  make('b').start(1);
  make('c').start(2.5);
  clock.runUntil(10);
  t.deepEqual(log, ['a@1', 'b@1', 'flush@1', 'c@2.5', 'flush@2.5']);
});

test('a flush hook that arms a timer for now starts a new group at the same instant', (t) => {
  const { clock, log, make } = logging();
  const deliver = make('deliver');
  let flushes = 0;
  clock.addFlushHook(() => {
    log.push(`flush@${clock.now()}`);
    if (flushes++ === 0) deliver.start(0);
  });
  make('send').start(4);
  t.true(clock.runUntilIdle());
  t.deepEqual(log, ['send@4', 'flush@4', 'deliver@4', 'flush@4']);
});

test('step() fires exactly one group', (t) => {
  const { clock, log, make } = logging();
  clock.addFlushHook(() => log.push('flush'));
  make('a').start(3);
  make('b').start(3);
  make('c').start(9);
  t.true(clock.step());
  t.deepEqual(log, ['a@3', 'b@3', 'flush']);
  t.is(clock.now(), 3);
  t.true(clock.step());
  t.deepEqual(log.slice(3), ['c@9', 'flush']);
  t.false(clock.step());
  t.is(clock.now(), 9);
});

test('advance(ms) moves time even when nothing is armed; runUntil never goes backwards', (t) => {
  const clock = new VirtualClock(50);
  clock.advance(12.5);
  t.is(clock.now(), 62.5);
  clock.runUntil(10);
  t.is(clock.now(), 62.5);
  t.throws(() => clock.advance(-1), { instanceOf: RangeError });
  t.throws(() => new VirtualClock(-1), { instanceOf: RangeError });
});

test('runUntilIdle stops at the virtual time limit', (t) => {
  const { clock, log, make } = logging(100);
  make('a').start(500);
  make('b').start(5000);
  t.false(clock.runUntilIdle({ limit: 1000 }));
  t.deepEqual(log, ['a@600']);
  t.is(clock.now(), 1100);
  t.is(clock.pending(), 1);
  t.true(clock.runUntilIdle({ limit: 10_000 }));
  t.deepEqual(log, ['a@600', 'b@5100']);
  t.is(clock.now(), 5100);
});

test('runUntilIdle stops after maxEvents callbacks, even within one instant', (t) => {
  const clock = new VirtualClock();
  let runs = 0;
  const spin: Timer = clock.createTimer(() => {
    runs++;
    spin.start(0); // re-arms for the same instant forever
  });
  spin.start(1);
  t.false(clock.runUntilIdle({ maxEvents: 1000 }));
  t.is(runs, 1000);
  t.is(clock.now(), 1);
  spin.stop();
  let periodic = 0;
  const keepalive: Timer = clock.createTimer(() => {
    periodic++;
    keepalive.start(75_000);
  });
  keepalive.start(75_000);
  t.false(clock.runUntilIdle({ maxEvents: 50 }));
  t.is(periodic, 50);
  t.is(clock.now(), 1 + 50 * 75_000);
});

test('a timer armed for Infinity counts as pending but never fires and does not block idleness', (t) => {
  const { clock, log, make } = logging();
  const never = make('never');
  never.startAt(Infinity);
  t.true(never.armed);
  t.is(clock.pending(), 1);
  t.is(clock.nextDeadline(), Infinity);
  t.true(clock.runUntilIdle());
  t.deepEqual(log, []);
  never.start(5);
  clock.runUntilIdle();
  t.deepEqual(log, ['never@5']);
});

test('TimerWheel.advance fires in order, sets the time to each deadline, then to the target', (t) => {
  let now = 0;
  const wheel = new TimerWheel(() => now);
  const seen: string[] = [];
  const setNow = (x: number): void => {
    now = x;
  };
  const a = wheel.createTimer(() => seen.push(`a@${now}`));
  const b = wheel.createTimer(() => seen.push(`b@${now}`));
  b.start(70_000.5);
  a.start(33.3);
  t.is(wheel.nextDeadline(), 33.3);
  t.is(wheel.size, 2);
  t.is(wheel.advance(1000, setNow), 1);
  t.is(now, 1000);
  t.is(wheel.nextDeadline(), 70_000.5);
  t.is(wheel.advance(80_000, setNow), 1);
  t.deepEqual(seen, ['a@33.3', 'b@70000.5']);
  t.is(now, 80_000);
  t.is(wheel.nextDeadline(), Infinity);
  t.is(wheel.size, 0);
});
