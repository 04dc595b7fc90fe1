// Trace events as JSON Lines: one TraceEvent per line, as JSON. Export to a
// file or stream (in batches, never one write per event) and import back.
//
// The round trip is exact: parseJsonl(toJsonl(events)) deep-equals `events`.
// JSON has no Infinity, NaN or -0, so those numbers are written as
// {"$n":"Infinity"} (or "-Infinity", "NaN", "-0") and read back as numbers;
// every other value is plain JSON. Optional fields whose value is undefined
// are left out, which is the same event under the TraceEvent type.

import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import type { Writable } from 'node:stream';
import type { TraceEvent, Tracer } from '../../stack/trace';

/**
 * Every TraceEvent type, in the order stack/trace.ts lists them. Each gets
 * its own diagnostics channel (tools/trace/channel.ts) and a schema below.
 * When a type is added to the TraceEvent union, add it here and to SCHEMAS.
 * Until then events of the new type still round-trip (checked for type, t
 * and stack only) and are published once they occur, but a subscriber of
 * only that type's channel does not by itself enable the tracer.
 */
export const TRACE_EVENT_TYPES: readonly TraceEventType[] = [
  'segment', 'state', 'drop', 'timer', 'rtt', 'retransmit', 'cwnd', 'probe', 'nagle', 'ack', 'window', 'arp', 'icmp', 'error',
];
export type TraceEventType = TraceEvent['type'];

// ---------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------

function isPlainNumber(v: number): boolean {
  return Number.isFinite(v) && !(v === 0 && 1 / v < 0);
}

function escapeNumber(v: number): { $n: string } {
  return { $n: v === 0 ? '-0' : String(v) };
}

/** True if some number in the event (top level or one array level down) has no JSON form. */
function needsEscape(ev: object): boolean {
  const rec = ev as Record<string, unknown>;
  for (const key in rec) {
    const v = rec[key];
    if (typeof v === 'number') {
      if (!isPlainNumber(v)) return true;
    } else if (typeof v === 'object' && v !== null) {
      if (needsEscapeDeep(v)) return true;
    }
  }
  return false;
}

function needsEscapeDeep(v: unknown): boolean {
  if (typeof v === 'number') return !isPlainNumber(v);
  if (typeof v !== 'object' || v === null) return false;
  if (Array.isArray(v)) {
    for (const x of v) if (needsEscapeDeep(x)) return true;
    return false;
  }
  for (const x of Object.values(v)) if (needsEscapeDeep(x)) return true;
  return false;
}

function replacer(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !isPlainNumber(value) ? escapeNumber(value) : value;
}

const SPECIAL_NUMBERS: Record<string, number> = { Infinity: Infinity, '-Infinity': -Infinity, NaN: NaN, '-0': -0 };

function reviver(_key: string, value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === '$n') {
      const s = (value as { $n: unknown }).$n;
      if (typeof s === 'string' && Object.prototype.hasOwnProperty.call(SPECIAL_NUMBERS, s)) return SPECIAL_NUMBERS[s];
    }
  }
  return value;
}

/** One event as one line of JSON (without the newline). */
export function encodeEvent(ev: TraceEvent): string {
  return needsEscape(ev) ? JSON.stringify(ev, replacer) : JSON.stringify(ev);
}

/** Events as JSON Lines text: one line per event, each ending in "\n". */
export function toJsonl(events: Iterable<TraceEvent>): string {
  let out = '';
  for (const ev of events) out += encodeEvent(ev) + '\n';
  return out;
}

// ---------------------------------------------------------------------------
// Decoding and validation
// ---------------------------------------------------------------------------

type FieldKind = 'number' | 'string' | 'string|null' | 'boolean' | 'sack' | readonly string[];
interface FieldSpec {
  kind: FieldKind;
  optional: boolean;
}
type Schema = Record<string, FieldSpec>;

function schema(fields: Record<string, FieldKind>): Schema {
  const out: Schema = {};
  for (const [name, kind] of Object.entries(fields)) {
    const optional = name.endsWith('?');
    out[optional ? name.slice(0, -1) : name] = { kind, optional };
  }
  return out;
}

const DIR = ['in', 'out'] as const;
/** Fields of each event type beyond type, t and stack. A type without an entry is checked for those three only. */
const SCHEMAS: { readonly [type: string]: Schema | undefined } = {
  segment: schema({
    dir: DIR, 'conn?': 'string', src: 'string', dst: 'string', srcPort: 'number', dstPort: 'number', flags: 'number',
    seq: 'number', ack: 'number', window: 'number', len: 'number', 'mss?': 'number', 'windowScale?': 'number',
    'sackPermitted?': 'boolean', 'tsVal?': 'number', 'tsEcr?': 'number', 'sack?': 'sack',
  }),
  state: schema({ conn: 'string', from: 'string', to: 'string', cause: 'string' }),
  drop: schema({ layer: ['ip', 'icmp', 'tcp', 'link'], reason: 'string', 'conn?': 'string' }),
  timer: schema({ conn: 'string', timer: 'string', action: ['set', 'fired', 'cancelled'], 'at?': 'number' }),
  rtt: schema({ conn: 'string', sample: 'number', srtt: 'number', rttvar: 'number', rto: 'number' }),
  retransmit: schema({ conn: 'string', seq: 'number', len: 'number', count: 'number', reason: 'string' }),
  cwnd: schema({ conn: 'string', cwnd: 'number', ssthresh: 'number', flight: 'number', cause: 'string' }),
  probe: schema({ conn: 'string', kind: ['keepalive', 'zero-window'], n: 'number', of: 'number' }),
  nagle: schema({ conn: 'string', held: 'number', outstanding: 'number' }),
  ack: schema({ conn: 'string', action: ['delayed', 'quick', 'immediate'], reason: 'string', 'delayMs?': 'number' }),
  window: schema({ conn: 'string', side: ['send', 'receive'], window: 'number', reason: 'string' }),
  arp: schema({ iface: 'string', what: 'string', ip: 'string', mac: 'string|null' }),
  icmp: schema({ dir: DIR, icmpType: 'number', code: 'number', src: 'string', dst: 'string' }),
  error: schema({ conn: 'string', code: 'string' }),
};

function kindMatches(kind: FieldKind, v: unknown): boolean {
  if (typeof kind !== 'string') return typeof v === 'string' && kind.includes(v);
  if (kind === 'string|null') return v === null || typeof v === 'string';
  if (kind === 'sack') {
    return Array.isArray(v) && v.every((b) => Array.isArray(b) && b.length === 2 && typeof b[0] === 'number' && typeof b[1] === 'number');
  }
  return typeof v === kind;
}

function describeKind(kind: FieldKind): string {
  if (typeof kind !== 'string') return kind.map((k) => `'${k}'`).join(' | ');
  if (kind === 'string|null') return 'a string or null';
  return kind === 'sack' ? 'an array of [number, number]' : `a ${kind}`;
}

/**
 * Check that `value` is a TraceEvent; returns null or what is wrong. Fields
 * the type does not name are allowed, and so are types this version does
 * not know (checked for type, t and stack only), so newer traces still load.
 */
export function validateEvent(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const rec = value as Record<string, unknown>;
  const type = rec.type;
  if (typeof type !== 'string') return "missing 'type'";
  if (type === '') return "empty 'type'";
  if (typeof rec.t !== 'number') return "'t' must be a number";
  if (typeof rec.stack !== 'string') return "'stack' must be a string";
  const spec = Object.prototype.hasOwnProperty.call(SCHEMAS, type) ? SCHEMAS[type] : undefined;
  if (spec === undefined) return null;
  for (const name in spec) {
    const { kind, optional } = spec[name]!;
    const v = rec[name];
    if (v === undefined) {
      if (optional) continue;
      return `${type} event without '${name}'`;
    }
    if (!kindMatches(kind, v)) return `${type} event: '${name}' must be ${describeKind(kind)}`;
  }
  return null;
}

/** Parse one line of JSON into a TraceEvent; throws SyntaxError if it is not one. */
export function decodeEvent(line: string): TraceEvent {
  let value: unknown;
  try {
    value = JSON.parse(line, line.includes('"$n"') ? reviver : undefined);
  } catch (err) {
    throw new SyntaxError(`bad JSON: ${(err as Error).message}`);
  }
  const problem = validateEvent(value);
  if (problem !== null) throw new SyntaxError(problem);
  return value as TraceEvent;
}

/** Parse JSON Lines text. Blank lines are skipped; "\r\n" endings are accepted. Throws SyntaxError naming the line of the first bad event. */
export function parseJsonl(text: string): TraceEvent[] {
  const events: TraceEvent[] = [];
  let start = 0;
  let lineNo = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    lineNo++;
    let line = text.slice(start, end);
    start = end + 1;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') continue;
    try {
      events.push(decodeEvent(line));
    } catch (err) {
      throw new SyntaxError(`trace JSONL line ${lineNo}: ${(err as Error).message}`);
    }
  }
  return events;
}

/** Read a JSON Lines trace file. */
export function readJsonl(path: string): TraceEvent[] {
  return parseJsonl(readFileSync(path, 'utf8'));
}

// ---------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------

export interface JsonlWriterOptions {
  /** Characters to gather before writing (default 64 Ki). */
  batchChars?: number;
  /** Real ms after which a pending batch is written even if not full (default 1000; 0 = only when full, on flush() and close()). */
  flushIntervalMs?: number;
  /** For a stream: end it on close() (default true, except for process.stdout and process.stderr). */
  end?: boolean;
  /** For a path: append instead of truncating (default false). */
  append?: boolean;
}

const DEFAULT_BATCH_CHARS = 64 * 1024;
const DEFAULT_FLUSH_INTERVAL_MS = 1000;

/**
 * Writes trace events as JSON Lines to a file path or a writable stream, in
 * batches. `attach(tracer)` subscribes to a stack's tracer (several may be
 * attached); `close()` detaches them all and finishes the output.
 */
export class JsonlWriter {
  /** Events written (or pending). */
  events = 0;
  private fd: number | null = null;
  private readonly stream: Writable | null = null;
  private readonly endStream: boolean;
  private parts: string[] = [];
  private pendingChars = 0;
  private readonly batchChars: number;
  private readonly flushIntervalMs: number;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly detachers = new Set<() => void>();
  private closed = false;
  private closing: Promise<void> | null = null;
  private failure: Error | null = null;
  private readonly timedFlush = (): void => {
    this.timer = null;
    this.flush();
  };

  constructor(target: string | Writable, options: JsonlWriterOptions = {}) {
    this.batchChars = options.batchChars ?? DEFAULT_BATCH_CHARS;
    if (!(this.batchChars >= 1)) throw new RangeError(`batchChars must be >= 1, got ${this.batchChars}`);
    this.flushIntervalMs = options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
    if (!(this.flushIntervalMs >= 0)) throw new RangeError(`flushIntervalMs must be >= 0, got ${this.flushIntervalMs}`);
    if (typeof target === 'string') {
      this.fd = openSync(target, options.append === true ? 'a' : 'w');
      this.endStream = false;
    } else {
      this.stream = target;
      this.endStream = options.end ?? !(target === process.stdout || target === process.stderr);
      target.on('error', (err: Error) => {
        if (this.failure === null) this.failure = err;
      });
    }
  }

  /** The first write error, if any; events after it are dropped. */
  get error(): Error | null {
    return this.failure;
  }

  /** Write every event of `tracer` until the returned function is called (or close()). */
  attach(tracer: Tracer): () => void {
    if (this.closed) throw new Error('JsonlWriter is closed');
    const off = tracer.on((ev) => this.write(ev));
    const detach = (): void => {
      if (this.detachers.delete(detach)) off();
    };
    this.detachers.add(detach);
    return detach;
  }

  /** Add one event to the current batch. */
  write(ev: TraceEvent): void {
    if (this.closed || this.failure !== null) return;
    const line = encodeEvent(ev) + '\n';
    this.parts.push(line);
    this.pendingChars += line.length;
    this.events++;
    if (this.pendingChars >= this.batchChars) this.flush();
    else if (this.timer === null && this.flushIntervalMs > 0) {
      this.timer = setTimeout(this.timedFlush, this.flushIntervalMs);
      this.timer.unref();
    }
  }

  /** Write the current batch now. Never throws: a write error is kept in `error`. */
  flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.parts.length === 0) return;
    const text = this.parts.join('');
    this.parts = [];
    this.pendingChars = 0;
    if (this.failure !== null) return;
    try {
      if (this.fd !== null) {
        const data = Buffer.from(text, 'utf8');
        let off = 0;
        while (off < data.length) off += writeSync(this.fd, data, off, data.length - off);
      } else if (this.stream !== null) {
        this.stream.write(text);
      }
    } catch (err) {
      this.failure = err instanceof Error ? err : new Error(String(err));
    }
  }

  /** Detach from every tracer, write what is pending and finish the file or stream. Rejects with the first write error. */
  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    for (const detach of [...this.detachers]) detach();
    this.flush();
    this.closed = true;
    this.closing = this.finish();
    return this.closing;
  }

  private async finish(): Promise<void> {
    if (this.fd !== null) {
      const fd = this.fd;
      this.fd = null;
      try {
        closeSync(fd);
      } catch (err) {
        if (this.failure === null) this.failure = err instanceof Error ? err : new Error(String(err));
      }
    } else if (this.stream !== null) {
      const stream = this.stream;
      await new Promise<void>((resolve) => {
        const done = (err?: Error | null): void => {
          if (err && this.failure === null) this.failure = err;
          resolve();
        };
        if (this.endStream) {
          if (stream.writableFinished) resolve();
          else {
            stream.once('error', done);
            stream.end(() => done());
          }
        } else if (stream.writableNeedDrain) {
          stream.once('error', done);
          stream.once('drain', () => done());
        } else resolve();
      });
    }
    if (this.failure !== null) throw this.failure;
  }
}
