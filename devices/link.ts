// An in-memory point-to-point link between two devices, with impairments per
// direction (devices/impairment.ts): delay, jitter, rate and queue, loss,
// duplication, reordering, corruption, mtu, cut and heal. Delivery is always
// asynchronous (on the clock's timers), so a stack never re-enters itself
// through the link.

import type { Clock } from '../stack/time/clock';
import { linkHeaderLength, type Device, type FrameReceiver, type LinkType } from '../stack/device';
import type { RandomSource } from '../stack/random';
import { copyBytes } from '../stack/buffers';
import { MAC_LENGTH, makeLocalUnicastMac } from '../stack/wire/ethernet';
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

export type { BurstLossOptions, FrameEvent, FrameFate, FrameListener, ImpairmentOptions, PathStats } from './impairment';

export type LinkSide = 'a' | 'b';
export type LinkFrameEvent = FrameEvent<LinkSide>;
export type LinkFrameListener = FrameListener<LinkSide>;

/**
 * Impairments for both directions (the plain fields) and for one direction
 * (`aToB`, `bToA`, applied after the plain fields). The plain `mtu` is also
 * the mtu both devices advertise; an `mtu` inside `aToB`/`bToA` only drops
 * larger frames in that direction (a path-MTU black hole), the devices still
 * advertise the link's.
 */
export interface LinkImpairments extends Partial<ImpairmentOptions> {
  aToB?: Partial<ImpairmentOptions>;
  bToA?: Partial<ImpairmentOptions>;
}

export interface LinkOptions extends LinkImpairments {
  /** 'ip' (default): frames are IPv4 packets. 'ethernet': Ethernet II frames, the ends have MACs. */
  linkType?: LinkType;
  /** Device names of the two ends. Default 'a' and 'b'. */
  nameA?: string;
  nameB?: string;
  /** MACs of the ends for 'ethernet'. Default: random locally administered unicast addresses (from the injected RandomSource). */
  macA?: Uint8Array;
  macB?: Uint8Array;
}

export const DEFAULT_LINK_MTU = 1500;

function randomMac(random: RandomSource): Uint8Array {
  const mac = new Uint8Array(MAC_LENGTH);
  random.fill(mac);
  return makeLocalUnicastMac(mac);
}

function checkMac(mac: Uint8Array): Uint8Array {
  if (mac.length !== MAC_LENGTH) throw new RangeError(`a MAC address has 6 bytes, got ${mac.length}`);
  return copyBytes(mac); // the caller's array may be a Buffer, whose slice() would share its bytes
}

/** Split `options` into the fields for one direction. */
function directionPatch(options: LinkImpairments, side: 'aToB' | 'bToA'): Partial<ImpairmentOptions> {
  const patch: Partial<ImpairmentOptions> = {};
  for (const key of Object.keys(defaultImpairments) as (keyof ImpairmentOptions)[]) {
    if (options[key] !== undefined) (patch as Record<string, unknown>)[key] = options[key];
  }
  const own = options[side];
  if (own !== undefined) Object.assign(patch, own);
  return patch;
}

const linkKeys = new Set(['aToB', 'bToA', 'linkType', 'nameA', 'nameB', 'macA', 'macB', ...Object.keys(defaultImpairments)]);

function checkKeys(options: object): void {
  for (const key of Object.keys(options)) {
    if (!linkKeys.has(key)) throw new RangeError(`unknown link option '${key}'`);
  }
}

/** Counters of a link, per direction; live objects. */
export interface LinkStats {
  readonly aToB: PathStats;
  readonly bToA: PathStats;
}

/** One end of a Link. */
class LinkEnd implements Device {
  readonly linkType: LinkType;
  readonly mac: Uint8Array | null;
  private closed = false;

  constructor(
    readonly name: string,
    linkType: LinkType,
    mac: Uint8Array | null,
    private readonly link: Link,
    private readonly outbound: ImpairedPath<LinkSide>,
    private readonly inbound: ImpairedPath<LinkSide>,
  ) {
    this.linkType = linkType;
    this.mac = mac;
  }

  get mtu(): number {
    return this.link.mtu;
  }

  attach(receiver: FrameReceiver): void {
    if (!this.closed) this.inbound.receiver = receiver;
  }

  send(frames: readonly Uint8Array[]): void {
    this.outbound.offer(frames);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.inbound.receiver = null;
    this.outbound.close();
  }
}

export class Link {
  /** One end: what it sends travels a -> b. */
  readonly a: Device;
  /** The other end: what it sends travels b -> a. */
  readonly b: Device;
  readonly stats: LinkStats;

  private linkMtu: number;
  private readonly aToB: ImpairedPath<LinkSide>;
  private readonly bToA: ImpairedPath<LinkSide>;
  private readonly listeners: LinkFrameListener[] = [];

  constructor(clock: Clock, random: RandomSource, options: LinkOptions = {}) {
    checkKeys(options);
    const linkType = options.linkType ?? 'ip';
    if (linkType !== 'ip' && linkType !== 'ethernet') throw new RangeError(`unknown link type '${String(linkType)}'`);
    this.linkMtu = options.mtu ?? DEFAULT_LINK_MTU;
    const headerBytes = linkHeaderLength(linkType);
    const base = mergeImpairments(defaultImpairments, { mtu: this.linkMtu });
    this.aToB = new ImpairedPath<LinkSide>({
      clock,
      random,
      from: 'a',
      listeners: this.listeners,
      linkHeaderBytes: headerBytes,
      options: mergeImpairments(base, directionPatch(options, 'aToB')),
    });
    this.bToA = new ImpairedPath<LinkSide>({
      clock,
      random,
      from: 'b',
      listeners: this.listeners,
      linkHeaderBytes: headerBytes,
      options: mergeImpairments(base, directionPatch(options, 'bToA')),
    });
    let macA: Uint8Array | null = null;
    let macB: Uint8Array | null = null;
    if (linkType === 'ethernet') {
      macA = options.macA !== undefined ? checkMac(options.macA) : randomMac(random);
      macB = options.macB !== undefined ? checkMac(options.macB) : randomMac(random);
    }
    this.a = new LinkEnd(options.nameA ?? 'a', linkType, macA, this, this.aToB, this.bToA);
    this.b = new LinkEnd(options.nameB ?? 'b', linkType, macB, this, this.bToA, this.aToB);
    this.stats = { aToB: this.aToB.stats, bToA: this.bToA.stats };
  }

  /** The mtu both ends advertise. */
  get mtu(): number {
    return this.linkMtu;
  }

  /** The current impairments of each direction (snapshots). */
  get options(): { aToB: Readonly<ImpairmentOptions>; bToA: Readonly<ImpairmentOptions> } {
    return { aToB: this.aToB.options, bToA: this.bToA.options };
  }

  /**
   * Change impairments while running, e.g. `set({ up: false })` to cut the
   * link and `set({ up: true })` to heal it, or `set({ aToB: { loss: 0.1 } })`.
   * Fields not given keep their values. Throws RangeError on a bad value
   * (and then changes nothing).
   */
  set(options: LinkImpairments): void {
    checkKeys(options);
    for (const key of ['linkType', 'nameA', 'nameB', 'macA', 'macB']) {
      if (key in options) throw new RangeError(`link option '${key}' cannot be changed after construction`);
    }
    const patchA = directionPatch(options, 'aToB');
    const patchB = directionPatch(options, 'bToA');
    // Validate both before changing either.
    mergeImpairments(this.aToB.options, patchA);
    mergeImpairments(this.bToA.options, patchB);
    if (options.mtu !== undefined) this.linkMtu = options.mtu;
    this.aToB.set(patchA);
    this.bToA.set(patchB);
  }

  /**
   * Report every frame's fate: once when it is sent (with its planned arrival)
   * and once per copy when it arrives. Returns a function that unsubscribes.
   * Costs nothing while there are no listeners.
   */
  onFrame(listener: LinkFrameListener): () => void {
    return addListener(this.listeners, listener);
  }

  /** Close both ends. */
  close(): void {
    this.a.close();
    this.b.close();
  }
}
