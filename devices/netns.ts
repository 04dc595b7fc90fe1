// Private network namespaces for talking to the Linux kernel through TUN/TAP
// without touching the host's network: the namespace holds the interface,
// every address, every route and every kernel-side program (curl, ping,
// python3), and deleting it removes all of that at once.
//
//   const ns = NetNamespace.create();                  // ip netns add tcplab-<pid>-<n>
//   const tun = ns.openTun({ kernelAddress: '10.77.0.1/24', mtu: 1500 });
//   stack.addInterface(tun, { address: '10.77.0.2/24' });
//   const child = ns.spawn('python3', ['-c', '...']);  // ip netns exec <ns> python3 ...
//   ...
//   ns.delete();                                       // kills what it spawned, closes the devices, ip netns del
//
// How the device gets into the namespace: the addon opens /dev/net/tun and
// issues TUNSETIFF on a short-lived helper thread that has setns()ed into the
// namespace (a tun interface belongs to the namespace of the task that opened
// the fd). The Node process itself never changes namespace, the interface
// never exists outside the namespace, and the fd keeps working from Node's
// main thread. The kernel side is then configured with `ip -n <ns> ...`.
//
// Only root can do this (CAP_NET_ADMIN, CAP_SYS_ADMIN for setns and the
// /run/netns bind mounts). `interopSupport()` says whether it will work here.
//
// Namespaces left over by a process that died (named tcplab-<pid>-<n> with
// that pid gone) are removed the next time one is created; on a normal exit
// an 'exit' hook deletes whatever was not deleted.

import { execFileSync, spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { TunDevice, type TuntapOptions } from './tun';
import { TapDevice, type TapOptions } from './tap';
import { loadTuntap } from './native/addon';

const PREFIX = 'tcplab';
const live = new Set<NetNamespace>();
let counter = 0;
let exitHookInstalled = false;

export interface KernelSideOptions {
  /** The kernel's address on the interface, "10.77.0.1/24" (adds the connected route). */
  kernelAddress?: string;
  /** Extra routes through the interface: "10.78.0.0/16" or "10.78.0.0/16 via 10.77.0.2". */
  routes?: string[];
  /** Bring the interface up (default true). */
  up?: boolean;
}

export type NamespaceTunOptions = Omit<TuntapOptions, 'netns'> & KernelSideOptions;
export type NamespaceTapOptions = Omit<TapOptions, 'netns'> & KernelSideOptions;

export interface CreateOptions {
  /** Name prefix (default "tcplab"); the name is <prefix>-<pid>-<n>. */
  prefix?: string;
  /** Keep the kernel's IPv6 on (default false: no router solicitations or MLD reports on the interfaces). */
  ipv6?: boolean;
}

export class IpCommandError extends Error {
  constructor(readonly command: string[], readonly status: number | null, readonly stderr: string) {
    super(`${command.join(' ')} failed (${status ?? 'signal'}): ${stderr.trim()}`);
    this.name = 'IpCommandError';
  }
}

/** Run a command synchronously; throws IpCommandError with its stderr if it fails. */
function run(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, timeout: 30_000 });
  if (r.error !== undefined) throw new IpCommandError([cmd, ...args], null, r.error.message);
  if (r.status !== 0) throw new IpCommandError([cmd, ...args], r.status, r.stderr);
  return r.stdout;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class NetNamespace {
  /** The name `ip netns` knows it by. */
  readonly name: string;
  /** The bind mount that keeps it alive: what setns() and `ip netns exec` use. */
  readonly path: string;
  private readonly children = new Set<ChildProcess>();
  private readonly devices = new Set<{ close(): void }>();
  private deleted = false;

  private constructor(name: string) {
    this.name = name;
    this.path = `/run/netns/${name}`;
  }

  /** Create a fresh namespace with a unique name; its loopback is brought up. */
  static create(opts: CreateOptions = {}): NetNamespace {
    NetNamespace.removeStale(opts.prefix ?? PREFIX);
    const name = `${opts.prefix ?? PREFIX}-${process.pid}-${++counter}`;
    run('ip', ['netns', 'add', name]);
    const ns = new NetNamespace(name);
    live.add(ns);
    installExitHook();
    try {
      ns.ip(['link', 'set', 'lo', 'up']);
      if (opts.ipv6 !== true) {
        // New interfaces copy 'default'; /proc/sys/net is per namespace, so write it from inside.
        ns.run('sh', ['-c', 'echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6; echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6']);
      }
    } catch (err) {
      ns.delete();
      throw err;
    }
    return ns;
  }

  /** Delete namespaces named <prefix>-<pid>-<n> whose process is gone (left by a killed test run). */
  static removeStale(prefix = PREFIX): string[] {
    const removed: string[] = [];
    if (!existsSync('/run/netns')) return removed;
    const re = new RegExp(`^${prefix.replace(/[^A-Za-z0-9_]/g, '\\$&')}-(\\d+)-\\d+$`);
    for (const entry of readdirSync('/run/netns')) {
      const m = re.exec(entry);
      if (m === null) continue;
      const pid = Number(m[1]);
      if (pid === process.pid || pidAlive(pid)) continue;
      try {
        run('ip', ['netns', 'del', entry]);
        removed.push(entry);
      } catch {
        // someone else removed it first
      }
    }
    return removed;
  }

  /** Run `ip -n <ns> <args>` and return its stdout. */
  ip(args: string[]): string {
    this.check();
    return run('ip', ['-n', this.name, ...args]);
  }

  /** Run a command inside the namespace to completion (`ip netns exec`); returns stdout, throws on failure. */
  run(cmd: string, args: string[] = [], input?: string): string {
    this.check();
    return run('ip', ['netns', 'exec', this.name, cmd, ...args], input);
  }

  /**
   * Start a command inside the namespace. `ip netns exec` execs the command,
   * so the child's pid is the command's own. The child is killed by delete().
   */
  spawn(cmd: string, args: string[] = [], options: SpawnOptions = {}): ChildProcess {
    this.check();
    const child = spawn('ip', ['netns', 'exec', this.name, cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'], ...options });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /** Create a TUN interface inside the namespace and configure the kernel's side. */
  openTun(opts: NamespaceTunOptions = {}): TunDevice {
    this.check();
    const dev = new TunDevice({ ...opts, netns: this.path });
    this.adopt(dev, opts);
    return dev;
  }

  /** Create a TAP interface inside the namespace and configure the kernel's side. */
  openTap(opts: NamespaceTapOptions = {}): TapDevice {
    this.check();
    const dev = new TapDevice({ ...opts, netns: this.path });
    this.adopt(dev, opts);
    return dev;
  }

  /** Set the kernel side of interface `ifname`: MTU, address, up, routes. */
  configure(ifname: string, opts: KernelSideOptions & { mtu?: number }): void {
    if (opts.mtu !== undefined) this.ip(['link', 'set', 'dev', ifname, 'mtu', String(opts.mtu)]);
    if (opts.kernelAddress !== undefined) this.ip(['addr', 'add', opts.kernelAddress, 'dev', ifname]);
    if (opts.up ?? true) this.ip(['link', 'set', 'dev', ifname, 'up']);
    for (const r of opts.routes ?? []) this.ip(['route', 'add', ...r.split(/\s+/), 'dev', ifname]);
  }

  /** Kill every child spawned here (SIGKILL, by pid), close the devices, delete the namespace. Idempotent. */
  delete(): void {
    if (this.deleted) return;
    this.deleted = true;
    live.delete(this);
    for (const child of this.children) {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    this.children.clear();
    for (const d of this.devices) d.close();
    this.devices.clear();
    try {
      run('ip', ['netns', 'del', this.name]);
    } catch {
      // already deleted
    }
  }

  get isDeleted(): boolean {
    return this.deleted;
  }

  private adopt(dev: TunDevice | TapDevice, opts: KernelSideOptions & { mtu?: number }): void {
    this.devices.add(dev);
    try {
      this.configure(dev.name, { ...opts, mtu: dev.mtu });
    } catch (err) {
      dev.close();
      this.devices.delete(dev);
      throw err;
    }
  }

  private check(): void {
    if (this.deleted) throw new Error(`network namespace ${this.name} was deleted`);
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const ns of [...live]) ns.delete();
  });
}

/**
 * Whether TUN/TAP inside private namespaces works here: root, /dev/net/tun,
 * iproute2, the addon built. `reason` says what is missing. TCPLAB_INTEROP=0
 * in the environment turns it off.
 */
export function interopSupport(): { ok: true } | { ok: false; reason: string } {
  if (process.env.TCPLAB_INTEROP === '0') return { ok: false, reason: 'TCPLAB_INTEROP=0 in the environment' };
  if (process.platform !== 'linux') return { ok: false, reason: `needs Linux (this is ${process.platform})` };
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    return { ok: false, reason: 'needs root (CAP_NET_ADMIN to create TUN/TAP devices and network namespaces)' };
  }
  if (!existsSync('/dev/net/tun')) return { ok: false, reason: '/dev/net/tun is missing (modprobe tun, or pass --device /dev/net/tun to the container)' };
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    return { ok: false, reason: "iproute2's ip command is missing (apt-get install iproute2)" };
  }
  try {
    loadTuntap();
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
  return { ok: true };
}
