// VirtualClock: simulated time that moves only when the simulation drives it,
// so a whole run is deterministic (ARCHITECTURE.md, "Time"). Its timers live
// in a TimerWheel (./wheel).

import type { Clock, Timer } from './clock';
import { TimerWheel } from './wheel';

export interface RunUntilIdleOptions {
  /** Virtual milliseconds, counted from the call, after which to give up (default Infinity). */
  limit?: number;
  /** Timer callbacks to run at most before giving up (default 10,000,000, a guard against timers that re-arm forever). */
  maxEvents?: number;
}

export class VirtualClock implements Clock {
  private t: number;
  private readonly wheel: TimerWheel;
  private readonly hooks: (() => void)[] = [];
  private readonly setNow = (x: number): void => {
    if (x > this.t) this.t = x;
  };

  constructor(start = 0) {
    if (!(start >= 0) || start === Infinity) throw new RangeError(`start must be finite and >= 0, got ${start}`);
    this.t = start;
    this.wheel = new TimerWheel(() => this.t);
  }

  now(): number {
    return this.t;
  }

  createTimer(callback: () => void): Timer {
    return this.wheel.createTimer(callback);
  }

  addFlushHook(hook: () => void): void {
    this.hooks.push(hook);
  }

  /** Armed timers (including any armed for Infinity). */
  pending(): number {
    return this.wheel.size;
  }

  /** When the next timer fires, or Infinity. */
  nextDeadline(): number {
    return this.wheel.nextDeadline();
  }

  /** Fire the next group: every timer due at the earliest deadline (including ones armed for that instant meanwhile), then the flush hooks. False if nothing is armed. */
  step(): boolean {
    const d = this.wheel.nextDeadline();
    if (d === Infinity) return false;
    this.fireGroup(d, Infinity);
    return true;
  }

  /** Run every timer due up to `t`, group by group, then leave the time at `t` (if later than now). */
  runUntil(t: number): void {
    if (Number.isNaN(t)) throw new RangeError('runUntil time is NaN');
    for (;;) {
      const d = this.wheel.nextDeadline();
      if (d > t) break;
      this.fireGroup(d, Infinity);
    }
    if (t > this.t && t !== Infinity) this.t = t;
  }

  /** runUntil(now + ms). */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`advance needs ms >= 0, got ${ms}`);
    this.runUntil(this.t + ms);
  }

  /**
   * Run until no timer with a finite deadline is armed. Returns true if that
   * happened; false if `limit` virtual ms passed first (time is then left at
   * now + limit) or `maxEvents` callbacks ran first (time stays where the
   * last one ran).
   */
  runUntilIdle(opts?: RunUntilIdleOptions): boolean {
    const limit = opts?.limit ?? Infinity;
    const maxEvents = opts?.maxEvents ?? 10_000_000;
    if (!(limit >= 0) || !(maxEvents >= 0)) throw new RangeError('runUntilIdle limits must be >= 0');
    const end = this.t + limit;
    let events = 0;
    for (;;) {
      const d = this.wheel.nextDeadline();
      if (d === Infinity) return true;
      if (d > end) {
        this.t = end;
        return false;
      }
      if (events >= maxEvents) return false;
      events += this.fireGroup(d, maxEvents - events);
    }
  }

  private fireGroup(d: number, budget: number): number {
    let fired = 0;
    while (fired < budget && this.wheel.fireNext(d, this.setNow)) fired++;
    this.setNow(d);
    this.runHooks();
    return fired;
  }

  private runHooks(): void {
    const hooks = this.hooks;
    for (let i = 0; i < hooks.length; i++) hooks[i]();
  }
}
