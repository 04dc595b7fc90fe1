// The explained trace: one tcpdump-like line per segment a stack sends, with a
// plain-English note on what the segment does and why, and state changes,
// losses and timer decisions inline. It reads the stacks' trace events in the
// order they happen; the notes come from the events that precede a segment
// (a retransmission, a probe, a delayed-ACK timer firing).

import type { TraceEvent } from '../stack/trace';
import { flagString, formatTime } from './format';
import { TCP_ACK as ACK, TCP_FIN as FIN, TCP_RST as RST, TCP_SYN as SYN } from '../stack/wire/tcp';

type SegmentEvent = Extract<TraceEvent, { type: 'segment' }>;

interface Direction {
  /** Initial sequence number, for relative numbers as tcpdump prints them. */
  isn: number;
  lastAck: number;
  lastWindow: number;
  dupAcks: number;
  /** Highest sequence number sent so far (end of data). */
  highest: number;
  finSent: boolean;
  /** This side offered window scaling in its SYN, and the shift it announced. */
  wscale: number;
  /** The other side just probed this one (keepalive or zero window): the next ACK answers it. */
  probed: boolean;
  /** Zero-window probes sent in the current episode. */
  zeroProbes: number;
}

export interface ExplainOptions {
  /** Show sequence numbers relative to each side's ISN (default true), as tcpdump does. */
  relative?: boolean;
}

export class Explainer {
  private readonly dirs = new Map<string, Direction>();
  /** Why the next segment a connection sends is sent, keyed by "stack conn". */
  private readonly notes = new Map<string, string>();
  private readonly relative: boolean;

  constructor(private readonly print: (line: string) => void, opts: ExplainOptions = {}) {
    this.relative = opts.relative ?? true;
  }

  /** Feed one event; prints zero or more lines. */
  event(ev: TraceEvent): void {
    switch (ev.type) {
      case 'segment':
        if (ev.dir === 'out') this.segment(ev);
        return;
      case 'state':
        if (ev.from === 'SYN-SENT' && ev.to === 'ESTABLISHED') this.note(ev.stack, ev.conn, 'completes the three-way handshake');
        this.print(`${formatTime(ev.t)}  ${ev.stack.padEnd(6)}   state ${ev.from} -> ${ev.to} (${ev.cause})`);
        return;
      case 'retransmit': {
        const m = /after RTO/.test(ev.reason)
          ? ev.reason.replace(/ after RTO (\d+) ms/, (_s, ms: string) => ` after RTO ${(Number(ms) / 1000).toFixed(1)} s${ev.count > 1 ? ' (backoff)' : ''}`)
          : ev.reason;
        this.note(ev.stack, ev.conn, ev.reason === 'third duplicate ACK' ? 'third duplicate ACK -> fast retransmit' : m);
        return;
      }
      case 'probe':
        this.note(ev.stack, ev.conn, ev.kind === 'keepalive' ? `keepalive probe ${ev.n}/${ev.of}` : `zero-window probe #${ev.n}`);
        return;
      case 'timer':
        if (ev.timer === 'delack' && ev.action === 'fired') this.note(ev.stack, ev.conn, 'delayed ACK (40 ms timer)');
        if (ev.timer === 'time-wait' && ev.action === 'set') {
          this.print(`${formatTime(ev.t)}  ${ev.stack.padEnd(6)}   TIME-WAIT: the connection lingers 2*MSL so stray segments die out`);
        }
        return;
      case 'nagle':
        this.print(`${formatTime(ev.t)}  ${ev.stack.padEnd(6)}   Nagle holds ${ev.held} byte${ev.held === 1 ? '' : 's'}: a small segment is still unacknowledged`);
        return;
      case 'window':
        if (ev.side === 'receive') this.note(ev.stack, ev.conn, 'window update: the reader made room');
        return;
      case 'cwnd':
        if (ev.cause !== 'slow start' && ev.cause !== 'congestion avoidance') {
          this.print(`${formatTime(ev.t)}  ${ev.stack.padEnd(6)}   ${ev.cause}: cwnd ${ev.cwnd} ssthresh ${ev.ssthresh} in flight ${ev.flight}`);
        }
        return;
      case 'drop':
        this.print(`${formatTime(ev.t)}  ${ev.stack.padEnd(6)}   dropped (${ev.layer}): ${ev.reason}`);
        return;
      case 'error':
        this.print(`${formatTime(ev.t)}  ${ev.stack.padEnd(6)}   error ${ev.code}`);
        return;
      default:
        return;
    }
  }

  /** A segment lost on a link (from the lab's link records). */
  lost(l: { t: number; from: string; to: string; src: string; dst: string; srcPort: number; dstPort: number; flags: number; seq: number; len: number }): void {
    const d = this.dirs.get(`${l.src}:${l.srcPort}>${l.dst}:${l.dstPort}`);
    const seq = this.relative && d !== undefined ? (l.seq - d.isn) >>> 0 : l.seq;
    const range = l.len > 0 ? `seq ${seq}:${(seq + l.len) >>> 0}` : `seq ${seq}`;
    this.print(`${formatTime(l.t)}  link     LOST [${flagString(l.flags)}] ${range} len ${l.len} (${l.from} -> ${l.to}): this segment never arrives`);
  }

  private note(stack: string, conn: string, text: string): void {
    this.notes.set(`${stack} ${conn}`, text);
  }

  private segment(ev: SegmentEvent): void {
    const key = `${ev.src}:${ev.srcPort}>${ev.dst}:${ev.dstPort}`;
    const back = `${ev.dst}:${ev.dstPort}>${ev.src}:${ev.srcPort}`;
    let d = this.dirs.get(key);
    if (d === undefined || (ev.flags & SYN)) {
      d = { isn: ev.seq, lastAck: -1, lastWindow: -1, dupAcks: 0, highest: ev.seq, finSent: false, wscale: ev.windowScale ?? -1, probed: false, zeroProbes: 0 };
      this.dirs.set(key, d);
    }
    const peer = this.dirs.get(back);
    // The window in bytes: scaled when both SYNs offered scaling (RFC 7323 2.2), never in a SYN.
    const window = (ev.flags & SYN) || d.wscale < 0 || peer === undefined || peer.wscale < 0 ? ev.window : ev.window * 2 ** d.wscale;
    const rel = (x: number, base: number | undefined): number => (this.relative && base !== undefined ? (x - base) >>> 0 : x);
    const seq = rel(ev.seq, d.isn);
    const ack = rel(ev.ack, peer?.isn);
    const end = (ev.seq + ev.len + (ev.flags & SYN ? 1 : 0) + (ev.flags & FIN ? 1 : 0)) >>> 0;
    const noteKey = `${ev.stack} ${ev.conn ?? ''}`;
    const why = this.notes.get(noteKey);
    if (why !== undefined) this.notes.delete(noteKey);
    let text = why ?? this.describe(ev, d, window, peer);
    if (why !== undefined && why.startsWith('zero-window probe')) {
      d.zeroProbes++;
      text = `zero-window probe #${d.zeroProbes}: is the window still closed?`;
    }
    if (why !== undefined && /probe/.test(why) && peer !== undefined) peer.probed = true;
    if (window > 0 && peer !== undefined) peer.zeroProbes = 0; // the peer's window is open again
    if (((end - d.highest) | 0) > 0) d.highest = end;
    if (ev.flags & ACK) {
      d.lastAck = ev.ack;
      d.lastWindow = window;
    }
    const range = ev.len > 0 ? `seq ${seq}:${(seq + ev.len) >>> 0}` : `seq ${seq}`;
    const ackPart = ev.flags & ACK ? ` ack ${ack}` : '';
    this.print(`${formatTime(ev.t)}  ${ev.stack.padEnd(6)} ${ev.src}:${ev.srcPort} > ${ev.dst}:${ev.dstPort} [${flagString(ev.flags)}]`
      + ` ${range}${ackPart} win ${ev.window} len ${ev.len}  -- ${text}`);
  }

  private relativeAck(ev: SegmentEvent): number {
    const peer = this.dirs.get(`${ev.dst}:${ev.dstPort}>${ev.src}:${ev.srcPort}`);
    return this.relative && peer !== undefined ? (ev.ack - peer.isn) >>> 0 : ev.ack;
  }

  private describe(ev: SegmentEvent, d: Direction, window: number, peer: Direction | undefined): string {
    const f = ev.flags;
    if (f & RST) return 'reset: this side refuses or abandons the connection';
    if (f & SYN) {
      const opts: string[] = [];
      if (ev.mss !== undefined) opts.push(`MSS ${ev.mss}`);
      if (ev.windowScale !== undefined) opts.push(`window scale ${ev.windowScale}`);
      if (ev.sackPermitted) opts.push('SACK');
      if (ev.tsVal !== undefined) opts.push('timestamps');
      const o = opts.length > 0 ? `, offering ${opts.join(', ')}` : '';
      return f & ACK ? `accepts the connection and opens its own direction${o}` : `opens a connection${o}`;
    }
    const retrans = ev.len > 0 && ((ev.seq - d.highest) | 0) < 0;
    if (f & FIN) return ev.len > 0 ? `last ${ev.len} bytes and FIN: no more data from this side` : 'FIN: no more data from this side';
    if (ev.len > 0) return retrans ? 'data sent again' : `data, ${ev.len} bytes`;
    // A pure ACK.
    if (((ev.seq - d.highest) | 0) < 0 && (((d.highest - ev.seq) >>> 0) === 1)) return 'probe (SEG.SEQ = SND.NXT - 1)';
    if (d.probed) {
      d.probed = false;
      return window === 0 ? 'answers the probe: the window is still zero' : `answers the probe: alive, window ${window}`;
    }
    void peer;
    if (d.lastAck === ev.ack && d.lastWindow === window) {
      d.dupAcks++;
      return `duplicate ACK #${d.dupAcks}: still waiting for the segment at ${this.relativeAck(ev)}`;
    }
    d.dupAcks = 0;
    if (d.lastAck === ev.ack && d.lastWindow !== window) return window === 0 ? 'zero window: the reader is not keeping up' : `window update: ${window} bytes`;
    if (window === 0) return 'acknowledges, and the window is closed (zero window)';
    return 'acknowledges';
  }
}
