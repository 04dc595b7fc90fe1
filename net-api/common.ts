// What every part of net-api shares: validators with Node's messages, IP
// address helpers, the per-stack context (deferral, lookup, keep-alive), and
// the handle that keeps the process alive while a ref'd socket or server is open.

import { isIP as nodeIsIP } from 'node:net';
import type { Stack } from '../stack/stack';
import type { VirtualClock } from '../stack/time/virtual-clock';
import { RealClock } from './real-clock';
import { formatIpv4, parseIpv4Address } from '../stack/wire/ipv4';
import type { IpAddress } from '../stack/ip/address';
import {
  ERR_INVALID_ARG_TYPE, ERR_OUT_OF_RANGE, ERR_SOCKET_BAD_PORT, dnsException,
} from './errors';

// ---------------------------------------------------------------- validators

export function validateFunction(value: unknown, name: string): asserts value is Function {
  if (typeof value !== 'function') throw ERR_INVALID_ARG_TYPE(name, 'of type function', value);
}

export function validateNumber(value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number') throw ERR_INVALID_ARG_TYPE(name, 'of type number', value);
}

export function validateString(value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string') throw ERR_INVALID_ARG_TYPE(name, 'of type string', value);
}

export function validateObject(value: unknown, name: string): asserts value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw ERR_INVALID_ARG_TYPE(name, 'of type object', value);
}

export function validateBoolean(value: unknown, name: string): asserts value is boolean {
  if (typeof value !== 'boolean') throw ERR_INVALID_ARG_TYPE(name, 'of type boolean', value);
}

/** Node's validatePort: a number or numeric string in [0, 65536). */
export function validatePort(port: unknown, name = 'Port', allowZero = true): number {
  if ((typeof port !== 'number' && typeof port !== 'string') ||
    (typeof port === 'string' && port.trim().length === 0) ||
    +port !== (+port >>> 0) || +port > 0xffff || (+port === 0 && !allowZero)) {
    throw ERR_SOCKET_BAD_PORT(name, port, allowZero);
  }
  return +port | 0;
}

/** Node's getTimerDuration (socket.setTimeout). */
export function validateTimeout(msecs: unknown, name = 'msecs'): number {
  validateNumber(msecs, name);
  if (msecs < 0 || !Number.isFinite(msecs)) throw ERR_OUT_OF_RANGE(name, 'a non-negative finite number', msecs);
  return msecs;
}

// ---------------------------------------------------------------- addresses

export const isIP = (input: unknown): number => nodeIsIP(String(input));
export const isIPv4 = (input: unknown): boolean => isIP(input) === 4;
export const isIPv6 = (input: unknown): boolean => isIP(input) === 6;

/**
 * The IPv4 address (as a number) an address string names, or null. IPv4-mapped
 * IPv6 addresses (::ffff:a.b.c.d) count as their IPv4 address; '::' and
 * '0.0.0.0' are the wildcard 0.
 */
export function toIpv4(address: string): number | null {
  if (address === '::' || address === '0.0.0.0') return 0;
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const a = m !== null ? m[1] : address;
  if (!isIPv4(a)) return null;
  return parseIpv4Address(a);
}

export { formatIpv4 };

/** Node's address() shape for an address of either family. */
export function addressInfo(addr: IpAddress, port: number): AddressInfo {
  return { address: addr.toString(), family: addr.family === 4 ? 'IPv4' : 'IPv6', port };
}

export interface AddressInfo {
  address: string;
  family: string;
  port: number;
}

// ---------------------------------------------------------------- lookup

export type LookupCallback = (err: Error | null, address?: string | Array<{ address: string; family: number }>, family?: number) => void;
export type LookupFunction = (hostname: string, options: { family?: number; hints?: number; all?: boolean }, callback: LookupCallback) => void;

/**
 * The default lookup: no DNS. IP literals are themselves, `localhost` is
 * 127.0.0.1, everything else fails as getaddrinfo does for an unknown name.
 */
export const defaultLookup: LookupFunction = (hostname, options, callback) => {
  process.nextTick(() => {
    let address: string | null = null;
    if (isIPv4(hostname)) address = hostname;
    else if (hostname.toLowerCase() === 'localhost' || hostname.toLowerCase().endsWith('.localhost')) address = '127.0.0.1';
    if (address === null || options.family === 6) {
      callback(dnsException('ENOTFOUND', 'getaddrinfo', hostname));
      return;
    }
    if (options.all === true) callback(null, [{ address, family: 4 }]);
    else callback(null, address, 4);
  });
};

// ---------------------------------------------------------------- keep-alive

/**
 * One ref'd interval held while any ref'd, active server or socket exists:
 * the stack's own timers never keep the process alive (ARCHITECTURE.md, "Event loop").
 */
class LoopKeeper {
  private count = 0;
  private handle: ReturnType<typeof setInterval> | null = null;

  hold(): void {
    if (this.count++ === 0) this.handle = setInterval(() => {}, 1 << 30);
  }

  release(): void {
    if (this.count === 0) return;
    if (--this.count === 0 && this.handle !== null) {
      clearInterval(this.handle);
      this.handle = null;
    }
  }

  get holders(): number {
    return this.count;
  }
}

export const loopKeeper = new LoopKeeper();

/** A member of the keep-alive count: `set(true)` holds the loop, `set(false)` lets go. */
export class LoopRef {
  private held = false;
  /** Every LoopRef holding the loop now, with its owner (introspection: what keeps the process alive). */
  static readonly holding = new Set<LoopRef>();
  constructor(private readonly enabled: boolean, readonly owner?: object) {}

  set(want: boolean): void {
    want = want && this.enabled;
    if (want === this.held) return;
    this.held = want;
    if (want) {
      LoopRef.holding.add(this);
      loopKeeper.hold();
    } else {
      LoopRef.holding.delete(this);
      loopKeeper.release();
    }
  }

  get holding(): boolean {
    return this.held;
  }
}

// ---------------------------------------------------------------- context

/** What the Socket and Server classes of one `createNet(stack)` share. */
export class NetContext {
  /** On the wall clock, open sockets and servers keep the process alive; in a simulation nothing does. */
  readonly real: boolean;
  /** The Socket class bound to this context (set by createNet). */
  Socket!: new (options?: any) => any;

  constructor(readonly stack: Stack, readonly lookup: LookupFunction = defaultLookup) {
    this.real = stack.clock instanceof RealClock;
  }

  /**
   * Run `fn` on the next tick, as Node emits events: never from inside a user
   * call or the stack's dispatch. (Streams emit on process.nextTick too, so a
   * simulation interleaves its clock with the ticks: see runSettled.)
   */
  defer(fn: () => void): void {
    process.nextTick(fn);
  }

  /** Run `fn` after the ticks, as a handle's close callback runs (setImmediate). */
  later(fn: () => void): void {
    setImmediate(fn);
  }
}

/**
 * Drive a simulated stack (VirtualClock) together with the application on
 * it: fire one group of due timers, then let the ticks and immediates run
 * (where net-api and streams emit their events), and again, until nothing is
 * armed or `limitMs` of virtual time has passed. Virtual time only moves
 * between groups, so a run is deterministic.
 */
export async function runSettled(clock: VirtualClock, limitMs = 24 * 3600 * 1000): Promise<void> {
  const end = clock.now() + limitMs;
  const yieldTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
  let idleTurns = 0;
  for (;;) {
    await yieldTurn();
    const next = clock.nextDeadline();
    if (next === Infinity || next > end) {
      if (++idleTurns >= 3) break;
      continue;
    }
    idleTurns = 0;
    clock.step();
  }
}
