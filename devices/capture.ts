// Packet capture: a Device that wraps another Device and records every frame
// crossing it, in both directions, as a pcap or pcapng file that tcpdump and
// Wireshark read. Timestamps come from the injected clock, so a simulation's
// capture shows its virtual times (clock time 0 = 1970-01-01T00:00:00Z, or
// `epochMs` later). Capture starts and stops while frames flow; while stopped
// (and before the first start) the device adds one boolean test per batch.
//
// Records are encoded into a preallocated batch buffer as frames pass, and
// handed to the sink when the buffer is full, on flush() and stop(), and (for
// sinks that are not in memory) at most `flushIntervalMs` of real time after
// the first record of a batch, so a file sink costs one write per batch, not
// one per packet.
//
// Formats: pcap (tcpdump's classic format, microsecond timestamps) and
// pcapng (one section, one interface named after the device, nanosecond
// timestamps via if_tsresol = 9, and the direction of each packet in
// epb_flags). Both are written little-endian, as readers accept either order.

import { closeSync, openSync, writeSync } from 'node:fs';
import type { Clock } from '../stack/time/clock';
import type { Device, FrameReceiver, LinkType } from '../stack/device';
import { copyBytes } from '../stack/buffers';
import { WrapperDevice } from './wrapper';

export type CaptureFormat = 'pcap' | 'pcapng';
export type CaptureDirection = 'in' | 'out';

/** LINKTYPE_ETHERNET: Ethernet II frames. */
export const LINKTYPE_ETHERNET = 1;
/** LINKTYPE_RAW: each packet is a bare IPv4 (or IPv6) packet. */
export const LINKTYPE_RAW = 101;
/** tcpdump's default snapshot length. */
export const DEFAULT_SNAPLEN = 262144;
/** The largest snaplen accepted: libpcap's maximum. */
export const MAX_SNAPLEN = 262144;
const DEFAULT_BATCH_BYTES = 64 * 1024;
const DEFAULT_FLUSH_INTERVAL_MS = 1000;

/** The pcap/pcapng link-layer header type for a device's link type. */
export function linkTypeNumber(linkType: LinkType): number {
  return linkType === 'ethernet' ? LINKTYPE_ETHERNET : LINKTYPE_RAW;
}

/** Where capture bytes go. `write` must consume or copy `data` before it returns: the array is reused. */
export interface CaptureSink {
  write(data: Uint8Array): void;
  /** Called once when the capture stops. */
  close?(): void;
}

/** Collects a capture in memory; `bytes()` is the file so far. */
export class MemorySink implements CaptureSink {
  private chunks: Uint8Array[] = [];
  private total = 0;

  write(data: Uint8Array): void {
    if (data.length === 0) return;
    this.chunks.push(copyBytes(data)); // data is reused after the call; a Buffer's slice() would be a view of it
    this.total += data.length;
  }

  /** Bytes received so far. */
  get length(): number {
    return this.total;
  }

  /** Everything written so far, as one array (a copy the caller may keep). */
  bytes(): Uint8Array {
    if (this.chunks.length > 1) {
      const all = new Uint8Array(this.total);
      let off = 0;
      for (const c of this.chunks) {
        all.set(c, off);
        off += c.length;
      }
      this.chunks = [all];
    }
    return this.chunks.length === 0 ? new Uint8Array(0) : copyBytes(this.chunks[0]!);
  }
}

export interface FileSinkOptions {
  /** Append to an existing file instead of truncating it (default false). A pcap file must hold one header; pcapng files may hold several sections. */
  append?: boolean;
}

/** Writes a capture to a file with synchronous writes, one per batch. */
export class FileSink implements CaptureSink {
  private fd: number | null;

  constructor(
    readonly path: string,
    options: FileSinkOptions = {},
  ) {
    this.fd = openSync(path, options.append === true ? 'a' : 'w');
  }

  write(data: Uint8Array): void {
    if (this.fd === null) throw new Error(`capture file ${this.path} is closed`);
    let off = 0;
    while (off < data.length) off += writeSync(this.fd, data, off, data.length - off);
  }

  close(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    closeSync(fd);
  }
}

export interface CaptureWriterOptions {
  format?: CaptureFormat;
  /** Bytes kept of each frame (default 262144); longer frames are truncated, their original length recorded. */
  snaplen?: number;
  linkType: LinkType;
  /** The interface name written into pcapng (if_name). */
  interfaceName?: string;
  /** Unix time in ms that clock time 0 stands for (default 0: the epoch). */
  epochMs?: number;
  /** Real milliseconds after which a pending batch is written even if not full (default 1000; 0 = only when full, on flush() and on close()). */
  flushIntervalMs?: number;
  /** Size of the batch buffer in bytes (default 64 KiB). */
  batchBytes?: number;
}

function checkSnaplen(snaplen: number): number {
  if (!Number.isInteger(snaplen) || snaplen < 1 || snaplen > MAX_SNAPLEN) {
    throw new RangeError(`snaplen must be an integer in 1..${MAX_SNAPLEN}, got ${snaplen}`);
  }
  return snaplen;
}

const TWO32 = 4294967296;
const textEncoder = new TextEncoder();

/**
 * Encodes packets as one pcap or pcapng file into a sink, in batches. Writes
 * the file header on construction. Not tied to a device: anything with
 * frames and times can use it.
 */
export class CaptureWriter {
  readonly format: CaptureFormat;
  readonly snaplen: number;
  readonly linkType: LinkType;
  /** Packets recorded. */
  packets = 0;
  /** The first error the sink threw; recording stops at it. */
  error: Error | null = null;

  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;
  private closed = false;
  private readonly epochSec: number;
  private readonly epochNs: number;
  private readonly flushIntervalMs: number;
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly timedFlush = (): void => {
    this.flushTimer = null;
    this.flush();
  };
  // The last split timestamp (no allocation per packet).
  private tsSec = 0;
  private tsNs = 0;

  constructor(
    readonly sink: CaptureSink,
    options: CaptureWriterOptions,
  ) {
    this.format = options.format ?? 'pcap';
    if (this.format !== 'pcap' && this.format !== 'pcapng') throw new RangeError(`unknown capture format '${String(this.format)}'`);
    this.snaplen = checkSnaplen(options.snaplen ?? DEFAULT_SNAPLEN);
    this.linkType = options.linkType;
    const epochMs = options.epochMs ?? 0;
    if (!(epochMs >= 0) || !Number.isFinite(epochMs)) throw new RangeError(`epochMs must be finite and >= 0, got ${epochMs}`);
    this.splitTime(epochMs);
    this.epochSec = this.tsSec;
    this.epochNs = this.tsNs;
    this.flushIntervalMs = options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
    if (!(this.flushIntervalMs >= 0)) throw new RangeError(`flushIntervalMs must be >= 0, got ${this.flushIntervalMs}`);
    const batch = options.batchBytes ?? DEFAULT_BATCH_BYTES;
    if (!Number.isInteger(batch) || batch < 256) throw new RangeError(`batchBytes must be an integer >= 256, got ${batch}`);
    this.buf = new Uint8Array(batch);
    this.view = new DataView(this.buf.buffer);
    if (this.format === 'pcap') this.writePcapHeader();
    else this.writePcapngHeader(options.interfaceName ?? '');
  }

  /** Bytes encoded but not yet handed to the sink. */
  get pending(): number {
    return this.pos;
  }

  /** Record one frame seen at clock time `timeMs` (ms since clock time 0). */
  packet(frame: Uint8Array, timeMs: number, dir: CaptureDirection): void {
    if (this.closed || this.error !== null) return;
    const orig = frame.length;
    const incl = orig < this.snaplen ? orig : this.snaplen;
    this.splitTime(timeMs);
    let sec = this.tsSec + this.epochSec;
    let ns = this.tsNs + this.epochNs;
    if (ns >= 1e9) {
      ns -= 1e9;
      sec += 1;
    }
    if (this.format === 'pcap') {
      let us = Math.round(ns / 1000);
      if (us >= 1e6) {
        us -= 1e6;
        sec += 1;
      }
      this.reserve(16 + incl);
      const v = this.view;
      const p = this.pos;
      v.setUint32(p, sec >>> 0, true);
      v.setUint32(p + 4, us, true);
      v.setUint32(p + 8, incl, true);
      v.setUint32(p + 12, orig, true);
      this.buf.set(incl === orig ? frame : frame.subarray(0, incl), p + 16);
      this.pos = p + 16 + incl;
    } else {
      const padded = (incl + 3) & ~3;
      const total = 28 + padded + 12 + 4;
      this.reserve(total);
      const v = this.view;
      const b = this.buf;
      let p = this.pos;
      // Nanoseconds since the epoch as a 64-bit number: sec * 1e9 + ns, kept
      // exact in doubles by splitting sec into 16-bit halves.
      const secHi = Math.floor(sec / 65536);
      const secLo = sec - secHi * 65536;
      const mid = secHi * 1e9; // < 2^46
      const midHi = Math.floor(mid / 65536);
      let low = (mid - midHi * 65536) * 65536 + secLo * 1e9 + ns; // < 2^53
      const carry = Math.floor(low / TWO32);
      low -= carry * TWO32;
      const high = midHi + carry;
      v.setUint32(p, 6, true); // Enhanced Packet Block
      v.setUint32(p + 4, total, true);
      v.setUint32(p + 8, 0, true); // interface id
      v.setUint32(p + 12, high, true);
      v.setUint32(p + 16, low, true);
      v.setUint32(p + 20, incl, true);
      v.setUint32(p + 24, orig, true);
      p += 28;
      b.set(incl === orig ? frame : frame.subarray(0, incl), p);
      for (let i = p + incl; i < p + padded; i++) b[i] = 0;
      p += padded;
      v.setUint16(p, 2, true); // epb_flags
      v.setUint16(p + 2, 4, true);
      v.setUint32(p + 4, dir === 'in' ? 1 : 2, true); // bits 0-1: 01 inbound, 10 outbound
      v.setUint32(p + 8, 0, true); // opt_endofopt
      v.setUint32(p + 12, total, true);
      this.pos = p + 16;
    }
    this.packets++;
    if (this.flushIntervalMs > 0 && this.flushTimer === null && this.pos !== 0) {
      this.flushTimer = setTimeout(this.timedFlush, this.flushIntervalMs);
      this.flushTimer.unref();
    }
  }

  /** Hand everything encoded so far to the sink. Never throws: a sink error is kept in `error`. */
  flush(): void {
    if (this.flushTimer !== null) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    if (this.pos === 0 || this.error !== null) return;
    const n = this.pos;
    this.pos = 0;
    try {
      this.sink.write(this.buf.subarray(0, n));
    } catch (err) {
      this.error = err instanceof Error ? err : new Error(String(err));
    }
  }

  /** Flush and close the sink. Later packets are ignored. Never throws: see `error`. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    try {
      this.sink.close?.();
    } catch (err) {
      if (this.error === null) this.error = err instanceof Error ? err : new Error(String(err));
    }
  }

  /** Split a clock time into whole seconds and nanoseconds (into tsSec, tsNs). */
  private splitTime(ms: number): void {
    const t = ms > 0 ? ms : 0;
    let sec = Math.floor(t / 1000);
    let ns = Math.round((t - sec * 1000) * 1e6);
    if (ns >= 1e9) {
      ns -= 1e9;
      sec += 1;
    }
    this.tsSec = sec;
    this.tsNs = ns;
  }

  /** Make room for n more bytes in the batch buffer. */
  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    if (n > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < n) size *= 2;
      this.buf = new Uint8Array(size);
      this.view = new DataView(this.buf.buffer);
    }
  }

  private writePcapHeader(): void {
    const v = this.view;
    v.setUint32(0, 0xa1b2c3d4, true); // microsecond timestamps
    v.setUint16(4, 2, true);
    v.setUint16(6, 4, true);
    v.setInt32(8, 0, true); // thiszone
    v.setUint32(12, 0, true); // sigfigs
    v.setUint32(16, this.snaplen, true);
    v.setUint32(20, linkTypeNumber(this.linkType), true);
    this.pos = 24;
  }

  private writePcapngHeader(interfaceName: string): void {
    // Section Header Block.
    const app = textEncoder.encode('tcplab');
    const shbLen = 24 + optionLength(app.length) + 4 + 4;
    this.reserve(shbLen);
    let p = this.pos;
    const v = this.view;
    v.setUint32(p, 0x0a0d0d0a, true);
    v.setUint32(p + 4, shbLen, true);
    v.setUint32(p + 8, 0x1a2b3c4d, true); // byte-order magic
    v.setUint16(p + 12, 1, true);
    v.setUint16(p + 14, 0, true);
    v.setUint32(p + 16, 0xffffffff, true); // section length: unknown (-1)
    v.setUint32(p + 20, 0xffffffff, true);
    p = this.option(p + 24, 4, app); // shb_userappl
    v.setUint32(p, 0, true);
    v.setUint32(p + 4, shbLen, true);
    this.pos = p + 8;
    // Interface Description Block.
    const name = textEncoder.encode(interfaceName).subarray(0, 0xfffc); // an option value's length is 16 bits
    const tsresol = Uint8Array.of(9); // 10^-9 s
    const idbLen = 16 + (name.length > 0 ? optionLength(name.length) : 0) + optionLength(1) + 4 + 4;
    this.reserve(idbLen);
    p = this.pos;
    const w = this.view;
    w.setUint32(p, 1, true);
    w.setUint32(p + 4, idbLen, true);
    w.setUint16(p + 8, linkTypeNumber(this.linkType), true);
    w.setUint16(p + 10, 0, true);
    w.setUint32(p + 12, this.snaplen, true);
    p += 16;
    if (name.length > 0) p = this.option(p, 2, name); // if_name
    p = this.option(p, 9, tsresol); // if_tsresol
    w.setUint32(p, 0, true);
    w.setUint32(p + 4, idbLen, true);
    this.pos = p + 8;
  }

  /** Write one pcapng option at p; returns the offset after it. */
  private option(p: number, code: number, value: Uint8Array): number {
    this.view.setUint16(p, code, true);
    this.view.setUint16(p + 2, value.length, true);
    this.buf.set(value, p + 4);
    const end = p + optionLength(value.length);
    for (let i = p + 4 + value.length; i < end; i++) this.buf[i] = 0;
    return end;
  }
}

function optionLength(valueLength: number): number {
  return 4 + ((valueLength + 3) & ~3);
}

export interface CaptureOptions {
  /** Default 'pcap'. */
  format?: CaptureFormat;
  /** Bytes kept of each frame (default 262144). */
  snaplen?: number;
  /** Unix time in ms that clock time 0 stands for (default 0, the epoch). */
  epochMs?: number;
  /** For sinks other than memory: real ms after which a pending batch is written (default 1000; 0 = only when full, on flush() and on stop()). */
  flushIntervalMs?: number;
  /** Batch buffer size in bytes (default 64 KiB). */
  batchBytes?: number;
}

/**
 * A Device that records every frame it sends and receives. Use it in place
 * of the device it wraps: `stack.addInterface(new CaptureDevice(link.a,
 * clock), {...})`, then `start()` / `stop()` at any time.
 */
export class CaptureDevice extends WrapperDevice {
  readonly format: CaptureFormat;
  readonly snaplen: number;
  private readonly options: CaptureOptions;
  private receiver: FrameReceiver | null = null;
  private writer: CaptureWriter | null = null;
  /** The writer of the current or last capture (for bytes(), packets and error after stop). */
  private last: CaptureWriter | null = null;
  private closed = false;

  constructor(
    inner: Device,
    private readonly clock: Clock,
    options: CaptureOptions = {},
  ) {
    super(inner);
    this.options = { ...options };
    this.format = options.format ?? 'pcap';
    if (this.format !== 'pcap' && this.format !== 'pcapng') throw new RangeError(`unknown capture format '${String(this.format)}'`);
    this.snaplen = checkSnaplen(options.snaplen ?? DEFAULT_SNAPLEN);
    inner.attach((frames) => this.receive(frames));
  }


  /** True between start() and stop(). */
  get capturing(): boolean {
    return this.writer !== null;
  }

  /** Packets recorded by the current (or last) capture. */
  get packets(): number {
    return this.last?.packets ?? 0;
  }

  /** The error that ended writing of the current (or last) capture, if any. */
  get error(): Error | null {
    return this.last?.error ?? null;
  }

  /**
   * Start a new capture file: in memory (no argument; read it with bytes()),
   * at a file path (created or truncated), or into any CaptureSink. Throws if
   * a capture is running or the device is closed, or if the file cannot be
   * opened.
   */
  start(sink?: string | CaptureSink): void {
    if (this.closed) throw new Error(`capture on ${this.name}: device is closed`);
    if (this.writer !== null) throw new Error(`capture on ${this.name} is already running`);
    const target = sink === undefined ? new MemorySink() : typeof sink === 'string' ? new FileSink(sink) : sink;
    const o = this.options;
    const writer = new CaptureWriter(target, {
      format: this.format,
      snaplen: this.snaplen,
      linkType: this.inner.linkType,
      interfaceName: this.inner.name,
      epochMs: o.epochMs,
      flushIntervalMs: target instanceof MemorySink ? 0 : o.flushIntervalMs,
      batchBytes: o.batchBytes,
    });
    this.writer = writer;
    this.last = writer;
  }

  /**
   * Stop capturing: write what is pending and close the sink (a file is
   * complete when stop returns). Throws the sink's error if writing failed.
   * Does nothing when no capture runs.
   */
  stop(): void {
    const w = this.writer;
    if (w === null) return;
    this.writer = null;
    w.close();
    if (w.error !== null) throw w.error;
  }

  /** Hand pending records to the sink now. */
  flush(): void {
    this.writer?.flush();
  }

  /**
   * The in-memory capture file of the current or last capture (everything so
   * far while running). Empty if no capture was started; throws if the
   * capture went to a file or a custom sink.
   */
  bytes(): Uint8Array {
    const w = this.last;
    if (w === null) return new Uint8Array(0);
    if (!(w.sink instanceof MemorySink)) throw new Error(`capture on ${this.name} was not written to memory`);
    w.flush();
    return w.sink.bytes();
  }

  attach(receiver: FrameReceiver): void {
    if (!this.closed) this.receiver = receiver;
  }

  send(frames: readonly Uint8Array[]): void {
    const w = this.writer;
    if (w !== null && !this.closed) {
      const t = this.clock.now();
      for (let i = 0; i < frames.length; i++) w.packet(frames[i]!, t, 'out');
    }
    this.inner.send(frames);
  }

  /** Stop any capture (errors stay in `error`), then close the inner device. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.receiver = null;
    const w = this.writer;
    this.writer = null;
    w?.close();
    this.inner.close();
  }

  private receive(frames: readonly Uint8Array[]): void {
    const w = this.writer;
    if (w !== null) {
      const t = this.clock.now();
      for (let i = 0; i < frames.length; i++) w.packet(frames[i]!, t, 'in');
    }
    const r = this.receiver;
    if (r !== null) r(frames);
  }
}
