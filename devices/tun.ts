// Linux TUN devices: the kernel on one side, a tcplab stack on the other,
// exchanging raw IPv4 packets through /dev/net/tun (IFF_TUN | IFF_NO_PI).
//
// The fd is non-blocking and watched by Node's own event loop (a uv_poll_t in
// devices/native/tuntap.c). Each readable turn the addon reads up to 256
// frames and hands them over as one batch; send() writes a batch in one call.
// Like the stack's timers, a device does not keep the process alive unless
// ref() is called. Like Node's handles, a device that is polling (attached)
// is held by the event loop and only goes away with close(); a device opened
// and dropped without attach() is closed by the garbage collector.
//
// Root (CAP_NET_ADMIN) and /dev/net/tun are needed; otherwise the constructor
// throws an Error saying so (with `code` EACCES/EPERM/ENOENT).
//
//   const ns = NetNamespace.create();                       // devices/netns.ts
//   const tun = ns.openTun({ kernelAddress: '10.77.0.1/24' });
//   stack.addInterface(tun, { address: '10.77.0.2/24' });

import type { Device, FrameReceiver, LinkType } from '../stack/device';
import { loadTuntap, netnsPath, type NativeStats, type NativeTuntap } from './native/addon';

export interface TuntapOptions {
  /** Interface name (at most 15 bytes); '' or absent lets the kernel pick (tun0, tap0, ...). */
  name?: string;
  /** The IP MTU; must equal the kernel side's (devices/netns.ts sets both). Default 1500. */
  mtu?: number;
  /** Create the interface inside this network namespace: a name from `ip netns add` or a path (/proc/PID/ns/net). */
  netns?: string;
  /** Keep the event loop alive while attached (default false, like the stack's timers). */
  ref?: boolean;
}

export interface TuntapStats {
  /** Frames handed to the receiver. */
  received: number;
  /** Receive batches (event-loop turns with frames). */
  batches: number;
  /** Frames the kernel took. */
  sent: number;
  /** Frames not sent: larger than the MTU, sent after close(), or refused by the kernel. */
  dropped: number;
  /** Of `dropped`: larger than the MTU allows. */
  oversize: number;
}

export const DEFAULT_TUNTAP_MTU = 1500;

/** What TUN and TAP share: the native handle, batching, stats, ref/unref, close. */
export abstract class TuntapDevice implements Device {
  readonly name: string;
  abstract readonly linkType: LinkType;
  readonly mtu: number;
  abstract readonly mac: Uint8Array | null;
  readonly stats: TuntapStats = { received: 0, batches: 0, sent: 0, dropped: 0, oversize: 0 };
  /** The error that stopped reading (the interface went away), if any. */
  error: Error | null = null;
  /** Called once if reading fails for good (the interface or its namespace was deleted). */
  onError: ((err: Error) => void) | null = null;

  protected readonly handle: NativeTuntap;
  private receiver: FrameReceiver | null = null;
  private closed = false;
  private polling = false;
  private refed: boolean;
  /** The batch array handed to the receiver, reused (FrameReceiver's contract). */
  private readonly batch: Uint8Array[] = [];
  private readonly fits: Uint8Array[] = [];
  private readonly onBatch = (buffer: ArrayBuffer | null, count: number): void => this.deliver(buffer, count);

  protected constructor(kind: 'tun' | 'tap', options: TuntapOptions, private readonly linkHeaderBytes: number) {
    const mtu = options.mtu ?? DEFAULT_TUNTAP_MTU;
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw new RangeError(`mtu must be an integer in 68..65535, got ${mtu}`);
    this.mtu = mtu;
    const addon = loadTuntap();
    this.handle = new addon.Tuntap(kind, options.name ?? '', netnsPath(options.netns));
    this.name = this.handle.name;
    this.refed = options.ref ?? false;
    if (this.refed) this.handle.ref();
  }

  attach(receiver: FrameReceiver): void {
    if (this.closed) return;
    this.receiver = receiver;
    if (!this.polling) {
      this.handle.start(this.onBatch);
      this.polling = true;
    }
  }

  send(frames: readonly Uint8Array[]): void {
    const n = frames.length;
    if (n === 0) return;
    if (this.closed) {
      this.stats.dropped += n;
      return;
    }
    const limit = this.mtu + this.linkHeaderBytes;
    let list = frames;
    for (let i = 0; i < n; i++) {
      if (frames[i].length > limit) {
        list = this.withoutOversize(frames, limit);
        break;
      }
    }
    const written = this.handle.write(list);
    this.stats.sent += written;
    this.stats.dropped += list.length - written;
    if (list === this.fits) this.fits.length = 0;
  }

  /** Keep the event loop alive while the device is attached. */
  ref(): this {
    this.refed = true;
    if (!this.closed) this.handle.ref();
    return this;
  }

  /** Let the process exit even though the device is attached (the default). */
  unref(): this {
    this.refed = false;
    if (!this.closed) this.handle.unref();
    return this;
  }

  /** Whether the device currently keeps the event loop alive. */
  hasRef(): boolean {
    return !this.closed && this.handle.hasRef();
  }

  /** The addon's counters (reads, writes, EAGAIN drops). */
  nativeStats(): NativeStats {
    return this.handle.stats();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Close the fd: the kernel deletes the interface. Later sends are dropped. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.receiver = null;
    this.polling = false;
    this.handle.close();
  }

  private withoutOversize(frames: readonly Uint8Array[], limit: number): Uint8Array[] {
    const fits = this.fits;
    fits.length = 0;
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i];
      if (f.length > limit) {
        this.stats.dropped++;
        this.stats.oversize++;
      } else fits.push(f);
    }
    return fits;
  }

  private deliver(buffer: ArrayBuffer | null, count: number): void {
    if (buffer === null) {
      this.polling = false;
      const errno = -count;
      const err = Object.assign(new Error(`${this.name}: reading the device failed (errno ${errno}); was the interface or its namespace deleted?`), { errno: count });
      this.error = err;
      this.onError?.(err);
      return;
    }
    const receiver = this.receiver;
    if (receiver === null) return;
    const lengths = this.handle.lengths;
    const batch = this.batch;
    let offset = 0;
    for (let i = 0; i < count; i++) {
      const len = lengths[i];
      batch.push(new Uint8Array(buffer, offset, len));
      offset += len;
    }
    this.stats.received += count;
    this.stats.batches++;
    try {
      receiver(batch);
    } finally {
      batch.length = 0;
    }
  }
}

/** A TUN interface: each frame is one IPv4 packet (IPv6 ones the kernel sends are the stack's to drop). */
export class TunDevice extends TuntapDevice {
  readonly linkType: LinkType = 'ip';
  readonly mac: Uint8Array | null = null;

  constructor(options: TuntapOptions = {}) {
    super('tun', options, 0);
  }
}
