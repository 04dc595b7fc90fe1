// Memory per idle connection: open N connections between two simulated hosts,
// let them go idle, and divide the heap growth. Both ends live in this process,
// so the figure per connection counts two TCBs.
// Run: node --expose-gc --import ./tools/ts-loader.mjs tools/bench/idle-connections.ts [N]

import { Lab } from '../lab/lab';
import { parseIpv4Address } from '../../stack/wire/ipv4';

export function idleConnectionBytes(n: number): { perConnection: number; perEnd: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run node with --expose-gc');
  const lab = new Lab({ seed: 1, record: false });
  const config = { tcp: { ephemeralPortMin: 1024, ephemeralPortMax: 65535 } };
  const a = lab.host('a', { config });
  const b = lab.host('b', { config });
  lab.link(a, b, { addressA: '10.0.0.1/24', addressB: '10.0.0.2/24' });
  // Four listening ports, so 100,000 connections fit in the ephemeral range.
  for (let p = 0; p < 4; p++) b.tcp.listen({ port: 80 + p, backlog: 1 << 20 }, { onConnection(c) { c.attach({}); } });
  lab.runUntilIdle();
  gc();
  const before = process.memoryUsage().heapUsed;
  const server = parseIpv4Address('10.0.0.2');
  for (let i = 0; i < n; i++) {
    a.tcp.connect({ remoteAddress: server, remotePort: 80 + (i & 3) }, {});
    if ((i & 1023) === 0) lab.run(1);
  }
  lab.run(100);
  gc();
  const grown = process.memoryUsage().heapUsed - before;
  if (a.tcp.table.size !== n || b.tcp.table.size !== n) throw new Error(`only ${a.tcp.table.size} + ${b.tcp.table.size} connections`);
  return { perConnection: grown / n, perEnd: grown / (2 * n) };
}

if (process.argv[1]?.endsWith('idle-connections.ts')) {
  const n = Number(process.argv[2] ?? 100_000);
  const r = idleConnectionBytes(n);
  console.log(`${n} idle connections: ${r.perConnection.toFixed(0)} bytes per connection (both ends), ${r.perEnd.toFixed(0)} per end`);
}
