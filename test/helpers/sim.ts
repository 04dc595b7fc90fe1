// Shared helpers for simulation tests: a two-host lab, frame decoding, and
// small applications (sink, bulk sender) on the stack-level TCP API.

import { createHash } from 'node:crypto';
import { Lab, type FrameRecord, type LabLinkOptions } from '../../tools/lab/lab';
import type { Stack } from '../../stack/stack';
import type { StackConfigInput } from '../../stack/config';
import { Ipv4Header, IPPROTO_TCP, parseIpv4, parseIpv4Address, formatIpv4, writeIpv4Header } from '../../stack/wire/ipv4';
import { TcpSegment, parseTcp, formatTcpFlags, setTcpChecksum, tcpOptionsLength, writeTcpHeader } from '../../stack/wire/tcp';
import type { TcpConnection, TcpHandler, TcpState } from '../../stack/tcp/connection';
import type { TcpError } from '../../stack/tcp/errors';

export const A = '10.0.0.1';
export const B = '10.0.0.2';
export const ip = parseIpv4Address;

export interface Pair {
  lab: Lab;
  a: Stack;
  b: Stack;
}

/** Link options for pair(): impairments, and devices to put before either end. */
export type PairLinkOptions = Omit<LabLinkOptions, 'addressA' | 'addressB'>;

export function pair(opts: { seed?: number | string; link?: PairLinkOptions; configA?: StackConfigInput; configB?: StackConfigInput; config?: StackConfigInput; record?: boolean } = {}): Pair {
  const lab = new Lab({ seed: opts.seed ?? 1, record: opts.record ?? true });
  const a = lab.host('a', { config: opts.configA ?? opts.config });
  const b = lab.host('b', { config: opts.configB ?? opts.config });
  lab.link(a, b, { addressA: `${A}/24`, addressB: `${B}/24`, ...(opts.link ?? {}) });
  return { lab, a, b };
}

export interface Seg {
  t: number;
  from: string;
  to: string;
  flags: string;
  seq: number;
  ack: number;
  win: number;
  len: number;
  mss: number;
  wscale: number;
  sackOk: boolean;
  ts: boolean;
  srcPort: number;
  dstPort: number;
  fate: string;
}

/** Every TCP segment sent on the lab's links (stage 'send'), decoded. */
export function segments(lab: Lab, stage: 'send' | 'arrive' = 'send'): Seg[] {
  const out: Seg[] = [];
  const h = new Ipv4Header();
  const s = new TcpSegment();
  for (const f of lab.frames) {
    if (f.stage !== stage) continue;
    const d = decode(f, h, s);
    if (d !== null) out.push(d);
  }
  return out;
}

function decode(f: FrameRecord, h: Ipv4Header, s: TcpSegment): Seg | null {
  if (parseIpv4(f.bytes, h, false) !== null || h.protocol !== 6) return null;
  if (parseTcp(f.bytes, h.payloadOffset, h.payloadLength, h.src, h.dst, s, false) !== null) return null;
  return {
    t: f.time, from: f.from, to: f.to, flags: formatTcpFlags(s.flags), seq: s.seq, ack: s.ack, win: s.window,
    len: s.payloadLength, mss: s.mss, wscale: s.windowScale, sackOk: s.sackPermitted, ts: s.hasTimestamps,
    srcPort: s.srcPort, dstPort: s.dstPort, fate: f.fate,
  };
}

export function sha256(chunks: Uint8Array[]): string {
  const h = createHash('sha256');
  for (const c of chunks) h.update(c);
  return h.digest('hex');
}

/** Deterministic pseudo-random payload. */
export function payload(size: number, seed = 7): Uint8Array {
  const b = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

/** Records what happens to a connection: states, events, data, error. */
export class Recorder implements TcpHandler {
  states: TcpState[] = [];
  events: string[] = [];
  received: Uint8Array[] = [];
  bytes = 0;
  error: TcpError | null = null;
  closed = false;
  ended = false;
  connected = false;
  /** When false, data is left in the receive queue (the reader has stopped). */
  reading = true;
  conn: TcpConnection | null = null;

  constructor(readonly lab?: Lab) {}

  onConnect(c: TcpConnection): void {
    this.conn = c;
    this.connected = true;
    this.events.push('connect');
  }
  onReadable(c: TcpConnection): void {
    this.conn = c;
    if (!this.reading) return;
    this.drain(c);
  }
  drain(c: TcpConnection): void {
    let chunk: Uint8Array | null;
    while ((chunk = c.read()) !== null) {
      this.received.push(chunk);
      this.bytes += chunk.length;
    }
  }
  onEnd(): void {
    this.ended = true;
    this.events.push('end');
  }
  onClose(_c: TcpConnection, err: TcpError | null): void {
    this.closed = true;
    this.error = err;
    this.events.push(err === null ? 'close' : `close:${err.code}`);
  }
  onStateChange(_c: TcpConnection, _from: TcpState, to: TcpState): void {
    this.states.push(to);
  }
  onWritable(): void {
    this.events.push('writable');
  }
}

/** Writes `data` through `conn` as fast as the send buffer takes it, then optionally shuts down. */
export function sendAll(conn: TcpConnection, data: Uint8Array, rec: Recorder, then: 'shutdown' | 'close' | 'none' = 'shutdown'): void {
  let off = 0;
  const pump = (): void => {
    while (off < data.length) {
      const n = conn.send(data.subarray(off, Math.min(data.length, off + 65536)));
      off += n;
      if (n === 0) return;
    }
    if (then === 'shutdown') conn.shutdown();
    else if (then === 'close') conn.close();
  };
  const prevWritable = rec.onWritable.bind(rec);
  rec.onWritable = () => {
    prevWritable();
    pump();
  };
  pump();
}

export { formatIpv4 };

/** Fields of a TCP segment to inject; unset options are left out. */
export interface InjectFields {
  src?: number;
  dst?: number;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack?: number;
  flags: number;
  window?: number;
  mss?: number;
  payload?: Uint8Array;
}

/** An IPv4 packet carrying a TCP segment with a correct checksum. */
export function tcpPacket(f: InjectFields): Uint8Array {
  const seg = new TcpSegment();
  seg.clear();
  seg.srcPort = f.srcPort;
  seg.dstPort = f.dstPort;
  seg.seq = f.seq >>> 0;
  seg.ack = (f.ack ?? 0) >>> 0;
  seg.flags = f.flags;
  seg.window = f.window ?? 65535;
  if (f.mss !== undefined) seg.mss = f.mss;
  const data = f.payload ?? new Uint8Array(0);
  const tcpLen = 20 + tcpOptionsLength(seg) + data.length;
  const buf = new Uint8Array(20 + tcpLen);
  const src = f.src ?? ip(A);
  const dst = f.dst ?? ip(B);
  writeIpv4Header(buf, 0, buf.length, 1, true, 64, IPPROTO_TCP, src, dst);
  const hl = writeTcpHeader(buf, 20, seg);
  buf.set(data, 20 + hl);
  setTcpChecksum(buf, 20, tcpLen, src, dst);
  return buf;
}

/** Put a segment on the wire from `from`'s end of the lab's a-b link, as if that host had sent it. */
export function inject(p: Pair, from: 'a' | 'b', f: InjectFields): void {
  const link = p.lab.links.get('a-b');
  if (link === undefined) throw new Error('no a-b link');
  const defaults = from === 'a' ? { src: ip(A), dst: ip(B) } : { src: ip(B), dst: ip(A) };
  (from === 'a' ? link.a : link.b).send([tcpPacket({ ...defaults, ...f })]);
}
