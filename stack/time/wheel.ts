// The timer wheel behind every Clock: a hashed hierarchical timing wheel and
// its reusable timer class. Clocks own one wheel each and supply its time
// source (VirtualClock in ./virtual-clock, RealClock in net-api/real-clock).

import type { Timer } from './clock';

// ---------------------------------------------------------------------------
// TimerWheel: a hashed hierarchical timing wheel (Varghese & Lauck, 1987).
//
// Ticks are 1 ms wide; tick(t) = floor(deadline). Level l has 32 slots, each
// covering 32^l ticks, so 8 levels reach 2^40 ms (about 35 years); deadlines
// further out wait in an overflow list. `cur` is the next tick the wheel has
// not yet taken out. Invariants (by the tick a timer was filed under; see
// the last paragraph for timers re-armed later):
//   - level 0 holds timers whose tick is in [cur, cur + 32): one tick per slot;
//   - level l >= 1 holds timers whose block floor(tick / 32^l) lies in
//     [floor(cur / 32^l) + 1, floor(cur / 32^l) + 32]: one block per slot;
//   - timers with a tick below `cur` sit in `ready`, a binary heap ordered by
//     (deadline, seq); every one of them is earlier than anything in the wheel.
// Arming and stopping a wheel timer is O(1) list work on links stored inside
// the timer; the heap only ever holds the slot that is coming due (plus
// timers armed for a time the wheel has already passed), so it stays small.
// Exact float deadlines are honoured by sorting a due slot through the heap.
// Re-arming to a later time (TCP's RTO on every ACK) leaves the timer where
// it is when its slot comes due no later than the new deadline: only its
// deadline changes, and the slot files it anew when it is taken out.
// ---------------------------------------------------------------------------

const LEVELS = 8;
const SLOTS = 32;
/** Ticks covered by one slot of each level: 32^l. */
const SPAN: readonly number[] = [1, 32, 1024, 32768, 1048576, 33554432, 1073741824, 34359738368];
/** Ticks the wheel reaches; 32^LEVELS = 2^40. */
const HORIZON = 1099511627776;
/** Index of the overflow list in `heads`, after the LEVELS * SLOTS slots. */
const OVERFLOW = LEVELS * SLOTS;
const TWO31 = 2147483648;

const IDLE = 0;
const IN_SLOT = 1;
const IN_HEAP = 2;
/** Armed for deadline Infinity: counted as armed, never fires. */
const PARKED = 3;

function noop(): void {}

/** x mod 32 for a non-negative integer held in a double. */
function mod32(x: number): number {
  return x < TWO31 ? x & 31 : x % 32;
}

/** floor(x / 32^level) mod 32 for a non-negative integer tick. */
function slotIndex(x: number, level: number): number {
  return x < TWO31 ? (x >>> (level * 5)) & 31 : Math.floor(x / SPAN[level]) % 32;
}

/** Index of the lowest set bit of a non-zero 32-bit word. */
function ctz32(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/** Rotate a 32-bit word right by r (0..31), so bit r lands at bit 0. */
function rotr32(x: number, r: number): number {
  return r === 0 ? x : (x >>> r) | (x << (32 - r));
}

class WheelTimer implements Timer {
  deadlineMs = Infinity;
  seq = 0;
  state = IDLE;
  /** Index into TimerWheel.heads while IN_SLOT. */
  slot = -1;
  /** While IN_SLOT: the tick at which that slot is taken out (Infinity for overflow). */
  slotTick = 0;
  /** Position in TimerWheel.ready while IN_HEAP. */
  heapIndex = -1;
  next: WheelTimer | null = null;
  prev: WheelTimer | null = null;

  constructor(
    readonly wheel: TimerWheel,
    readonly callback: () => void,
  ) {}

  get armed(): boolean {
    return this.state !== IDLE;
  }

  get deadline(): number {
    return this.deadlineMs;
  }

  start(delayMs: number): void {
    if (Number.isNaN(delayMs)) throw new RangeError('timer delay is NaN');
    const now = this.wheel.now();
    this.wheel.arm(this, delayMs > 0 ? now + delayMs : now);
  }

  startAt(deadlineMs: number): void {
    if (Number.isNaN(deadlineMs)) throw new RangeError('timer deadline is NaN');
    const now = this.wheel.now();
    this.wheel.arm(this, deadlineMs > now ? deadlineMs : now);
  }

  stop(): void {
    if (this.state !== IDLE) this.wheel.disarm(this);
  }
}

/** Placeholder for vacated heap cells, so the heap array never holds holes or stale timers. */
const VACANT = new WheelTimer(undefined as unknown as TimerWheel, noop);

function firesBefore(a: WheelTimer, b: WheelTimer): boolean {
  return a.deadlineMs < b.deadlineMs || (a.deadlineMs === b.deadlineMs && a.seq < b.seq);
}

export class TimerWheel {
  /** The owning clock's time source; timers are armed relative to it and never in its past. */
  readonly now: () => number;
  private readonly onArm: ((deadline: number) => void) | undefined;
  private readonly heads: (WheelTimer | null)[] = new Array<WheelTimer | null>(OVERFLOW + 1).fill(null);
  /** One occupancy bit per slot, one word per level. */
  private readonly bits = new Int32Array(LEVELS);
  private cur: number;
  /** Timers in slots or in the overflow list. */
  private wheelCount = 0;
  private readonly ready: WheelTimer[] = [];
  private readyLen = 0;
  private armedCount = 0;
  private seq = 0;

  /**
   * @param now the clock's current time (ms, >= 0).
   * @param onArm called after every arm with the new deadline (RealClock uses it to pull its Node timer earlier).
   */
  constructor(now: () => number, onArm?: (deadline: number) => void) {
    this.now = now;
    this.onArm = onArm;
    const start = now();
    if (!(start >= 0) || start === Infinity) throw new RangeError(`clock time must be finite and >= 0, got ${start}`);
    this.cur = Math.floor(start);
  }

  createTimer(callback: () => void): Timer {
    return new WheelTimer(this, callback);
  }

  /** Armed timers, including those armed for Infinity. */
  get size(): number {
    return this.armedCount;
  }

  /** Arm (or re-arm) `t` for `deadline`, which the caller has already clamped to >= now. */
  arm(t: WheelTimer, deadline: number): void {
    if (t.state === IN_SLOT && deadline !== Infinity && Math.floor(deadline) >= t.slotTick) {
      // Its slot comes due no later than the new deadline: leave it there; the
      // slot re-files it by its real deadline when taken out.
      t.deadlineMs = deadline;
      t.seq = this.seq++;
    } else {
      if (t.state !== IDLE) this.remove(t);
      else this.armedCount++;
      t.deadlineMs = deadline;
      t.seq = this.seq++;
      if (deadline === Infinity) t.state = PARKED;
      else this.place(t);
    }
    if (this.onArm !== undefined) this.onArm(deadline);
  }

  disarm(t: WheelTimer): void {
    this.remove(t);
    t.state = IDLE;
    t.deadlineMs = Infinity;
    this.armedCount--;
  }

  /** The earliest deadline of any armed timer, or Infinity. Moves the wheel forward to find it; scans slots, not timers. */
  nextDeadline(): number {
    if (this.readyLen === 0 && !this.fillReady(Infinity)) return Infinity;
    return this.ready[0].deadlineMs;
  }

  /**
   * Fire the single earliest timer if its deadline is <= `to`: set the time
   * to its deadline with `setNow`, then run its callback. Returns whether a
   * timer fired.
   */
  fireNext(to: number, setNow: (t: number) => void): boolean {
    if (this.readyLen === 0 && !this.fillReady(Math.floor(to))) return false;
    const t = this.ready[0];
    if (t.deadlineMs > to) return false;
    this.heapRemove(0);
    const deadline = t.deadlineMs;
    t.state = IDLE;
    t.deadlineMs = Infinity;
    this.armedCount--;
    setNow(deadline);
    t.callback();
    return true;
  }

  /**
   * Fire every timer whose deadline is <= `to`, in (deadline, arming order),
   * including those armed by the callbacks themselves; each callback runs
   * with the time set to its own deadline. Then set the time to `to`.
   * Returns the number of timers fired.
   */
  advance(to: number, setNow: (t: number) => void): number {
    let fired = 0;
    while (this.fireNext(to, setNow)) fired++;
    setNow(to);
    return fired;
  }

  // -- placement ------------------------------------------------------------

  private place(t: WheelTimer): void {
    const tick = Math.floor(t.deadlineMs);
    const cur = this.cur;
    if (tick < cur) {
      this.heapPush(t);
      return;
    }
    const delta = tick - cur;
    let index: number;
    if (delta < SLOTS) {
      index = mod32(tick);
      t.slotTick = tick;
    } else {
      let level: number;
      if (delta < TWO31) level = ((31 - Math.clz32(delta)) / 5) | 0; // floor(log2(delta) / 5)
      else if (delta < SPAN[7]) level = 6;
      else if (delta < HORIZON) level = 7;
      else level = LEVELS; // overflow
      if (level === LEVELS) {
        index = OVERFLOW;
        t.slotTick = Infinity;
      } else {
        index = level * SLOTS + slotIndex(tick, level);
        const span = SPAN[level];
        t.slotTick = Math.floor(tick / span) * span; // the block's first tick, when it cascades
      }
    }
    const head = this.heads[index];
    t.prev = null;
    t.next = head;
    if (head !== null) head.prev = t;
    else if (index !== OVERFLOW) this.bits[index >>> 5] |= 1 << (index & 31);
    this.heads[index] = t;
    t.slot = index;
    t.state = IN_SLOT;
    this.wheelCount++;
  }

  private remove(t: WheelTimer): void {
    if (t.state === IN_SLOT) {
      const { prev, next } = t;
      if (prev !== null) prev.next = next;
      else {
        const index = t.slot;
        this.heads[index] = next;
        if (next === null && index !== OVERFLOW) this.bits[index >>> 5] &= ~(1 << (index & 31));
      }
      if (next !== null) next.prev = prev;
      t.next = t.prev = null;
      this.wheelCount--;
    } else if (t.state === IN_HEAP) {
      this.heapRemove(t.heapIndex);
    }
  }

  /** Take the list out of a slot and place its timers again relative to `cur`. */
  private cascade(index: number): void {
    let t = this.heads[index];
    if (t === null) return;
    this.heads[index] = null;
    if (index !== OVERFLOW) this.bits[index >>> 5] &= ~(1 << (index & 31));
    while (t !== null) {
      const next: WheelTimer | null = t.next;
      this.wheelCount--;
      this.place(t);
      t = next;
    }
  }

  /** Set `cur` forward to x, cascading the higher-level slots whose block begins at x. */
  private moveTo(x: number): void {
    this.cur = x;
    if (mod32(x) !== 0) return;
    let top = 1;
    while (top < LEVELS - 1 && x % SPAN[top + 1] === 0) top++;
    if (top === LEVELS - 1 && x % HORIZON === 0) this.cascade(OVERFLOW);
    for (let level = top; level >= 1; level--) this.cascade(level * SLOTS + slotIndex(x, level));
  }

  /**
   * Move the earliest occupied tick <= limitTick from the wheel into the heap.
   * Returns false when there is none (the wheel then catches up to limitTick + 1).
   */
  private fillReady(limitTick: number): boolean {
    while (this.wheelCount !== 0) {
      const cur = this.cur;
      const r0 = mod32(cur);
      const b0 = this.bits[0];
      const tick = b0 !== 0 ? cur + ctz32(rotr32(b0, r0)) : Infinity;
      if (tick >= cur - r0 + SLOTS) {
        // Past the current level-0 block: a higher-level slot may hold something earlier.
        let block = Infinity;
        for (let level = 1; level < LEVELS; level++) {
          const b = this.bits[level];
          if (b === 0) continue;
          const span = SPAN[level];
          const q = Math.floor(cur / span) + 1; // the first block this level can hold
          const start = (q + ctz32(rotr32(b, mod32(q)))) * span;
          if (start < block) block = start;
        }
        if (this.heads[OVERFLOW] !== null) {
          const start = (Math.floor(cur / HORIZON) + 1) * HORIZON;
          if (start < block) block = start;
        }
        if (block <= tick) {
          if (block > limitTick) break;
          this.moveTo(block);
          continue;
        }
      }
      if (tick > limitTick) break;
      // Take the whole tick: the heap sorts it by exact deadline and seq.
      // Timers re-armed later while they sat here go back into the wheel.
      const index = mod32(tick);
      let t = this.heads[index];
      this.heads[index] = null;
      this.bits[0] &= ~(1 << index);
      this.cur = tick;
      const readyBefore = this.readyLen;
      while (t !== null) {
        const next: WheelTimer | null = t.next;
        this.wheelCount--;
        if (t.deadlineMs < tick + 1) {
          t.next = t.prev = null;
          this.heapPush(t);
        } else {
          this.place(t);
        }
        t = next;
      }
      this.moveTo(tick + 1);
      if (this.readyLen !== readyBefore) return true;
    }
    // Nothing due by limitTick. Catch up, so later arms land in low levels;
    // nothing is skipped: every occupied slot lies beyond limitTick.
    if (limitTick !== Infinity && limitTick + 1 > this.cur) {
      if (this.wheelCount === 0) this.cur = limitTick + 1;
      else this.moveTo(limitTick + 1);
    }
    return false;
  }

  // -- ready heap, ordered by (deadline, seq) ---------------------------------

  private heapPush(t: WheelTimer): void {
    const heap = this.ready;
    let i = this.readyLen++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p];
      if (!firesBefore(t, parent)) break;
      heap[i] = parent;
      parent.heapIndex = i;
      i = p;
    }
    heap[i] = t;
    t.heapIndex = i;
    t.state = IN_HEAP;
  }

  private heapRemove(i: number): void {
    const heap = this.ready;
    const removed = heap[i];
    removed.heapIndex = -1;
    const last = heap[--this.readyLen];
    heap[this.readyLen] = VACANT;
    if (i === this.readyLen) return;
    // Put `last` into the hole at i, then restore heap order up or down.
    if (i > 0 && firesBefore(last, heap[(i - 1) >> 1])) {
      while (i > 0) {
        const p = (i - 1) >> 1;
        const parent = heap[p];
        if (!firesBefore(last, parent)) break;
        heap[i] = parent;
        parent.heapIndex = i;
        i = p;
      }
    } else {
      const n = this.readyLen;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && firesBefore(heap[r], heap[l]) ? r : l;
        const child = heap[c];
        if (!firesBefore(child, last)) break;
        heap[i] = child;
        child.heapIndex = i;
        i = c;
      }
    }
    heap[i] = last;
    last.heapIndex = i;
  }
}
