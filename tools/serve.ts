// `tcplab serve` and `tcplab connect`: tcplab's stack on a Linux TUN or TAP
// device inside a fresh network namespace, with the kernel of that namespace
// as the peer. Nothing leaves the namespace; it is removed on exit and on
// Ctrl-C.

import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetNamespace, interopSupport } from '../devices/netns';
import { Stack } from '../stack/stack';
import { RealClock } from '../net-api/real-clock';
import { CryptoRandom } from '../net-api/crypto-random';
import { createNet } from '../net-api/index';
import type { Device } from '../stack/device';

const KERNEL = '10.77.0.1';
const US = '10.77.0.2';

interface Lab {
  ns: NetNamespace;
  dev: Device & { close(): void; ref(): void; unref(): void };
  stack: Stack;
  cleanup(): void;
}

function setUp(kind: 'tun' | 'tap', print: (line: string) => void): Lab {
  const support = interopSupport();
  if (!support.ok) throw new Error(`tcplab ${kind}: ${support.reason}`);
  const ns = NetNamespace.create();
  let dev: Lab['dev'];
  try {
    dev = kind === 'tun' ? ns.openTun({ kernelAddress: `${KERNEL}/24` }) : ns.openTap({ kernelAddress: `${KERNEL}/24` });
  } catch (err) {
    ns.delete();
    throw err;
  }
  const clock = new RealClock();
  const stack = new Stack({ name: 'tcplab', clock, random: new CryptoRandom() });
  stack.addInterface(dev, { address: `${US}/24` });
  dev.ref(); // the device keeps the process alive until cleanup
  let done = false;
  const cleanup = (): void => {
    if (done) return;
    done = true;
    dev.close();
    ns.delete();
    print(`removed namespace ${ns.name}`);
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      cleanup();
      process.exit(130);
    });
  }
  print(`namespace ${ns.name}: ${kind.toUpperCase()} device ${dev.name}, kernel ${KERNEL}/24, tcplab ${US}/24`);
  return { ns, dev, stack, cleanup };
}

/**
 * `tcplab serve --tun|--tap [--for SECONDS]`: an echo server (port 7) and an
 * HTTP server (port 80, Node's http over tcplab sockets) on the userspace
 * stack; prints the commands that reach them from the kernel side.
 */
export function serve(kind: 'tun' | 'tap', print: (line: string) => void, forSeconds?: number): Lab {
  const lab = setUp(kind, print);
  const net = createNet(lab.stack);
  const echo = net.createServer((socket) => socket.pipe(socket));
  echo.listen(7, US);
  let requests = 0;
  const web = http.createServer((req, res) => {
    requests++;
    const body = `hello from tcplab, a TCP/IP stack in this Node.js process\nyou asked for ${req.method} ${req.url}\nrequest #${requests}\n`;
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  const httpPort = net.createServer((socket) => web.emit('connection', socket));
  httpPort.listen(80, US);
  print('reach it from the kernel side:');
  print(`  ip netns exec ${lab.ns.name} curl -s http://${US}/`);
  print(`  ip netns exec ${lab.ns.name} sh -c 'echo hello | nc -q 1 ${US} 7'`);
  print(`  ip netns exec ${lab.ns.name} ping -c 3 ${US}`);
  print(forSeconds === undefined ? 'Ctrl-C to stop and remove the namespace' : `stopping after ${forSeconds} s`);
  if (forSeconds !== undefined) {
    setTimeout(() => {
      echo.close();
      httpPort.close();
      lab.cleanup();
      process.exit(0);
    }, forSeconds * 1000).unref();
  }
  return lab;
}

/**
 * `tcplab connect --tun|--tap`: the reverse: a kernel HTTP server in the
 * namespace (python3 -m http.server), and a tcplab client fetching from it.
 */
export async function connect(kind: 'tun' | 'tap', print: (line: string) => void): Promise<number> {
  const lab = setUp(kind, print);
  const dir = mkdtempSync(join(tmpdir(), 'tcplab-connect-'));
  writeFileSync(join(dir, 'hello.txt'), `hello from the Linux kernel's TCP in namespace ${lab.ns.name}\n`);
  try {
    const server = lab.ns.spawn('python3', ['-u', '-m', 'http.server', '8000', '--bind', KERNEL, '--directory', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    await new Promise<void>((resolve) => {
      server.stderr?.once('data', () => resolve());
      setTimeout(resolve, 1500).unref();
    });
    const net = createNet(lab.stack);
    // An Agent whose connections are tcplab's. (Beware: with `agent: false` Node's http
    // makes a plain Agent and ignores options.createConnection, using the kernel's network.)
    class TcplabAgent extends http.Agent {
      override createConnection(o: { host?: string; port?: number }): ReturnType<typeof net.createConnection> {
        return net.createConnection({ host: o.host ?? KERNEL, port: o.port ?? 8000 });
      }
    }
    const agent = new TcplabAgent({ keepAlive: false });
    for (let attempt = 0; ; attempt++) {
      try {
        const body = await new Promise<string>((resolve, reject) => {
          const req = http.request({
            host: KERNEL, port: 8000, path: '/hello.txt', agent,
          }, (res) => {
            if (!(res.socket instanceof net.Socket)) {
              reject(new Error('the response did not come over a tcplab socket'));
              return;
            }
            let text = `HTTP ${res.statusCode} (${String(res.headers.server)})\n`;
            res.setEncoding('utf8');
            res.on('data', (d: string) => { text += d; });
            res.on('end', () => resolve(text));
          });
          req.on('error', reject);
          req.end();
        });
        print(`tcplab ${US} -> kernel ${KERNEL}:8000 (python3 -m http.server), GET /hello.txt:`);
        for (const line of body.trimEnd().split('\n')) print(`  ${line}`);
        return 0;
      } catch (err) {
        if (attempt >= 5) throw err;
        await new Promise((r) => setTimeout(r, 300));
      }
    }
  } finally {
    lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}
