// RealClock (net-api/real-clock): wall-time timers on Node's event loop. The
// timer semantics they share with VirtualClock are tested in test/stack/time.

import test from 'ava';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Timer } from '../../stack/time/clock';
import { RealClock } from '../../net-api/real-clock';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

test.serial('RealClock fires a 0-delay and a 20 ms timer, then runs the flush hook', async (t) => {
  const clock = new RealClock();
  const log: string[] = [];
  const t0 = clock.now();
  let zeroAt = -1;
  let twentyAt = -1;
  await new Promise<void>((resolve) => {
    const keepAlive = setTimeout(() => resolve(), 5000); // the stack's own timers never hold the process
    clock.addFlushHook(() => log.push('flush'));
    clock.createTimer(() => {
      twentyAt = clock.now();
      log.push('twenty');
      clearTimeout(keepAlive);
      setImmediate(resolve);
    }).start(20);
    clock.createTimer(() => {
      zeroAt = clock.now();
      log.push('zero');
    }).start(0);
  });
  // Normally ['zero', 'flush', 'twenty', 'flush']; a machine stalled for 20 ms may run both in one batch.
  t.is(log[0], 'zero');
  t.is(log[1], log.length === 4 ? 'flush' : 'twenty');
  t.deepEqual(log.slice(-2), ['twenty', 'flush']);
  t.true(zeroAt >= t0);
  t.true(twentyAt - t0 >= 20, `20 ms timer fired after ${twentyAt - t0} ms`);
  t.is(clock.pending(), 0);
});

test.serial('RealClock runs 0-delay timers via setImmediate, not after a 1 ms setTimeout', async (t) => {
  const clock = new RealClock();
  const rounds = 500;
  let n = 0;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const keepAlive = setTimeout(() => resolve(), 5000);
    const hop: Timer = clock.createTimer(() => {
      if (++n < rounds) hop.start(0);
      else {
        clearTimeout(keepAlive);
        resolve();
      }
    });
    hop.start(0);
  });
  const elapsed = performance.now() - start;
  t.is(n, rounds);
  // 500 hops through setTimeout would take >= 500 ms; through setImmediate a few ms.
  t.true(elapsed < 300, `${rounds} zero-delay hops took ${elapsed.toFixed(1)} ms`);
});

test.serial('RealClock: an earlier timer armed later pulls the wake-up earlier', async (t) => {
  const clock = new RealClock();
  const order: string[] = [];
  const t0 = clock.now();
  await new Promise<void>((resolve) => {
    const keepAlive = setTimeout(() => resolve(), 5000);
    clock.createTimer(() => order.push('late')).start(2000);
    clock.createTimer(() => {
      order.push('early');
      clearTimeout(keepAlive);
      resolve();
    }).start(10);
  });
  t.deepEqual(order, ['early']);
  t.true(clock.now() - t0 < 1000);
  clock.dispose();
});

function runChild(script: string): { status: number | null; stdout: string; stderr: string; ms: number } {
  const start = performance.now();
  const r = spawnSync(process.execPath, ['--import', './tools/ts-loader.mjs', '--input-type=module', '-e', script], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - start };
}

test.serial('RealClock timers do not keep the process alive', (t) => {
  const clockUrl = new URL('../../net-api/real-clock.ts', import.meta.url).href;
  const idle = runChild(`
    const { RealClock } = await import(${JSON.stringify(clockUrl)});
    const clock = new RealClock();
    clock.createTimer(() => console.log('keepalive fired')).start(10_000);
    clock.createTimer(() => console.log('zero fired')).start(0);
    console.log('armed', clock.pending());
  `);
  t.is(idle.status, 0, idle.stderr);
  t.true(idle.stdout.includes('armed 2'), idle.stdout + idle.stderr);
  t.true(idle.stdout.includes('zero fired')); // work due now still runs before exit
  t.false(idle.stdout.includes('keepalive fired'));
  // Startup (esbuild transform) dominates; 10 s would mean the timer held the process.
  t.true(idle.ms < 8000, `child took ${idle.ms} ms`);

  // While something else keeps the process alive, stack timers do fire.
  const busy = runChild(`
    const { RealClock } = await import(${JSON.stringify(clockUrl)});
    const clock = new RealClock();
    clock.createTimer(() => console.log('long fired')).start(10_000);
    clock.createTimer(() => console.log('short fired at ' + Math.round(clock.now()))).start(20);
    setTimeout(() => {}, 300);
  `);
  t.is(busy.status, 0, busy.stderr);
  t.regex(busy.stdout, /short fired at \d+/);
  t.false(busy.stdout.includes('long fired'));
  t.true(busy.ms < 8000, `child took ${busy.ms} ms`);
});
