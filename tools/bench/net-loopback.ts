// tcplab's net on its own loopback against Node's net on the kernel loopback,
// client and server in one process, in the same run: bulk MB/s, connections
// per second, and the 64-byte round trip. Reported as ratios (tcplab / Node).
// Run: node --import ./tools/ts-loader.mjs tools/bench/net-loopback.ts
//
// tcplab is imported only through the library entry point (index.ts), never by
// internal path: `make bench-compare` runs this file inside older trees too.

import nodeNet from 'node:net';
import { Stack, RealClock, CryptoRandom, LoopbackDevice, createNet } from '../../index';
import { quantile } from './stats';

export interface NetLike {
  createServer(listener: (s: nodeNet.Socket) => void): nodeNet.Server;
  connect(port: number, host: string): nodeNet.Socket;
}

/** tcplab's net over a fresh stack with a loopback interface at 127.0.0.1/8. */
export function tcplabNet(): NetLike {
  const clock = new RealClock();
  const stack = new Stack({ name: 'bench', clock, random: new CryptoRandom() });
  stack.addInterface(new LoopbackDevice(clock), { address: '127.0.0.1/8' });
  return createNet(stack) as unknown as NetLike;
}

function listen(net: NetLike, onSocket: (s: nodeNet.Socket) => void): Promise<{ server: nodeNet.Server; port: number }> {
  return new Promise((resolve) => {
    const server = net.createServer(onSocket);
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as nodeNet.AddressInfo).port }));
  });
}

const close = (server: nodeNet.Server): Promise<void> => new Promise((r) => server.close(() => r()));

/** MB/s of a bulk transfer client -> server. */
export async function bulk(net: NetLike, bytes: number): Promise<number> {
  let got = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => { done = r; });
  const { server, port } = await listen(net, (s) => {
    s.on('data', (d: Buffer) => { got += d.length; });
    s.on('end', () => { s.end(); done(); });
  });
  const chunk = Buffer.alloc(64 * 1024, 7);
  const start = performance.now();
  const c = net.connect(port, '127.0.0.1');
  await new Promise<void>((r) => c.once('connect', () => r()));
  let sent = 0;
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      while (sent < bytes) {
        sent += chunk.length;
        if (!c.write(chunk)) { c.once('drain', pump); return; }
      }
      c.end();
      resolve();
    };
    pump();
  });
  await finished;
  const ms = performance.now() - start;
  c.destroy();
  await close(server);
  if (got !== sent) throw new Error(`bulk: got ${got} of ${sent}`);
  return got / 1e6 / (ms / 1000);
}

/** Connections per second: connect, one byte each way, close; `parallel` at a time. */
export async function connectionsPerSecond(net: NetLike, total: number, parallel = 16): Promise<number> {
  const { server, port } = await listen(net, (s) => {
    s.once('data', () => s.end('y'));
    s.on('error', () => undefined);
  });
  const one = (): Promise<void> => new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1');
    c.once('connect', () => c.write('x'));
    c.once('data', () => undefined);
    c.once('end', () => { c.end(); });
    c.once('close', () => resolve());
    c.once('error', reject);
  });
  const start = performance.now();
  let started = 0;
  const worker = async (): Promise<void> => {
    while (started < total) {
      started++;
      await one();
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  const ms = performance.now() - start;
  await close(server);
  return total / (ms / 1000);
}

export interface RoundTripResult {
  meanUs: number;
  p50Us: number;
  p99Us: number;
}

/** Round trip of a 64-byte ping-pong, microseconds: the mean, and the median and p99 of each exchange. */
export async function roundTrip(net: NetLike, rounds: number): Promise<RoundTripResult> {
  const { server, port } = await listen(net, (s) => {
    s.setNoDelay(true);
    s.on('data', (d: Buffer) => s.write(d));
  });
  const c = net.connect(port, '127.0.0.1');
  c.setNoDelay(true);
  await new Promise<void>((r) => c.once('connect', () => r()));
  const msg = Buffer.alloc(64, 1);
  const samples = new Float64Array(rounds);
  let n = 0;
  let have = 0;
  const start = performance.now();
  let sentAt = start;
  await new Promise<void>((resolve) => {
    c.on('data', (d: Buffer) => {
      have += d.length;
      while (have >= 64) {
        have -= 64;
        const now = performance.now();
        samples[n] = now - sentAt;
        sentAt = now;
        if (++n === rounds) { resolve(); return; }
        c.write(msg);
      }
    });
    c.write(msg);
  });
  const meanUs = ((performance.now() - start) * 1000) / rounds;
  c.destroy();
  await close(server);
  samples.sort();
  return { meanUs, p50Us: quantile(samples, 0.5) * 1000, p99Us: quantile(samples, 0.99) * 1000 };
}

async function main(): Promise<void> {
  const node = nodeNet as unknown as NetLike;
  const ours = tcplabNet();
  const rows: Array<[string, number, number, string]> = [];
  // Warm up both once, then measure.
  await bulk(node, 32e6); await bulk(ours, 32e6);
  rows.push(['bulk 256 MB (MB/s)', await bulk(node, 256e6), await bulk(ours, 256e6), 'higher is better']);
  await connectionsPerSecond(node, 500); await connectionsPerSecond(ours, 500);
  rows.push(['connections/s', await connectionsPerSecond(node, 3000), await connectionsPerSecond(ours, 3000), 'higher is better']);
  await roundTrip(node, 1000); await roundTrip(ours, 1000);
  const [nodeRtt, oursRtt] = [await roundTrip(node, 10000), await roundTrip(ours, 10000)];
  rows.push(['64-byte round trip (us)', nodeRtt.meanUs, oursRtt.meanUs, 'lower is better']);
  rows.push(['64-byte round trip p99 (us)', nodeRtt.p99Us, oursRtt.p99Us, 'lower is better']);
  console.log('one process, client and server; Node net on the kernel loopback vs tcplab net on its own loopback');
  for (const [name, n, t, note] of rows) {
    console.log(`  ${name.padEnd(28)} node ${n.toFixed(1).padStart(9)}  tcplab ${t.toFixed(1).padStart(9)}  ratio ${(t / n).toFixed(2)} (${note})`);
  }
  process.exit(0);
}

if (process.argv[1]?.endsWith('net-loopback.ts')) void main();
