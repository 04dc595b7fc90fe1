// `make bench`: every benchmark, one after the other, printing results.
// Wall-clock numbers vary with the machine and its load; the goodput numbers
// are virtual-time results and are the same everywhere.

import { simThroughput } from './sim-throughput';
import { goodput } from './goodput';
import { benchTimers } from './timers';
import { bulk, connectionsPerSecond, roundTrip, tcplabNet, type NetLike } from './net-loopback';
import nodeNet from 'node:net';

console.log('== stack-to-stack throughput in simulation (MTU 1500, no loss, wall clock)');
simThroughput(10 * 1024 * 1024);
for (let i = 0; i < 3; i++) {
  const r = simThroughput(100 * 1024 * 1024);
  console.log(`  100 MiB in ${r.wallMs.toFixed(0)} ms: ${r.mbPerSec.toFixed(1)} MB/s = ${r.gbitPerSec.toFixed(2)} Gbit/s (${r.segments} segments)`);
}

console.log('== goodput, 50 MB over 100 Mbit/s with 50 ms RTT (virtual time), beside Mathis et al.');
for (const loss of [0, 0.001, 0.01]) {
  const r = goodput({ bytes: 50e6, rateBps: 100e6, rttMs: 50, loss });
  console.log(`  loss ${(loss * 100).toFixed(1)}%: ${r.goodputMbps.toFixed(2)} Mbit/s`
    + (loss > 0 ? `, Mathis bound ${r.mathisMbps.toFixed(2)} Mbit/s` : ''));
}

console.log('== timer wheel');
benchTimers((l) => console.log(`  ${l}`));

async function netLoopback(): Promise<void> {
  console.log('== tcplab net on its own loopback vs Node net on the kernel loopback (one process, same run)');
  const ours = tcplabNet();
  const node = nodeNet as unknown as NetLike;
  await bulk(node, 32e6); await bulk(ours, 32e6);
  const rows: Array<[string, number, number]> = [
    ['bulk MB/s', await bulk(node, 256e6), await bulk(ours, 256e6)],
    ['connections/s', await connectionsPerSecond(node, 3000), await connectionsPerSecond(ours, 3000)],
  ];
  const [nodeRtt, oursRtt] = [await roundTrip(node, 10000), await roundTrip(ours, 10000)];
  rows.push(['64-byte round trip us', nodeRtt.meanUs, oursRtt.meanUs], ['  p99 us', nodeRtt.p99Us, oursRtt.p99Us]);
  for (const [name, n, t] of rows) console.log(`  ${name.padEnd(22)} node ${n.toFixed(1).padStart(9)}  tcplab ${t.toFixed(1).padStart(9)}  ratio ${(t / n).toFixed(2)}`);
  process.exit(0);
}
void netLoopback();
