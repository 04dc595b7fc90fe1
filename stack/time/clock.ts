// The time contract of the stack: the Clock and Timer interfaces. Nothing in
// stack/ reads the wall clock: every timestamp and every timer comes from an
// injected Clock (ARCHITECTURE.md, "Time"). Times are milliseconds as doubles,
// measured from the clock's own origin. Implementations: VirtualClock
// (./virtual-clock) here, RealClock in net-api/real-clock, both on ./wheel.

/** A reusable timer: created once (per connection, per link), armed many times. */
export interface Timer {
  /** Arm, or re-arm, to fire `delayMs` milliseconds from now (0 means: at this instant, after the current work). */
  start(delayMs: number): void;
  /** Arm, or re-arm, to fire at the absolute time `deadlineMs` (a time in the past fires at the next opportunity). */
  startAt(deadlineMs: number): void;
  /** Disarm; a stopped timer never fires until started again. */
  stop(): void;
  readonly armed: boolean;
  /** When it will fire, or Infinity when not armed. */
  readonly deadline: number;
}

export interface Clock {
  /** Milliseconds since this clock's origin; never goes backwards. */
  now(): number;
  /** Make a timer that calls `callback` each time it fires. Allocates once; arming does not allocate. */
  createTimer(callback: () => void): Timer;
  /**
   * Register a hook that runs after each group of timers that fired at one
   * instant has run. Stacks flush the frames those timers produced here, so
   * output leaves in batches.
   */
  addFlushHook(hook: () => void): void;
}
