// RealClock: wall time for stacks assembled to talk to the real world (the
// default net stack, TUN/TAP labs, the CLI). It is the one Clock that touches
// Node's timers and performance.now(), which is why it lives here and not in
// stack/ (ARCHITECTURE.md, "Time"). Its timers live in the stack's TimerWheel;
// one unref'd Node timer (or a ref'd setImmediate for work due now) wakes it.

import { performance } from 'node:perf_hooks';
import type { Clock, Timer } from '../stack/time/clock';
import { TimerWheel } from '../stack/time/wheel';

/** Callbacks see real time, so advancing the wheel has no time of its own to set. */
function ignoreTime(): void {}

/** Node's largest setTimeout delay (2^31 - 1 ms); longer waits re-check. */
const MAX_NODE_DELAY = 2147483647;

export class RealClock implements Clock {
  private readonly origin = performance.now();
  private last = 0;
  private readonly wheel: TimerWheel;
  private readonly hooks: (() => void)[] = [];
  private timeout: ReturnType<typeof setTimeout> | null = null;
  private immediate: ReturnType<typeof setImmediate> | null = null;
  /** The deadline the pending Node timer or immediate was set for, or Infinity. */
  private scheduledAt = Infinity;
  private firing = false;
  private readonly run = (): void => this.fire();

  constructor() {
    this.wheel = new TimerWheel(
      () => this.now(),
      (deadline) => {
        if (!this.firing && deadline < this.scheduledAt) this.schedule(deadline);
      },
    );
  }

  now(): number {
    const t = performance.now() - this.origin;
    if (t > this.last) this.last = t;
    return this.last;
  }

  createTimer(callback: () => void): Timer {
    return this.wheel.createTimer(callback);
  }

  addFlushHook(hook: () => void): void {
    this.hooks.push(hook);
  }

  /** Armed timers. */
  pending(): number {
    return this.wheel.size;
  }

  /** Cancel the pending Node timer; armed stack timers then only fire if something arms a new earliest one. */
  dispose(): void {
    this.cancel();
  }

  private fire(): void {
    this.timeout = null;
    this.immediate = null;
    this.scheduledAt = Infinity;
    this.firing = true;
    try {
      // Callbacks see real time; what they arm for "now" goes in the next batch.
      if (this.wheel.advance(this.now(), ignoreTime) > 0) {
        const hooks = this.hooks;
        for (let i = 0; i < hooks.length; i++) hooks[i]();
      }
    } finally {
      this.firing = false;
      const next = this.wheel.nextDeadline();
      if (next !== Infinity) this.schedule(next);
    }
  }

  private schedule(deadline: number): void {
    this.cancel();
    this.scheduledAt = deadline;
    const delay = deadline - this.now();
    if (delay <= 0) {
      // Due now: setImmediate runs after pending I/O, without setTimeout(0)'s
      // 1 ms wait. It stays ref'd: Node only keeps the poll phase from
      // blocking for ref'd immediates, so an unref'd one could wait for
      // unrelated I/O. It holds the loop for one turn, until the due work has
      // run; waits for a future time are always unref'd.
      this.immediate = setImmediate(this.run);
    } else {
      this.timeout = setTimeout(this.run, Math.min(Math.ceil(delay), MAX_NODE_DELAY));
      this.timeout.unref();
    }
  }

  private cancel(): void {
    if (this.timeout !== null) clearTimeout(this.timeout);
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.timeout = null;
    this.immediate = null;
    this.scheduledAt = Infinity;
  }
}
