// Impairment of one direction of frame traffic: the shared engine behind the
// in-memory Link (devices/link.ts) and the FaultInjector (devices/fault.ts).
//
// A frame offered to an ImpairedPath goes through, in this order:
//   1. down check      (link cut or path closed)            -> 'down-drop'
//   2. size check      (larger than the mtu)                -> 'mtu-drop'
//   3. transmit queue  (tail drop at the queue limits)      -> 'queue-drop'
//   4. serialization   (size * 8 / rateBps, behind the frames queued before it)
//   5. the wire        (random loss, optionally bursty)     -> 'lost'
//   6. impairments     (corruption of a copy, reordering hold-back, jitter)
//   7. propagation     (delayMs) and delivery in FIFO order, except held-back
//                      frames, which later frames may overtake.
//   A duplicate, when drawn, is a copy of the frame as sent that arrives right
//   behind it in FIFO order.
//
// Frames wait in two rings (in order, and held back), each sorted by arrival
// time, and one Timer per path fires at the earliest arrival; every frame due
// at that instant goes to the receiver in one batch. Nothing is allocated per
// frame except the copies that corruption and duplication need, and the event
// records, which exist only while somebody listens.

import type { Clock, Timer } from '../stack/time/clock';
import type { FrameReceiver } from '../stack/device';
import type { RandomSource } from '../stack/random';
import { copyBytes } from '../stack/buffers';

/** Gilbert-Elliott burst loss: a two-state Markov chain stepped once per frame. */
export interface BurstLossOptions {
  /** Probability of moving from the good to the bad state (netem's p). */
  enterBad: number;
  /** Probability of moving from the bad back to the good state (netem's r). */
  exitBad: number;
  /** Loss probability in the bad state (netem's 1-h). Default 1. */
  lossBad?: number;
  /** Loss probability in the good state (netem's 1-k). Default 0. */
  lossGood?: number;
}

/** What happens to frames in one direction. Every field can be changed while running; changes apply to frames offered afterwards (except `up: false`, which also drops everything in flight). */
export interface ImpairmentOptions {
  /** false cuts the path: frames in flight and frames offered later are dropped ('down-drop'). */
  up: boolean;
  /** One-way propagation delay in ms. */
  delayMs: number;
  /** Uniform extra delay in [0, jitterMs) ms per frame. Delivery stays FIFO: a frame never overtakes an earlier one because of jitter. */
  jitterMs: number;
  /** Transmit rate in bits per second; a frame occupies the transmitter for size*8/rateBps seconds and later frames queue behind it. 0 or Infinity: no serialization delay. */
  rateBps: number;
  /** Tail drop when the frames waiting to be transmitted (not counting the one being transmitted) would exceed this many bytes. */
  queueLimitBytes: number;
  /** Tail drop when more than this many frames would wait to be transmitted (not counting the one being transmitted). */
  queueLimitPackets: number;
  /** Independent loss probability, 0..1, applied on the wire (a lost frame still used its transmit time). */
  loss: number;
  /** Bursty loss on top of `loss`; null: none. */
  lossBurst: BurstLossOptions | null;
  /** Probability that a frame arrives twice. */
  duplicate: number;
  /** Probability that a frame is held back `reorderDelayMs` longer than its FIFO arrival time, so later frames overtake it. */
  reorder: number;
  /** Extra delay of a held-back frame in ms. Default 10. */
  reorderDelayMs: number;
  /** Probability that one random bit of the frame is flipped (in a copy; the sender's buffer is never written). */
  corrupt: number;
  /** Largest IP packet carried; larger frames are dropped ('mtu-drop'). Infinity: no limit. */
  mtu: number;
}

export const defaultImpairments: Readonly<ImpairmentOptions> = Object.freeze({
  up: true,
  delayMs: 0,
  jitterMs: 0,
  rateBps: 0,
  queueLimitBytes: Infinity,
  queueLimitPackets: Infinity,
  loss: 0,
  lossBurst: null,
  duplicate: 0,
  reorder: 0,
  reorderDelayMs: 10,
  corrupt: 0,
  mtu: Infinity,
});

/**
 * The fate of a frame. At the 'send' stage: a drop ('lost', 'queue-drop',
 * 'mtu-drop', 'down-drop'), or the plan for a copy that will arrive:
 * 'duplicated' (the extra copy), else 'corrupted', else 'reordered', else
 * 'delivered'. At the 'arrive' stage: 'delivered', or 'down-drop' when the
 * receiving end was closed or not attached.
 */
export type FrameFate =
  | 'delivered'
  | 'lost'
  | 'queue-drop'
  | 'mtu-drop'
  | 'down-drop'
  | 'duplicated'
  | 'corrupted'
  | 'reordered';

/** One record of a frame crossing a path. Each frame is reported once when it is offered ('send', with its planned arrival) and once per copy when it arrives ('arrive'). */
export interface FrameEvent<From extends string = string> {
  stage: 'send' | 'arrive';
  /** The time of this record (the clock's now). */
  time: number;
  /** Which side sent it: 'a' | 'b' for a Link, 'tx' | 'rx' for a FaultInjector. */
  from: From;
  /** Index of the frame among all frames offered to this direction, from 0; a duplicate shares its original's. */
  seq: number;
  /** The bytes as they travel: for a corrupted copy, the corrupted bytes. Never write into it. */
  frame: Uint8Array;
  fate: FrameFate;
  /** When the frame was offered. */
  sentAt: number;
  /** When it arrives (planned at the 'send' stage); null when it is dropped. */
  deliverAt: number | null;
  /** This copy is the extra one made by duplication. */
  duplicate: boolean;
  /** This copy had a bit flipped. */
  corrupted: boolean;
  /** This copy was held back so later frames may overtake it. */
  reordered: boolean;
}

export type FrameListener<From extends string = string> = (event: FrameEvent<From>) => void;

/** Counters of one direction; the object is live (updated in place). */
export interface PathStats {
  /** Frames offered, including the ones dropped. */
  sent: number;
  sentBytes: number;
  /** Copies handed to the receiver (duplicates count). */
  delivered: number;
  deliveredBytes: number;
  lost: number;
  queueDrops: number;
  mtuDrops: number;
  downDrops: number;
  duplicated: number;
  corrupted: number;
  reordered: number;
}

export function newPathStats(): PathStats {
  return {
    sent: 0,
    sentBytes: 0,
    delivered: 0,
    deliveredBytes: 0,
    lost: 0,
    queueDrops: 0,
    mtuDrops: 0,
    downDrops: 0,
    duplicated: 0,
    corrupted: 0,
    reordered: 0,
  };
}

function checkProbability(name: string, value: number): void {
  if (!(value >= 0 && value <= 1)) throw new RangeError(`${name} must be a probability in [0, 1], got ${value}`);
}

function checkNonNegative(name: string, value: number): void {
  if (!(value >= 0)) throw new RangeError(`${name} must be a number >= 0, got ${value}`);
}

/** Merge `patch` into a copy of `base`, validating every field. Throws RangeError on a bad value. */
export function mergeImpairments(base: Readonly<ImpairmentOptions>, patch: Partial<ImpairmentOptions> | undefined): ImpairmentOptions {
  const o: ImpairmentOptions = { ...base };
  if (patch === undefined) return o;
  for (const key of Object.keys(patch) as (keyof ImpairmentOptions)[]) {
    if (!(key in defaultImpairments)) throw new RangeError(`unknown impairment option '${key}'`);
    if (patch[key] === undefined) continue;
    (o as unknown as Record<string, unknown>)[key] = patch[key];
  }
  checkNonNegative('delayMs', o.delayMs);
  checkNonNegative('jitterMs', o.jitterMs);
  checkNonNegative('rateBps', o.rateBps);
  checkNonNegative('queueLimitBytes', o.queueLimitBytes);
  checkNonNegative('queueLimitPackets', o.queueLimitPackets);
  checkNonNegative('reorderDelayMs', o.reorderDelayMs);
  checkNonNegative('mtu', o.mtu);
  checkProbability('loss', o.loss);
  checkProbability('duplicate', o.duplicate);
  checkProbability('reorder', o.reorder);
  checkProbability('corrupt', o.corrupt);
  if (o.lossBurst !== null) {
    const b = o.lossBurst;
    checkProbability('lossBurst.enterBad', b.enterBad);
    checkProbability('lossBurst.exitBad', b.exitBad);
    checkProbability('lossBurst.lossBad', b.lossBad ?? 1);
    checkProbability('lossBurst.lossGood', b.lossGood ?? 0);
    o.lossBurst = { ...b };
  }
  if (typeof o.up !== 'boolean') throw new RangeError(`up must be a boolean, got ${String(o.up)}`);
  return o;
}

const FLAG_DUPLICATE = 1;
const FLAG_CORRUPTED = 2;
const FLAG_REORDERED = 4;

/** A growable ring of frames waiting to arrive, sorted by arrival time by construction (callers push non-decreasing times). */
class ArrivalRing {
  private capacity = 16;
  private head = 0;
  length = 0;
  private at = new Float64Array(16);
  private sentAt = new Float64Array(16);
  private seq = new Float64Array(16);
  private flags = new Uint8Array(16);
  private frames: (Uint8Array | null)[] = new Array<Uint8Array | null>(16).fill(null);
  /** Arrival time of the last frame pushed; later pushes never go below it. */
  lastAt = -Infinity;

  push(at: number, frame: Uint8Array, sentAt: number, seq: number, flags: number): void {
    if (this.length === this.capacity) this.grow();
    const i = (this.head + this.length) & (this.capacity - 1);
    this.at[i] = at;
    this.sentAt[i] = sentAt;
    this.seq[i] = seq;
    this.flags[i] = flags;
    this.frames[i] = frame;
    this.length++;
    this.lastAt = at;
  }

  headAt(): number {
    return this.length === 0 ? Infinity : this.at[this.head]!;
  }
  headSeq(): number {
    return this.seq[this.head]!;
  }
  headSentAt(): number {
    return this.sentAt[this.head]!;
  }
  headFlags(): number {
    return this.flags[this.head]!;
  }
  /** Remove and return the head frame. Only call when length > 0. */
  shift(): Uint8Array {
    const frame = this.frames[this.head]!;
    this.frames[this.head] = null;
    this.head = (this.head + 1) & (this.capacity - 1);
    this.length--;
    return frame;
  }

  private grow(): void {
    const cap = this.capacity * 2;
    const at = new Float64Array(cap);
    const sentAt = new Float64Array(cap);
    const seq = new Float64Array(cap);
    const flags = new Uint8Array(cap);
    const frames = new Array<Uint8Array | null>(cap).fill(null);
    for (let k = 0; k < this.length; k++) {
      const i = (this.head + k) & (this.capacity - 1);
      at[k] = this.at[i]!;
      sentAt[k] = this.sentAt[i]!;
      seq[k] = this.seq[i]!;
      flags[k] = this.flags[i]!;
      frames[k] = this.frames[i]!;
    }
    this.at = at;
    this.sentAt = sentAt;
    this.seq = seq;
    this.flags = flags;
    this.frames = frames;
    this.capacity = cap;
    this.head = 0;
  }
}

/** The frames waiting for the transmitter: when each starts transmitting, and its size. */
class TransmitRing {
  private capacity = 16;
  private head = 0;
  length = 0;
  bytes = 0;
  private start = new Float64Array(16);
  private size = new Float64Array(16);

  push(start: number, size: number): void {
    if (this.length === this.capacity) this.grow();
    const i = (this.head + this.length) & (this.capacity - 1);
    this.start[i] = start;
    this.size[i] = size;
    this.length++;
    this.bytes += size;
  }

  /** Forget the frames whose transmission has started by `now`. */
  advance(now: number): void {
    while (this.length !== 0 && this.start[this.head]! <= now) {
      this.bytes -= this.size[this.head]!;
      this.head = (this.head + 1) & (this.capacity - 1);
      this.length--;
    }
  }

  clear(): void {
    this.head = 0;
    this.length = 0;
    this.bytes = 0;
  }

  private grow(): void {
    const cap = this.capacity * 2;
    const start = new Float64Array(cap);
    const size = new Float64Array(cap);
    for (let k = 0; k < this.length; k++) {
      const i = (this.head + k) & (this.capacity - 1);
      start[k] = this.start[i]!;
      size[k] = this.size[i]!;
    }
    this.start = start;
    this.size = size;
    this.capacity = cap;
    this.head = 0;
  }
}

export interface ImpairedPathConfig<From extends string> {
  clock: Clock;
  random: RandomSource;
  /** The label reported in events ('a', 'b', 'tx', 'rx'). */
  from: From;
  /** Shared with the owner, so one onFrame covers every path it owns. */
  listeners: FrameListener<From>[];
  /** Bytes of link-layer header that frames carry beyond the mtu (14 for Ethernet II, 0 for IP). */
  linkHeaderBytes?: number;
  /**
   * Hand frames that are due at once to the receiver inside offer(), instead
   * of on a 0-delay timer. Right for a wrapper that must be transparent when
   * nothing delays (FaultInjector); wrong for a link between two stacks, where
   * it would re-enter the sender.
   */
  synchronous?: boolean;
  options?: Partial<ImpairmentOptions>;
}

/** One direction of impaired frame traffic. */
export class ImpairedPath<From extends string = string> {
  /** Where arriving frames go; null drops them ('down-drop' at arrival). */
  receiver: FrameReceiver | null = null;
  readonly stats: PathStats = newPathStats();

  private opts: ImpairmentOptions;
  private readonly clock: Clock;
  private readonly random: RandomSource;
  private readonly from: From;
  private readonly listeners: FrameListener<From>[];
  private readonly headerBytes: number;
  private readonly synchronous: boolean;
  private readonly timer: Timer;
  private readonly inOrder = new ArrivalRing();
  private readonly heldBack = new ArrivalRing();
  private readonly transmitQueue = new TransmitRing();
  /** When the transmitter finishes the last frame accepted. */
  private transmitFreeAt = -Infinity;
  private burstBad = false;
  private nextSeq = 0;
  private closed = false;
  private delivering = false;
  private readonly batch: Uint8Array[] = [];

  constructor(config: ImpairedPathConfig<From>) {
    this.clock = config.clock;
    this.random = config.random;
    this.from = config.from;
    this.listeners = config.listeners;
    this.headerBytes = config.linkHeaderBytes ?? 0;
    this.synchronous = config.synchronous ?? false;
    this.opts = mergeImpairments(defaultImpairments, config.options);
    this.timer = this.clock.createTimer(() => this.deliverDue());
  }

  /** The current options (a snapshot; change them with set()). */
  get options(): Readonly<ImpairmentOptions> {
    return { ...this.opts };
  }

  /** Frames accepted and not yet arrived. */
  get inFlight(): number {
    return this.inOrder.length + this.heldBack.length;
  }

  /** Change options while running. Setting `up: false` drops every frame in flight. Throws RangeError on a bad value. */
  set(patch: Partial<ImpairmentOptions>): void {
    const next = mergeImpairments(this.opts, patch);
    const cut = this.opts.up && !next.up;
    this.opts = next;
    if (next.lossBurst === null) this.burstBad = false;
    if (cut) this.dropInFlight();
  }

  /** Later offers are dropped; frames in flight are dropped too. */
  close(): void {
    this.closed = true;
    this.dropInFlight();
  }

  /** Offer a batch of frames (ownership passes, as with Device.send). */
  offer(frames: readonly Uint8Array[]): void {
    for (let i = 0; i < frames.length; i++) this.offerOne(frames[i]!);
    this.schedule();
  }

  private offerOne(frame: Uint8Array): void {
    const o = this.opts;
    const now = this.clock.now();
    const stats = this.stats;
    const seq = this.nextSeq++;
    const size = frame.length;
    stats.sent++;
    stats.sentBytes += size;

    if (this.closed || !o.up) {
      stats.downDrops++;
      if (this.listeners.length !== 0) this.emit('send', now, seq, frame, 'down-drop', now, null, 0);
      return;
    }
    if (size > o.mtu + this.headerBytes) {
      stats.mtuDrops++;
      if (this.listeners.length !== 0) this.emit('send', now, seq, frame, 'mtu-drop', now, null, 0);
      return;
    }

    // Transmit queue and serialization.
    let departs = now;
    if (o.rateBps > 0 && o.rateBps !== Infinity) {
      const q = this.transmitQueue;
      q.advance(now);
      const start = this.transmitFreeAt > now ? this.transmitFreeAt : now;
      if (start > now) {
        // It has to wait: tail drop if the queue is full.
        if (q.length + 1 > o.queueLimitPackets || q.bytes + size > o.queueLimitBytes) {
          stats.queueDrops++;
          if (this.listeners.length !== 0) this.emit('send', now, seq, frame, 'queue-drop', now, null, 0);
          return;
        }
        q.push(start, size);
      }
      departs = start + (size * 8000) / o.rateBps;
      this.transmitFreeAt = departs;
    }

    // The wire.
    if (this.drawLoss(o)) {
      stats.lost++;
      if (this.listeners.length !== 0) this.emit('send', now, seq, frame, 'lost', now, null, 0);
      return;
    }
    const original = frame;
    let flags = 0;
    if (o.corrupt > 0 && size > 0 && this.random.float() < o.corrupt) {
      // A real copy: a Buffer's slice() would be a view, and the flip would land in the sender's frame.
      frame = copyBytes(frame);
      const bit = Math.floor(this.random.float() * size * 8);
      frame[bit >>> 3] ^= 1 << (bit & 7);
      flags |= FLAG_CORRUPTED;
      stats.corrupted++;
    }
    const held = o.reorder > 0 && this.random.float() < o.reorder;
    let arrives = departs + o.delayMs;
    if (o.jitterMs > 0) arrives += this.random.float() * o.jitterMs;
    const inOrderAt = arrives > this.inOrder.lastAt ? arrives : this.inOrder.lastAt;
    if (held) {
      flags |= FLAG_REORDERED;
      stats.reordered++;
      let heldAt = arrives + o.reorderDelayMs;
      if (heldAt < this.heldBack.lastAt) heldAt = this.heldBack.lastAt;
      this.heldBack.push(heldAt, frame, now, seq, flags);
      if (this.listeners.length !== 0) {
        this.emit('send', now, seq, frame, flags & FLAG_CORRUPTED ? 'corrupted' : 'reordered', now, heldAt, flags);
      }
    } else {
      this.inOrder.push(inOrderAt, frame, now, seq, flags);
      if (this.listeners.length !== 0) {
        this.emit('send', now, seq, frame, flags & FLAG_CORRUPTED ? 'corrupted' : 'delivered', now, inOrderAt, flags);
      }
    }
    if (o.duplicate > 0 && this.random.float() < o.duplicate) {
      const copy = copyBytes(original); // not slice(): the duplicate must not share bytes with the frame
      stats.duplicated++;
      this.inOrder.push(inOrderAt, copy, now, seq, FLAG_DUPLICATE);
      if (this.listeners.length !== 0) this.emit('send', now, seq, copy, 'duplicated', now, inOrderAt, FLAG_DUPLICATE);
    }
  }

  private drawLoss(o: ImpairmentOptions): boolean {
    let lost = o.loss > 0 && this.random.float() < o.loss;
    const burst = o.lossBurst;
    if (burst !== null) {
      // Step the chain, then lose with the probability of the state it is in.
      if (this.burstBad) {
        if (this.random.float() < burst.exitBad) this.burstBad = false;
      } else if (this.random.float() < burst.enterBad) {
        this.burstBad = true;
      }
      const p = this.burstBad ? (burst.lossBad ?? 1) : (burst.lossGood ?? 0);
      if (p > 0 && this.random.float() < p) lost = true;
    }
    return lost;
  }

  /** Arm the timer for the earliest arrival, or deliver now when synchronous and due. */
  private schedule(): void {
    const next = Math.min(this.inOrder.headAt(), this.heldBack.headAt());
    if (next === Infinity) {
      if (this.timer.armed) this.timer.stop();
      return;
    }
    if (this.synchronous && !this.delivering && next <= this.clock.now()) {
      this.deliverDue();
      return;
    }
    if (!this.timer.armed || this.timer.deadline !== next) this.timer.startAt(next);
  }

  /** Hand every frame due by now to the receiver, in one batch. */
  private deliverDue(): void {
    const now = this.clock.now();
    const batch = this.batch;
    const receiver = this.receiver;
    const stats = this.stats;
    const inOrder = this.inOrder;
    const heldBack = this.heldBack;
    for (;;) {
      const a = inOrder.headAt();
      const b = heldBack.headAt();
      let ring: ArrivalRing;
      if (a <= b) {
        if (a > now) break;
        // On a tie, the frame offered first goes first.
        ring = a === b && heldBack.headSeq() < inOrder.headSeq() ? heldBack : inOrder;
      } else {
        if (b > now) break;
        ring = heldBack;
      }
      const at = ring.headAt();
      const sentAt = ring.headSentAt();
      const seq = ring.headSeq();
      const flags = ring.headFlags();
      const frame = ring.shift();
      if (receiver === null) {
        stats.downDrops++;
        if (this.listeners.length !== 0) this.emit('arrive', now, seq, frame, 'down-drop', sentAt, null, flags);
        continue;
      }
      stats.delivered++;
      stats.deliveredBytes += frame.length;
      batch.push(frame);
      if (this.listeners.length !== 0) this.emit('arrive', now, seq, frame, 'delivered', sentAt, at, flags);
    }
    const next = Math.min(inOrder.headAt(), heldBack.headAt());
    if (next === Infinity) this.timer.stop();
    else this.timer.startAt(next);
    if (batch.length === 0 || receiver === null) return;
    this.delivering = true;
    try {
      receiver(batch);
    } finally {
      this.delivering = false;
      batch.length = 0;
    }
  }

  private dropInFlight(): void {
    const now = this.clock.now();
    for (const ring of [this.inOrder, this.heldBack]) {
      while (ring.length !== 0) {
        const sentAt = ring.headSentAt();
        const seq = ring.headSeq();
        const flags = ring.headFlags();
        const frame = ring.shift();
        this.stats.downDrops++;
        if (this.listeners.length !== 0) this.emit('arrive', now, seq, frame, 'down-drop', sentAt, null, flags);
      }
      ring.lastAt = -Infinity;
    }
    this.transmitQueue.clear();
    this.transmitFreeAt = -Infinity;
    this.timer.stop();
  }

  private emit(
    stage: 'send' | 'arrive',
    time: number,
    seq: number,
    frame: Uint8Array,
    fate: FrameFate,
    sentAt: number,
    deliverAt: number | null,
    flags: number,
  ): void {
    const event: FrameEvent<From> = {
      stage,
      time,
      from: this.from,
      seq,
      frame,
      fate,
      sentAt,
      deliverAt,
      duplicate: (flags & FLAG_DUPLICATE) !== 0,
      corrupted: (flags & FLAG_CORRUPTED) !== 0,
      reordered: (flags & FLAG_REORDERED) !== 0,
    };
    const listeners = this.listeners;
    if (listeners.length === 1) {
      listeners[0]!(event);
      return;
    }
    // A listener may unsubscribe while we iterate: walk a snapshot.
    for (const listener of listeners.slice()) listener(event);
  }
}

/** Add `listener` to `listeners`; the returned function removes it again. */
export function addListener<T>(listeners: T[], listener: T): () => void {
  listeners.push(listener);
  return () => {
    const i = listeners.indexOf(listener);
    if (i >= 0) listeners.splice(i, 1);
  };
}
