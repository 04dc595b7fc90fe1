// The lab: hosts (Stacks) on one shared VirtualClock, joined by in-memory
// links with impairments, every frame that crosses a link recorded with its
// time. The same seed and the same script give the same frames at the same
// virtual times, run after run.

import { VirtualClock } from '../../stack/time/virtual-clock';
import { SeededRandom } from '../../stack/random';
import { Stack } from '../../stack/stack';
import type { StackConfigInput } from '../../stack/config';
import { Link, type LinkOptions, type LinkFrameEvent } from '../../devices/link';
import type { Device } from '../../stack/device';

export interface LabOptions {
  /** Seed for every random choice in the lab (ISNs, ports, impairments). */
  seed?: number | string;
  /** Keep a record of every frame crossing every link (default true). */
  record?: boolean;
}

export interface HostOptions {
  config?: StackConfigInput;
}

export interface LabLinkOptions extends LinkOptions {
  /** Address of the first host on this link, e.g. "10.0.0.1/24". */
  addressA: string;
  addressB: string;
  /** Put a device between each host and its end of the link (a filter, a capture). */
  wrapA?: (end: Device) => Device;
  wrapB?: (end: Device) => Device;
}

/** One frame crossing a link: sent (with its planned arrival) or arrived. */
export interface FrameRecord {
  link: string;
  stage: 'send' | 'arrive';
  time: number;
  /** Name of the host that sent it. */
  from: string;
  to: string;
  fate: LinkFrameEvent['fate'];
  deliverAt: number | null;
  bytes: Uint8Array;
}

export class Lab {
  readonly clock = new VirtualClock();
  readonly seed: number | string;
  readonly hosts = new Map<string, Stack>();
  readonly links = new Map<string, Link>();
  readonly frames: FrameRecord[] = [];
  private readonly record: boolean;

  constructor(opts: LabOptions = {}) {
    this.seed = opts.seed ?? 1;
    this.record = opts.record ?? true;
  }

  /** A host with its own seeded random source (derived from the lab's seed and its name). */
  host(name: string, opts: HostOptions = {}): Stack {
    if (this.hosts.has(name)) throw new Error(`host ${name} exists`);
    const stack = new Stack({ name, clock: this.clock, random: new SeededRandom(`${this.seed}/host/${name}`), config: opts.config });
    this.hosts.set(name, stack);
    return stack;
  }

  /** Join two hosts with a link; each gets an interface with the given address. */
  link(a: Stack, b: Stack, opts: LabLinkOptions): Link {
    const { addressA, addressB, wrapA, wrapB, ...linkOpts } = opts;
    const name = `${a.name}-${b.name}`;
    const link = new Link(this.clock, new SeededRandom(`${this.seed}/link/${name}/${this.links.size}`), {
      nameA: `${a.name}:${b.name}`, nameB: `${b.name}:${a.name}`, ...linkOpts,
    });
    this.links.set(name, link);
    a.addInterface(wrapA === undefined ? link.a : wrapA(link.a), { address: addressA, name: `to-${b.name}` });
    b.addInterface(wrapB === undefined ? link.b : wrapB(link.b), { address: addressB, name: `to-${a.name}` });
    if (this.record) {
      link.onFrame((ev) => {
        this.frames.push({
          link: name, stage: ev.stage, time: ev.time,
          from: ev.from === 'a' ? a.name : b.name, to: ev.from === 'a' ? b.name : a.name,
          fate: ev.fate, deliverAt: ev.deliverAt, bytes: ev.frame,
        });
      });
    }
    return link;
  }

  now(): number {
    return this.clock.now();
  }

  /** Run until nothing is scheduled (or `limitMs` of virtual time has passed). Returns true if idle. */
  runUntilIdle(limitMs = 24 * 3600 * 1000): boolean {
    return this.clock.runUntilIdle({ limit: limitMs });
  }

  /** Run until virtual time `t`. */
  runUntil(t: number): void {
    this.clock.runUntil(t);
  }

  /** Run for `ms` of virtual time. */
  run(ms: number): void {
    this.clock.advance(ms);
  }

  /** Run until `done()` holds (checked after each group of timers), or fail after `limitMs` of virtual time. */
  runWhile(notDone: () => boolean, limitMs = 24 * 3600 * 1000): boolean {
    const end = this.clock.now() + limitMs;
    while (notDone()) {
      if (this.clock.nextDeadline() > end) return false;
      if (!this.clock.step()) return false;
    }
    return true;
  }
}
