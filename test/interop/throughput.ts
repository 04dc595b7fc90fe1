// Throughput over real kernels (not a test: a measurement). In one run, each
// inside private network namespaces made for it and deleted after:
//
//   kernel -> tcplab   over TUN (python3 sends, a tcplab server reads)
//   tcplab -> kernel   over TUN (a tcplab client sends, python3 reads)
//   kernel -> kernel   over a veth pair between two namespaces (python3 both ends)
//
// all at MTU 1500, each the median of N runs, in MB/s (10^6 bytes per second)
// of payload, timed by the receiver from the accepted connection to EOF.
//
//   node --import ./tools/ts-loader.mjs test/interop/throughput.ts [--mib 256] [--runs 3] [--json]
//
// Needs root and /dev/net/tun (as the interop tests).

import { NetNamespace, interopSupport } from '../../devices/netns';
import { Stack } from '../../stack/stack';
import { RealClock } from '../../net-api/real-clock';
import { CryptoRandom } from '../../net-api/crypto-random';
import { parseIpv4Address } from '../../stack/wire/ipv4';
import type { TcpConnection } from '../../stack/tcp/connection';
import { python, pattern } from './kernel';

const MiB = 1024 * 1024;
const MTU = 1500;

/** argv: host port bytes. Sends `bytes` (a 1 MiB random block over and over), then closes. */
const SEND = `
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.create_connection((host, port), timeout=120)
block = os.urandom(1 << 20); mv = memoryview(block); left = n
while left:
    k = min(left, len(block)); s.sendall(mv[:k]); left -= k
s.shutdown(socket.SHUT_WR)
s.recv(1)
s.close()
out('done')
`;

/** argv: host port. Receives one connection to EOF; prints "got BYTES SECONDS" (accept to EOF). */
const SINK = `
host, port = sys.argv[1], int(sys.argv[2])
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((host, port)); l.listen(1); out('ready')
s, peer = l.accept(); t0 = time.perf_counter()
buf = bytearray(1 << 20); got = 0
while True:
    k = s.recv_into(buf)
    if k == 0: break
    got += k
dt = time.perf_counter() - t0
out('got', got, dt)
s.close()
`;

export interface ThroughputResult {
  bytes: number;
  runs: number;
  /** MB/s (10^6 bytes/s) of every run, then the median. */
  kernelToTcplab: { runs: number[]; median: number };
  tcplabToKernel: { runs: number[]; median: number };
  kernelToKernelVeth: { runs: number[]; median: number };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

interface TunSetup {
  ns: NetNamespace;
  stack: Stack;
  clock: RealClock;
  close(): void;
}

function tunSetup(): TunSetup {
  const ns = NetNamespace.create({ prefix: 'tcplab-bench' });
  const clock = new RealClock();
  try {
    const dev = ns.openTun({ kernelAddress: '10.77.0.1/24', mtu: MTU });
    dev.ref(); // the measurement waits on it
    const stack = new Stack({ name: 'tcplab', clock, random: new CryptoRandom() });
    stack.addInterface(dev, { address: '10.77.0.2/24' });
    return { ns, stack, clock, close: () => { stack.close(); ns.delete(); clock.dispose(); } };
  } catch (err) {
    ns.delete();
    throw err;
  }
}

/** kernel -> tcplab: MB/s as the tcplab server saw it (accept to FIN). */
async function kernelToTcplab(bytes: number): Promise<number> {
  const lab = tunSetup();
  try {
    const done = new Promise<number>((resolve, reject) => {
      lab.stack.tcp.listen({ port: 5001 }, {
        onConnection(c: TcpConnection) {
          const t0 = performance.now();
          let got = 0;
          c.attach({
            onReadable(cc) {
              let chunk: Uint8Array | null;
              while ((chunk = cc.read()) !== null) got += chunk.length;
            },
            onEnd(cc) {
              const dt = (performance.now() - t0) / 1000;
              cc.close();
              if (got !== bytes) reject(new Error(`kernel -> tcplab: got ${got} of ${bytes}`));
              else resolve(bytes / dt / 1e6);
            },
            onClose(_cc, err) {
              if (err !== null) reject(err);
            },
          });
        },
      });
    });
    const py = python(lab.ns, SEND, ['10.77.0.2', '5001', String(bytes)]);
    void py.exited.then((r) => {
      if (r.code !== 0) console.error(r.stderr);
    });
    return await done;
  } finally {
    lab.close();
  }
}

/** tcplab -> kernel: MB/s as the python receiver saw it. */
async function tcplabToKernel(bytes: number): Promise<number> {
  const lab = tunSetup();
  try {
    const py = python(lab.ns, SINK, ['10.77.0.1', '5002']);
    await py.line('ready');
    const block = pattern(MiB, 5);
    let sent = 0;
    let shut = false;
    const pump = (): void => {
      while (sent < bytes) {
        // The stream is the block over and over; the send queue may keep views of it (it never changes).
        const off = sent % block.length;
        const n = conn.send(block.subarray(off, Math.min(block.length, off + (bytes - sent))));
        if (n === 0) return;
        sent += n;
      }
      if (!shut) {
        shut = true;
        conn.shutdown();
      }
    };
    const conn = lab.stack.tcp.connect({ remoteAddress: parseIpv4Address('10.77.0.1'), remotePort: 5002 }, {
      onConnect: () => pump(),
      onWritable: () => pump(),
      onReadable: (c) => {
        while (c.read() !== null);
      },
    });
    const line = await py.line('got', 300_000);
    const [, got, secs] = line.split(' ');
    if (Number(got) !== bytes) throw new Error(`tcplab -> kernel: python got ${got} of ${bytes}`);
    return bytes / Number(secs) / 1e6;
  } finally {
    lab.close();
  }
}

/** kernel -> kernel over a veth pair between two namespaces. */
async function kernelToKernel(bytes: number): Promise<number> {
  const a = NetNamespace.create({ prefix: 'tcplab-bench' });
  const b = NetNamespace.create({ prefix: 'tcplab-bench' });
  try {
    // Created inside `a` with its peer placed straight into `b`: neither end ever exists on the host.
    a.ip(['link', 'add', 'veth-a', 'mtu', String(MTU), 'type', 'veth', 'peer', 'name', 'veth-b', 'mtu', String(MTU), 'netns', b.name]);
    a.configure('veth-a', { kernelAddress: '10.78.0.1/24' });
    b.configure('veth-b', { kernelAddress: '10.78.0.2/24' });
    const sink = python(b, SINK, ['10.78.0.2', '5003']);
    await sink.line('ready');
    python(a, SEND, ['10.78.0.2', '5003', String(bytes)]);
    const line = await sink.line('got', 300_000);
    const [, got, secs] = line.split(' ');
    if (Number(got) !== bytes) throw new Error(`veth: got ${got} of ${bytes}`);
    return bytes / Number(secs) / 1e6;
  } finally {
    a.delete();
    b.delete();
  }
}

export async function measureThroughput(opts: { mib?: number; runs?: number; log?: (s: string) => void } = {}): Promise<ThroughputResult> {
  const support = interopSupport();
  if (!support.ok) throw new Error(`cannot measure: ${support.reason}`);
  const bytes = (opts.mib ?? 256) * MiB;
  const runs = opts.runs ?? 3;
  const log = opts.log ?? (() => {});
  const k2t: number[] = [];
  const t2k: number[] = [];
  const k2k: number[] = [];
  for (let i = 0; i < runs; i++) {
    k2t.push(await kernelToTcplab(bytes));
    log(`run ${i + 1}: kernel -> tcplab over TUN ${k2t[i].toFixed(1)} MB/s`);
    t2k.push(await tcplabToKernel(bytes));
    log(`run ${i + 1}: tcplab -> kernel over TUN ${t2k[i].toFixed(1)} MB/s`);
    k2k.push(await kernelToKernel(bytes));
    log(`run ${i + 1}: kernel -> kernel over veth ${k2k[i].toFixed(1)} MB/s`);
  }
  return {
    bytes,
    runs,
    kernelToTcplab: { runs: k2t, median: median(k2t) },
    tcplabToKernel: { runs: t2k, median: median(t2k) },
    kernelToKernelVeth: { runs: k2k, median: median(k2k) },
  };
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const invoked = process.argv[1] !== undefined && /throughput\.ts$/.test(process.argv[1]);
if (invoked) {
  const json = process.argv.includes('--json');
  const mib = Number(arg('--mib') ?? 256);
  const runs = Number(arg('--runs') ?? 3);
  measureThroughput({ mib, runs, log: json ? undefined : (s) => console.log(s) }).then(
    (r) => {
      if (json) {
        console.log(JSON.stringify(r));
        return;
      }
      console.log(`\n${mib} MiB per transfer, MTU ${MTU}, median of ${runs} (MB/s = 10^6 bytes/s):`);
      console.log(`  kernel -> tcplab  (TUN)   ${r.kernelToTcplab.median.toFixed(1)} MB/s`);
      console.log(`  tcplab -> kernel  (TUN)   ${r.tcplabToKernel.median.toFixed(1)} MB/s`);
      console.log(`  kernel -> kernel  (veth)  ${r.kernelToKernelVeth.median.toFixed(1)} MB/s`);
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
