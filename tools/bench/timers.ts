// Timer wheel throughput with 100,000 pending timers.
// Run: node --import ./tools/ts-loader.mjs tools/bench/timers.ts
// (add --expose-gc before --import for steadier heap-growth numbers).

import { pathToFileURL } from 'node:url';
import { VirtualClock } from '../../stack/time/virtual-clock';
import type { Timer } from '../../stack/time/clock';
import { SeededRandom } from '../../stack/random';

const N = 100_000;
const MASK = (1 << 20) - 1;

const gc = (globalThis as { gc?: () => void }).gc;

function measure(log: (line: string) => void, name: string, ops: number, body: () => void): void {
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const start = performance.now();
  body();
  const ms = performance.now() - start;
  const heapGrowth = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;
  const perOp = (ms * 1e6) / ops;
  log(
    `${name.padEnd(54)} ${ops.toLocaleString('en').padStart(10)} ops ${ms.toFixed(1).padStart(8)} ms ` +
      `${perOp.toFixed(0).padStart(5)} ns/op ${((ops / ms) * 1000 / 1e6).toFixed(2).padStart(6)} M ops/s  heap ${heapGrowth >= 0 ? '+' : ''}${heapGrowth.toFixed(1)} MB`,
  );
}

function setup(): { clock: VirtualClock; timers: Timer[]; fired: { n: number } } {
  const clock = new VirtualClock();
  const fired = { n: 0 };
  const timers: Timer[] = [];
  for (let i = 0; i < N; i++) timers.push(clock.createTimer(() => fired.n++));
  return { clock, timers, fired };
}

/** Runs every timer benchmark, printing one line per measurement. */
export function benchTimers(log: (line: string) => void = console.log): void {
  // Random inputs drawn up front, so the measurements exclude the generator.
  const rng = new SeededRandom('bench-timers');
  const noise = new Float64Array(MASK + 1);
  for (let i = 0; i < noise.length; i++) noise[i] = rng.float();

  log(`tcplab timer wheel, ${N.toLocaleString('en')} timers, node ${process.version}`);

  // Warm up the JIT on a separate clock.
  {
    const { clock, timers } = setup();
    for (let r = 0; r < 5; r++) {
      for (let i = 0; i < N; i++) timers[i].start(noise[(i + r) & MASK] * 60_000);
      clock.advance(30_000);
    }
    clock.runUntilIdle();
  }

  {
    const { clock, timers, fired } = setup();
    measure(log, 'arm 100k idle timers (random 0..60 s)', N, () => {
      for (let i = 0; i < N; i++) timers[i].start(noise[i & MASK] * 60_000);
    });

    // TCP re-arms its RTO on nearly every ACK: re-arm random pending timers to
    // now + 200..1200 ms while time creeps forward (1 us per op), so some fire.
    const rearms = 2_000_000;
    measure(log, 're-arm pending timers (RTO pattern), 100k pending', rearms, () => {
      let k = 7;
      for (let j = 0; j < rearms; j++) {
        const i = (noise[k++ & MASK] * N) | 0;
        timers[i].start(200 + noise[k++ & MASK] * 1000);
        if ((j & 1023) === 0) clock.advance(1.024);
      }
    });
    log(`  (${fired.n.toLocaleString('en')} fired meanwhile, ${clock.pending().toLocaleString('en')} pending)`);

    measure(log, 'stop + start, 100k pending', rearms, () => {
      let k = 11;
      for (let j = 0; j < rearms; j++) {
        const t = timers[(noise[k++ & MASK] * N) | 0];
        t.stop();
        t.start(40 + noise[k++ & MASK] * 200);
      }
    });

    measure(log, 'nextDeadline() with 100k pending', 1_000_000, () => {
      let s = 0;
      for (let j = 0; j < 1_000_000; j++) s += clock.nextDeadline();
      if (s === 42) log(String(s)); // keeps the loop from being optimised away
    });

    fired.n = 0;
    const before = clock.pending();
    measure(log, 'fire all pending (runUntilIdle)', before, () => {
      clock.runUntilIdle();
    });
    if (fired.n !== before) throw new Error(`fired ${fired.n} of ${before}`);
  }

  {
    const { clock, timers, fired } = setup();
    for (let i = 0; i < N; i++) timers[i].start(noise[i & MASK] * 7_200_000);
    measure(log, 'fire 100k spread over 2 h (keepalive-like)', N, () => {
      clock.runUntilIdle();
    });
    if (fired.n !== N) throw new Error('not all fired');
  }

  {
    // Steady state: 100k connections, each with an RTO timer re-armed on every
    // ACK (one ACK per connection per 100 ms) and a 40 ms delayed-ACK timer,
    // simulated in 1 ms steps for 10 virtual seconds.
    const clock = new VirtualClock();
    let fires = 0;
    const rto: Timer[] = [];
    const dack: Timer[] = [];
    for (let i = 0; i < N; i++) {
      rto.push(clock.createTimer(() => fires++));
      dack.push(clock.createTimer(() => fires++));
      rto[i].start(200 + noise[i & MASK] * 100);
    }
    const perMs = N / 100;
    let k = 3;
    let ops = 0;
    measure(log, 'steady state: 100k conns, ACK every 100 ms, 10 s sim', 10_000 * perMs * 2, () => {
      for (let ms = 0; ms < 10_000; ms++) {
        for (let j = 0; j < perMs; j++) {
          const i = (noise[k++ & MASK] * N) | 0;
          rto[i].start(200 + noise[k++ & MASK] * 100);
          dack[i].start(40);
          ops += 2;
        }
        clock.advance(1);
      }
    });
    log(`  (${ops.toLocaleString('en')} arms, ${fires.toLocaleString('en')} fired, ${clock.pending().toLocaleString('en')} pending)`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) benchTimers();
