// Shared pieces of the interop tests: a private namespace with a TUN (or TAP)
// device and a tcplab stack on the other side, python3 programs run by the
// kernel inside the namespace, and small stack-level applications.
//
// Every test makes its own namespace (so the kernel, its addresses and its
// programs never touch the host's network) and deletes it at the end, also
// when the test fails (t.teardown).

import test, { type ExecutionContext, type ImplementationFn } from 'ava';
import { createHash } from 'node:crypto';
import { NetNamespace, interopSupport } from '../../devices/netns';
import type { TunDevice } from '../../devices/tun';
import type { TapDevice } from '../../devices/tap';
import type { Device } from '../../stack/device';
import { Stack } from '../../stack/stack';
import { RealClock } from '../../net-api/real-clock';
import { CryptoRandom } from '../../net-api/crypto-random';
import type { StackConfigInput } from '../../stack/config';
import type { TcpConnection, TcpHandler } from '../../stack/tcp/connection';
import type { TcpError } from '../../stack/tcp/errors';
import { parseIpv4Address } from '../../stack/wire/ipv4';

export { python, kernelProcess, pattern, sha256, sleep, type PyProcess } from './kernel';

export const KERNEL = '10.77.0.1';
export const US = '10.77.0.2';
export const PREFIX = 24;
export const ip = parseIpv4Address;

const support = interopSupport();
export const interopReason: string | null = support.ok ? null : support.reason;
let announced = false;

/**
 * A serial ava test that runs only where TUN/TAP interop works (root,
 * /dev/net/tun, iproute2, the addon built); elsewhere it is skipped and the
 * reason printed once per file.
 */
export function interop(title: string, fn: ImplementationFn<[]>): void {
  if (interopReason === null) {
    test.serial(title, fn);
    return;
  }
  if (!announced) {
    announced = true;
    console.log(`interop tests skipped: ${interopReason}`);
  }
  // Not root, or no /dev/net/tun: the reason was printed once above; ava lists these as skipped.
  test.skip(title, fn);
}

export interface Lab {
  ns: NetNamespace;
  clock: RealClock;
  stack: Stack;
}

export interface TunLab extends Lab {
  dev: TunDevice;
}

export interface TapLab extends Lab {
  dev: TapDevice;
}

/** A namespace with a TUN interface (kernel 10.77.0.1/24) and a stack on it (10.77.0.2/24); removed at the end of the test. */
export function tunLab(t: ExecutionContext, opts: { mtu?: number; config?: StackConfigInput; wrap?: (dev: TunDevice, clock: RealClock) => Device } = {}): TunLab {
  const ns = NetNamespace.create();
  const clock = new RealClock();
  let stack: Stack | null = null;
  t.teardown(() => {
    stack?.close();
    ns.delete();
    clock.dispose();
  });
  const dev = ns.openTun({ kernelAddress: `${KERNEL}/${PREFIX}`, mtu: opts.mtu ?? 1500 });
  stack = new Stack({ name: 'tcplab', clock, random: new CryptoRandom(), config: opts.config });
  stack.addInterface(opts.wrap !== undefined ? opts.wrap(dev, clock) : dev, { address: `${US}/${PREFIX}`, name: dev.name });
  return { ns, clock, stack, dev };
}

/** As tunLab over TAP (the stack does ARP). */
export function tapLab(t: ExecutionContext, opts: { mtu?: number; config?: StackConfigInput } = {}): TapLab {
  const ns = NetNamespace.create();
  const clock = new RealClock();
  let stack: Stack | null = null;
  t.teardown(() => {
    stack?.close();
    ns.delete();
    clock.dispose();
  });
  const dev = ns.openTap({ kernelAddress: `${KERNEL}/${PREFIX}`, mtu: opts.mtu ?? 1500 });
  stack = new Stack({ name: 'tcplab', clock, random: new CryptoRandom(), config: opts.config });
  stack.addInterface(dev, { address: `${US}/${PREFIX}`, name: dev.name });
  return { ns, clock, stack, dev };
}

/** A handler that reads everything, hashes it, optionally sends `data` (then shutdown), and reports end and close. */
export class Peer implements TcpHandler {
  readonly hash = createHash('sha256');
  received = 0;
  chunks: Uint8Array[] | null = null;
  sent = 0;
  ended = false;
  closed = false;
  connected = false;
  error: TcpError | null = null;
  conn: TcpConnection | null = null;
  private data: Uint8Array | null = null;
  private then: 'shutdown' | 'close' | 'none' = 'shutdown';
  private readonly waiters: { test: () => boolean; resolve: () => void }[] = [];

  constructor(opts: { keep?: boolean } = {}) {
    if (opts.keep === true) this.chunks = [];
  }

  /** Send `data` as fast as the send buffer takes it, then shut down (or close, or nothing). */
  write(conn: TcpConnection, data: Uint8Array, then: 'shutdown' | 'close' | 'none' = 'shutdown'): void {
    this.conn = conn;
    this.data = data;
    this.then = then;
    this.pump();
  }

  /** Resolves when `test()` holds (checked after every event), rejects after timeoutMs. */
  until(what: string, test: () => boolean, timeoutMs = 30_000): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what} (received ${this.received}, sent ${this.sent}, state ${this.conn?.state}, error ${this.error?.code})`)), timeoutMs);
      this.waiters.push({ test, resolve: () => { clearTimeout(timer); resolve(); } });
    });
  }

  get digest(): string {
    return this.hash.copy().digest('hex');
  }

  onConnect(c: TcpConnection): void {
    this.conn = c;
    this.connected = true;
    this.check();
  }
  onReadable(c: TcpConnection): void {
    let chunk: Uint8Array | null;
    while ((chunk = c.read()) !== null) {
      this.hash.update(chunk);
      this.received += chunk.length;
      this.chunks?.push(chunk);
    }
    this.check();
  }
  onWritable(): void {
    this.pump();
    this.check();
  }
  onEnd(): void {
    this.ended = true;
    this.check();
  }
  onClose(_c: TcpConnection, err: TcpError | null): void {
    this.closed = true;
    this.error = err;
    this.check();
  }

  private pump(): void {
    const conn = this.conn;
    const data = this.data;
    if (conn === null || data === null) return;
    while (this.sent < data.length) {
      const n = conn.send(data.subarray(this.sent, Math.min(data.length, this.sent + 262144)));
      this.sent += n;
      if (n === 0) return;
    }
    this.data = null;
    if (this.then === 'shutdown') conn.shutdown();
    else if (this.then === 'close') conn.close();
  }

  private check(): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      if (this.waiters[i].test()) {
        this.waiters[i].resolve();
        this.waiters.splice(i, 1);
      }
    }
  }
}
