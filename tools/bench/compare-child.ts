// One measurement for `make bench-compare` (tools/bench/compare.ts), run in a
// fresh process inside the tree under test: warms up, measures, and prints
// one JSON line of named numbers on stdout.
// Run: node --import ./tools/ts-loader.mjs tools/bench/compare-child.ts sim|bulk|connections|rtt
//
// compare.ts copies the checkout's tools/bench/ into the REF tree, so the same
// measurement code runs against both versions of the stack. This file and what
// it imports must therefore reach tcplab only through the library entry point
// (index.ts), whose exports older versions have as well.

import { simThroughput } from './sim-throughput';
import { bulk, connectionsPerSecond, roundTrip, tcplabNet } from './net-loopback';

/** The bytes of one simulated transfer; compare.ts prints it in its labels. */
export const SIM_BYTES = 100 * 1024 * 1024;
/** Bulk over the loopback takes about 1 GB before the JIT has settled: runs are that long. */
export const BULK_BYTES = 1e9;
/** Throughputs are the best of this many repetitions after a warm-up of the same size:
 * the first runs in a process are slow while the JIT settles, and a burst of load from
 * elsewhere on the machine then costs one repetition, not the whole run. */
export const REPEATS = 3;

async function best(measure: () => number | Promise<number>): Promise<number> {
  await measure();
  let top = -Infinity;
  for (let i = 0; i < REPEATS; i++) top = Math.max(top, await measure());
  return top;
}

const jobs = {
  async sim() {
    return { mbPerSec: await best(() => simThroughput(SIM_BYTES).mbPerSec) };
  },
  async bulk() {
    const net = tcplabNet();
    return { mbPerSec: await best(() => bulk(net, BULK_BYTES)) };
  },
  async connections() {
    const net = tcplabNet();
    return { perSec: await best(() => connectionsPerSecond(net, 3000)) };
  },
  // One long run after the warm-up: its tail is what the p99 is for, so it is not picked from several.
  async rtt() {
    const net = tcplabNet();
    await roundTrip(net, 5000);
    const r = await roundTrip(net, 20000);
    return { p50Us: r.p50Us, p99Us: r.p99Us };
  },
} satisfies Record<string, () => Promise<Record<string, number>>>;

export type Job = keyof typeof jobs;

async function main(job: string): Promise<void> {
  if (!Object.hasOwn(jobs, job)) throw new Error(`unknown job ${JSON.stringify(job)}; one of ${Object.keys(jobs).join(', ')}`);
  const result = await jobs[job as Job]();
  console.log(JSON.stringify(result));
  process.exit(0); // tcplab's net may leave timers behind
}

if (process.argv[1]?.endsWith('compare-child.ts')) {
  main(process.argv[2] ?? '').catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
