// Loads tuntap.node (built by tools/build-native.mjs from tuntap.c beside
// this file) and describes what it offers. Only devices/tun.ts and
// devices/tap.ts use it.

import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Counters kept by the addon for one device. */
export interface NativeStats {
  rxFrames: number;
  rxBatches: number;
  rxBytes: number;
  /** read() failures other than EAGAIN. */
  rxErrors: number;
  txFrames: number;
  txBytes: number;
  /** Frames dropped because the device's queue was full (write() gave EAGAIN). */
  txEagain: number;
  /** Frames dropped for any other reason (EIO: interface down; EINVAL; not a Uint8Array). */
  txErrors: number;
  lastRxErrno: number;
  lastTxErrno: number;
}

/**
 * One open /dev/net/tun fd, bound to an interface. Frames come as one
 * ArrayBuffer per event-loop turn holding `count` frames back to back, whose
 * lengths are in `lengths[0..count)` (valid during the callback only).
 * `(null, -errno)` means the fd failed and polling stopped.
 */
export interface NativeTuntap {
  readonly name: string;
  readonly lengths: Uint32Array;
  readonly maxBatch: number;
  start(callback: (batch: ArrayBuffer | null, count: number) => void): void;
  stop(): void;
  /** Writes frames[0..count) one write() each; returns how many the kernel took. */
  write(frames: readonly Uint8Array[], count?: number): number;
  ref(): void;
  unref(): void;
  /** Polling and ref'd: keeps the event loop alive. */
  hasRef(): boolean;
  close(): void;
  stats(): NativeStats;
  /** The kernel side's MAC of a TAP interface. */
  kernelMac(): Uint8Array | null;
}

export interface TuntapAddon {
  Tuntap: new (kind: 'tun' | 'tap', name: string, netnsPath: string | null) => NativeTuntap;
  MAX_BATCH: number;
}

const ADDON_FILE = join('build', 'Release', 'tuntap.node');

/** This file's folder: the source tree (ESM via the ts loader) or a CommonJS bundle. */
function hereDir(): string | null {
  try {
    const url = import.meta.url;
    if (typeof url === 'string' && url.startsWith('file:')) return dirname(fileURLToPath(url));
  } catch {
    // not ESM
  }
  return typeof __dirname === 'string' ? __dirname : null;
}

/** Where tuntap.node may be: $TCPLAB_TUNTAP_ADDON, beside this file, or under the checkout (for dist/ bundles). */
export function addonCandidates(): string[] {
  const out: string[] = [];
  if (process.env.TCPLAB_TUNTAP_ADDON) out.push(resolve(process.env.TCPLAB_TUNTAP_ADDON));
  const here = hereDir();
  if (here !== null) {
    out.push(join(here, ADDON_FILE));
    out.push(join(here, '..', 'devices', 'native', ADDON_FILE));
  }
  out.push(join(process.cwd(), 'devices', 'native', ADDON_FILE));
  return out;
}

let cached: TuntapAddon | null = null;
let loadError: Error | null = null;

/** The addon, or throws an Error saying how to build it. */
export function loadTuntap(): TuntapAddon {
  if (cached !== null) return cached;
  if (loadError !== null) throw loadError;
  if (process.platform !== 'linux') {
    loadError = new Error(`TUN/TAP devices need Linux (this is ${process.platform})`);
    throw loadError;
  }
  const candidates = addonCandidates();
  const path = candidates.find((p) => existsSync(p));
  if (path === undefined) {
    loadError = new Error(`the TUN/TAP addon is not built (looked for ${candidates.join(', ')}); run: node tools/build-native.mjs`);
    throw loadError;
  }
  try {
    cached = createRequire(path)(path) as TuntapAddon;
  } catch (err) {
    loadError = new Error(`cannot load the TUN/TAP addon ${path}: ${(err as Error).message}; rebuild it: node tools/build-native.mjs --force`);
    throw loadError;
  }
  return cached;
}

/** A namespace name (looked up under /run/netns, where `ip netns add` puts it) or a path such as /proc/PID/ns/net. */
export function netnsPath(netns: string | undefined | null): string | null {
  if (netns === undefined || netns === null || netns === '') return null;
  if (netns.includes('/')) return netns;
  return `/run/netns/${netns}`;
}
