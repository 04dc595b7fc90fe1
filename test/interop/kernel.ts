// The kernel side of the interop tests and measurements: programs run inside
// a namespace (python3 mostly) whose stdout lines can be awaited, and test
// data. No ava here, so test/interop/throughput.ts can run as a plain script.

import { createHash } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import type { NetNamespace } from '../../devices/netns';

// ---------------------------------------------------------------- python3 in the namespace

/**
 * Prepended to every python program: die with the test process (so a killed
 * ava worker leaves nothing behind), and after 100 s in any case.
 */
const PY_PRELUDE = `
import ctypes, signal, os, sys, socket, hashlib, threading, time
try:
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
except Exception:
    pass
signal.alarm(100)
def out(*a):
    print(*a, flush=True)
`;

export interface PyProcess {
  child: ChildProcess;
  /** Resolves with the first stdout line matching, rejects if the program exits first or after timeoutMs. */
  line(match: RegExp | string, timeoutMs?: number): Promise<string>;
  /** Every stdout line so far. */
  lines: string[];
  /** Resolves when it exits: its code and everything it printed. */
  exited: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** Run a python3 program inside the namespace (the kernel is its network). */
export function python(ns: NetNamespace, source: string, args: string[] = []): PyProcess {
  return kernelProcess(ns, 'python3', ['-u', '-c', PY_PRELUDE + source, ...args]);
}

/** Run any program inside the namespace, with its stdout split into lines to wait for. Killed when the namespace is deleted. */
export function kernelProcess(ns: NetNamespace, cmd: string, args: string[]): PyProcess {
  const child = ns.spawn(cmd, args);
  const lines: string[] = [];
  let stdout = '';
  let stderr = '';
  let partial = '';
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => {
    stdout += d;
    partial += d;
    let i: number;
    while ((i = partial.indexOf('\n')) >= 0) {
      const l = partial.slice(0, i);
      partial = partial.slice(i + 1);
      lines.push(l);
      for (let k = waiters.length - 1; k >= 0; k--) {
        if (waiters[k].re.test(l)) {
          waiters[k].resolve(l);
          waiters.splice(k, 1);
        }
      }
    }
  });
  child.stderr!.on('data', (d: string) => {
    stderr += d;
  });
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return {
    child,
    lines,
    exited,
    line(match, timeoutMs = 20_000) {
      const re = typeof match === 'string' ? new RegExp(`^${match.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`) : match;
      const seen = lines.find((l) => re.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`python: no line matching ${re} within ${timeoutMs} ms; stdout: ${stdout} stderr: ${stderr}`)), timeoutMs);
        waiters.push({ re, resolve: (l) => { clearTimeout(timer); resolve(l); } });
        void exited.then(({ code }) => {
          clearTimeout(timer);
          reject(new Error(`python exited (${code}) before printing ${re}; stdout: ${stdout} stderr: ${stderr}`));
        });
      });
    },
  };
}

// ---------------------------------------------------------------- stack-level applications

/** Deterministic bytes (xorshift32), fast enough for tens of MiB. */
export function pattern(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  const words = new Uint32Array(out.buffer, 0, size >>> 2);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  for (let i = words.length * 4; i < size; i++) out[i] = i & 0xff;
  return out;
}

export function sha256(data: Uint8Array | Uint8Array[]): string {
  const h = createHash('sha256');
  if (Array.isArray(data)) for (const c of data) h.update(c);
  else h.update(data);
  return h.digest('hex');
}


/** Resolve after ms of real time (ref'd, so the process waits). */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
