// The loopback device: every frame sent comes back to the same device's
// receiver. Delivery is asynchronous, on a 0-delay timer of the injected
// clock (the stack is mid-processing while it sends), and everything sent
// before the timer fires comes back as one batch.

import type { Clock, Timer } from '../stack/time/clock';
import type { Device, FrameReceiver, LinkType } from '../stack/device';

export interface LoopbackOptions {
  /** Default 'lo'. */
  name?: string;
  /** Default 65536, as Linux's lo. */
  mtu?: number;
}

export interface LoopbackStats {
  /** Frames accepted by send(). */
  sent: number;
  /** Frames handed to the receiver. */
  delivered: number;
  /** Frames larger than the mtu, or sent after close(). */
  dropped: number;
  /** Frames that came back while no receiver was attached. */
  undeliverable: number;
}

export const LOOPBACK_MTU = 65536;

export class LoopbackDevice implements Device {
  readonly name: string;
  readonly linkType: LinkType = 'ip';
  readonly mtu: number;
  readonly mac: Uint8Array | null = null;
  /** Frames never leave the process: no TCP checksums, as on Linux's lo. */
  readonly checksumOffload = true;
  readonly stats: LoopbackStats = { sent: 0, delivered: 0, dropped: 0, undeliverable: 0 };

  private receiver: FrameReceiver | null = null;
  private readonly timer: Timer;
  /** Frames sent since the last delivery. */
  private pending: Uint8Array[] = [];
  /** The batch being delivered; swapped with `pending` so sends during delivery go to the next batch. */
  private delivering: Uint8Array[] = [];
  private closed = false;

  constructor(clock: Clock, options: LoopbackOptions = {}) {
    this.name = options.name ?? 'lo';
    this.mtu = options.mtu ?? LOOPBACK_MTU;
    if (!(this.mtu > 0)) throw new RangeError(`mtu must be > 0, got ${this.mtu}`);
    this.timer = clock.createTimer(() => this.deliver());
  }

  attach(receiver: FrameReceiver): void {
    if (!this.closed) this.receiver = receiver;
  }

  send(frames: readonly Uint8Array[]): void {
    const pending = this.pending;
    for (let i = 0; i < frames.length; i++) {
      const frame = frames[i]!;
      if (this.closed || frame.length > this.mtu) {
        this.stats.dropped++;
        continue;
      }
      this.stats.sent++;
      pending.push(frame);
    }
    if (pending.length !== 0 && !this.timer.armed) this.timer.start(0);
  }

  close(): void {
    this.closed = true;
    this.receiver = null;
    this.pending.length = 0;
    this.timer.stop();
  }

  private deliver(): void {
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = this.delivering;
    this.delivering = batch;
    const receiver = this.receiver;
    try {
      if (receiver === null) {
        this.stats.undeliverable += batch.length;
      } else {
        this.stats.delivered += batch.length;
        receiver(batch);
      }
    } finally {
      batch.length = 0;
    }
  }
}
