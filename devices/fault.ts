// A Device that wraps another Device and impairs the frames crossing it in
// both directions: 'tx' (stack -> inner device) and 'rx' (inner device ->
// stack), each with its own options (devices/impairment.ts), changeable while
// running. With no delaying impairment in effect it is transparent: frames
// pass through inside the same send() or receive call, in the same batch.

import type { Clock } from '../stack/time/clock';
import { WrapperDevice } from './wrapper';
import { linkHeaderLength, type Device, type FrameReceiver } from '../stack/device';
import type { RandomSource } from '../stack/random';
import {
  addListener,
  defaultImpairments,
  ImpairedPath,
  mergeImpairments,
  type FrameEvent,
  type FrameListener,
  type ImpairmentOptions,
  type PathStats,
} from './impairment';

export type FaultDirection = 'tx' | 'rx';
export type FaultFrameEvent = FrameEvent<FaultDirection>;
export type FaultFrameListener = FrameListener<FaultDirection>;

/**
 * Impairments for both directions (the plain fields) and for one direction
 * (`tx`, `rx`, applied after the plain fields). `mtu` here only drops larger
 * frames; the injector advertises the inner device's mtu.
 */
export interface FaultOptions extends Partial<ImpairmentOptions> {
  tx?: Partial<ImpairmentOptions>;
  rx?: Partial<ImpairmentOptions>;
}

const faultKeys = new Set(['tx', 'rx', ...Object.keys(defaultImpairments)]);

function directionPatch(options: FaultOptions, side: FaultDirection): Partial<ImpairmentOptions> {
  for (const key of Object.keys(options)) {
    if (!faultKeys.has(key)) throw new RangeError(`unknown fault option '${key}'`);
  }
  const patch: Partial<ImpairmentOptions> = {};
  for (const key of Object.keys(defaultImpairments) as (keyof ImpairmentOptions)[]) {
    if (options[key] !== undefined) (patch as Record<string, unknown>)[key] = options[key];
  }
  const own = options[side];
  if (own !== undefined) Object.assign(patch, own);
  return patch;
}

export class FaultInjector extends WrapperDevice {
  readonly stats: { readonly tx: PathStats; readonly rx: PathStats };

  private readonly tx: ImpairedPath<FaultDirection>;
  private readonly rx: ImpairedPath<FaultDirection>;
  private readonly listeners: FaultFrameListener[] = [];
  private closed = false;

  constructor(
    inner: Device,
    clock: Clock,
    random: RandomSource,
    options: FaultOptions = {},
  ) {
    super(inner);
    const headerBytes = linkHeaderLength(inner.linkType);
    this.tx = new ImpairedPath<FaultDirection>({
      clock,
      random,
      from: 'tx',
      listeners: this.listeners,
      linkHeaderBytes: headerBytes,
      synchronous: true,
      options: directionPatch(options, 'tx'),
    });
    this.rx = new ImpairedPath<FaultDirection>({
      clock,
      random,
      from: 'rx',
      listeners: this.listeners,
      linkHeaderBytes: headerBytes,
      synchronous: true,
      options: directionPatch(options, 'rx'),
    });
    this.tx.receiver = (frames) => inner.send(frames);
    this.stats = { tx: this.tx.stats, rx: this.rx.stats };
    inner.attach((frames) => this.rx.offer(frames));
  }

  /** It may corrupt frames, so checksums are always needed behind it. */
  override get checksumOffload(): boolean {
    return false;
  }

  /** The current impairments of each direction (snapshots). */
  get options(): { tx: Readonly<ImpairmentOptions>; rx: Readonly<ImpairmentOptions> } {
    return { tx: this.tx.options, rx: this.rx.options };
  }

  attach(receiver: FrameReceiver): void {
    if (!this.closed) this.rx.receiver = receiver;
  }

  send(frames: readonly Uint8Array[]): void {
    this.tx.offer(frames);
  }

  /**
   * Change impairments while running; fields not given keep their values.
   * Throws RangeError on a bad value (and then changes nothing).
   */
  set(options: FaultOptions): void {
    const patchTx = directionPatch(options, 'tx');
    const patchRx = directionPatch(options, 'rx');
    mergeImpairments(this.tx.options, patchTx);
    mergeImpairments(this.rx.options, patchRx);
    this.tx.set(patchTx);
    this.rx.set(patchRx);
  }

  /**
   * Report every frame's fate in both directions: once when it enters the
   * injector (with its planned arrival) and once per copy when it leaves.
   * Returns a function that unsubscribes. Costs nothing without listeners.
   */
  onFrame(listener: FaultFrameListener): () => void {
    return addListener(this.listeners, listener);
  }

  /** Close the inner device and drop what is still held. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.rx.receiver = null;
    this.tx.close();
    this.rx.close();
    this.inner.close();
  }
}
