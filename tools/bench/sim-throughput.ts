// Stack-to-stack throughput in simulation: a bulk transfer between two hosts
// on a clean link at MTU 1500, measured in bytes per second of wall time.
// Run: node --import ./tools/ts-loader.mjs tools/bench/sim-throughput.ts [MB]
//
// tcplab is imported only through the library entry point (index.ts), never by
// internal path: `make bench-compare` runs this file inside older trees too.

import { Lab, parseIpv4Address, type TcpConnection } from '../../index';

export interface ThroughputResult {
  bytes: number;
  wallMs: number;
  virtualMs: number;
  mbPerSec: number;
  gbitPerSec: number;
  segments: number;
}

export function simThroughput(totalBytes: number, opts: { delayMs?: number; rateBps?: number; mtu?: number } = {}): ThroughputResult {
  const lab = new Lab({ seed: 1, record: false });
  const config = { tcp: { sendBufferBytes: 4 * 1024 * 1024, receiveBufferBytes: 4 * 1024 * 1024 } };
  const a = lab.host('a', { config });
  const b = lab.host('b', { config });
  lab.link(a, b, { addressA: '10.0.0.1/24', addressB: '10.0.0.2/24', delayMs: opts.delayMs ?? 0.05, rateBps: opts.rateBps ?? 0, mtu: opts.mtu ?? 1500 });
  let received = 0;
  let done = false;
  b.tcp.listen({ port: 5001 }, {
    onConnection(c) {
      c.attach({
        onReadable(conn) {
          let chunk: Uint8Array | null;
          while ((chunk = conn.read()) !== null) received += chunk.length;
        },
        onEnd() { done = true; },
      });
    },
  });
  const block = new Uint8Array(256 * 1024);
  for (let i = 0; i < block.length; i++) block[i] = i & 0xff;
  let sent = 0;
  const pump = (conn: TcpConnection): void => {
    while (sent < totalBytes) {
      const n = conn.send(block.subarray(0, Math.min(block.length, totalBytes - sent)));
      if (n === 0) return;
      sent += n;
    }
    conn.shutdown();
  };
  const start = performance.now();
  a.tcp.connect({ remoteAddress: parseIpv4Address('10.0.0.2'), remotePort: 5001 }, { onConnect: pump, onWritable: pump });
  lab.runWhile(() => !done);
  const wallMs = performance.now() - start;
  if (received !== totalBytes) throw new Error(`received ${received} of ${totalBytes}`);
  return {
    bytes: totalBytes, wallMs, virtualMs: lab.now(),
    mbPerSec: totalBytes / 1e6 / (wallMs / 1000),
    gbitPerSec: (totalBytes * 8) / 1e9 / (wallMs / 1000),
    segments: a.tcp.segmentsOut + b.tcp.segmentsOut,
  };
}

if (process.argv[1]?.endsWith('sim-throughput.ts') || process.argv[1]?.endsWith('sim-throughput.js')) {
  const mb = Number(process.argv[2] ?? 100);
  simThroughput(10 * 1024 * 1024); // warm-up
  const r = simThroughput(mb * 1024 * 1024);
  console.log(`simulation, MTU 1500, no loss: ${mb} MiB in ${r.wallMs.toFixed(0)} ms wall `
    + `(${r.virtualMs.toFixed(1)} ms virtual): ${r.mbPerSec.toFixed(1)} MB/s = ${r.gbitPerSec.toFixed(2)} Gbit/s, ${r.segments} segments`);
}
