// `make bench`: every benchmark, one after the other, printing results.
// Wall-clock numbers vary with the machine and its load; the goodput numbers
// are virtual-time results and are the same everywhere.

import { simThroughput } from './sim-throughput';
import { goodput } from './goodput';
import { benchTimers } from './timers';
import { bulk, connectionsPerSecond, roundTrip } from './net-loopback';
import nodeNet from 'node:net';
import { Stack } from '../../stack/stack';
import { RealClock } from '../../net-api/real-clock';
import { CryptoRandom } from '../../net-api/crypto-random';
import { LoopbackDevice } from '../../devices/loopback';
import { createNet } from '../../net-api/index';

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
  const clock = new RealClock();
  const stack = new Stack({ name: 'bench', clock, random: new CryptoRandom() });
  stack.addInterface(new LoopbackDevice(clock), { address: '127.0.0.1/8' });
  type N = Parameters<typeof bulk>[0];
  const ours = createNet(stack) as unknown as N;
  const node = nodeNet as unknown as N;
  await bulk(node, 32e6); await bulk(ours, 32e6);
  const rows: Array<[string, number, number]> = [
    ['bulk MB/s', await bulk(node, 256e6), await bulk(ours, 256e6)],
    ['connections/s', await connectionsPerSecond(node, 3000), await connectionsPerSecond(ours, 3000)],
    ['64-byte round trip us', await roundTrip(node, 10000), await roundTrip(ours, 10000)],
  ];
  for (const [name, n, t] of rows) console.log(`  ${name.padEnd(22)} node ${n.toFixed(1).padStart(9)}  tcplab ${t.toFixed(1).padStart(9)}  ratio ${(t / n).toFixed(2)}`);
  process.exit(0);
}
void netLoopback();
