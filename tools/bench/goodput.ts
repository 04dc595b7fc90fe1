// Goodput of a bulk transfer over a simulated path, beside the Mathis et al.
// bound MSS/RTT * 1.22/sqrt(p). Virtual time, so the numbers are exact and
// the same on every machine.
// Run: node --import ./tools/ts-loader.mjs tools/bench/goodput.ts

import { Lab } from '../lab/lab';
import { parseIpv4Address } from '../../stack/wire/ipv4';
import type { TcpConnection } from '../../stack/tcp/connection';

export interface GoodputResult {
  loss: number;
  seconds: number;
  goodputMbps: number;
  mathisMbps: number;
  retransmissions: number;
}

export function goodput(opts: { bytes: number; rateBps: number; rttMs: number; loss: number; seed?: number; queueBytes?: number }): GoodputResult {
  const lab = new Lab({ seed: opts.seed ?? 1, record: false });
  const a = lab.host('a');
  const b = lab.host('b');
  const bdp = (opts.rateBps / 8) * (opts.rttMs / 1000);
  lab.link(a, b, {
    addressA: '10.0.0.1/24', addressB: '10.0.0.2/24', delayMs: opts.rttMs / 2, rateBps: opts.rateBps,
    queueLimitBytes: opts.queueBytes ?? Math.ceil(bdp), aToB: { loss: opts.loss },
  });
  let received = 0;
  let doneAt = -1;
  b.tcp.listen({ port: 5001 }, {
    onConnection(c) {
      c.attach({
        onReadable(conn) { let x: Uint8Array | null; while ((x = conn.read()) !== null) received += x.length; },
        onEnd() { doneAt = lab.now(); },
      });
    },
  });
  const block = new Uint8Array(1 << 20);
  let sent = 0;
  let startAt = 0;
  const pump = (conn: TcpConnection): void => {
    while (sent < opts.bytes) {
      const n = conn.send(block.subarray(0, Math.min(block.length, opts.bytes - sent)));
      if (n === 0) return;
      sent += n;
    }
    conn.shutdown();
  };
  const conn = a.tcp.connect({ remoteAddress: parseIpv4Address('10.0.0.2'), remotePort: 5001 }, {
    onConnect: (c) => { startAt = lab.now(); pump(c); },
    onWritable: pump,
  });
  lab.runWhile(() => doneAt < 0, 24 * 3600_000);
  if (received !== opts.bytes) throw new Error(`received ${received} of ${opts.bytes}`);
  const seconds = (doneAt - startAt) / 1000;
  const mss = conn.effectiveMss();
  return {
    loss: opts.loss,
    seconds,
    goodputMbps: (received * 8) / seconds / 1e6,
    mathisMbps: opts.loss > 0 ? ((mss * 8) / (opts.rttMs / 1000)) * (1.22 / Math.sqrt(opts.loss)) / 1e6 : Infinity,
    retransmissions: conn.retransmissions,
  };
}

if (process.argv[1]?.endsWith('goodput.ts')) {
  console.log('50 MB over 100 Mbit/s, 50 ms RTT, queue = 1 BDP, random loss on the data path:');
  for (const loss of [0, 0.001, 0.01]) {
    const r = goodput({ bytes: 50e6, rateBps: 100e6, rttMs: 50, loss });
    console.log(`  loss ${(loss * 100).toFixed(1)}%: ${r.goodputMbps.toFixed(2)} Mbit/s in ${r.seconds.toFixed(2)} s, `
      + `${r.retransmissions} retransmissions; Mathis bound ${Number.isFinite(r.mathisMbps) ? r.mathisMbps.toFixed(2) + ' Mbit/s' : 'none (no loss)'}`);
  }
}
