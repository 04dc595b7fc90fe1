// TCP's trace events (stack/trace.ts defines them): segments, states, timers,
// RTT samples, retransmissions, cwnd, errors, probes, Nagle, ACK decisions,
// windows and drops. Each helper costs one branch when nobody listens.

import type { IpAddress } from '../ip/address';
import type { Clock } from '../time/clock';
import type { TraceEvent, Tracer } from '../trace';
import type { TcpSegment } from '../wire/tcp';

/** What most events need of a connection or SYN request: its name. */
export interface Traced {
  readonly id: string;
}

/** What the RTT and cwnd events need of a connection (a Tcb has all of it). */
export interface TracedConnection extends Traced {
  readonly flightSize: number;
  readonly rto: { readonly srtt: number; readonly rttvar: number; readonly rto: number };
  readonly cc: { readonly cwnd: number; readonly ssthresh: number } | null;
}

export interface TcpTraceHost {
  readonly name: string;
  readonly clock: Clock;
  readonly tracer: Tracer;
  /** Count an event by reason. */
  count(reason: string): void;
}

export class TcpTrace {
  constructor(private readonly host: TcpTraceHost) {}

  get enabled(): boolean {
    return this.host.tracer.enabled;
  }

  private get now(): number {
    return this.host.clock.now();
  }

  /** Count a drop by reason, and trace it. */
  drop(reason: string, conn?: Traced): void {
    this.host.count(reason);
    const tr = this.host.tracer;
    if (tr.enabled) tr.emit({ type: 'drop', t: this.now, stack: this.host.name, layer: 'tcp', reason, conn: conn?.id });
  }

  state(conn: Traced, from: string, to: string, cause: string): void {
    const tr = this.host.tracer;
    if (tr.enabled) tr.emit({ type: 'state', t: this.now, stack: this.host.name, conn: conn.id, from, to, cause });
  }

  timer(conn: Traced, timer: string, action: 'set' | 'fired' | 'cancelled', at?: number): void {
    const tr = this.host.tracer;
    if (tr.enabled) tr.emit({ type: 'timer', t: this.now, stack: this.host.name, conn: conn.id, timer, action, at });
  }

  rtt(conn: TracedConnection, sample: number): void {
    const tr = this.host.tracer;
    if (tr.enabled) {
      const r = conn.rto;
      tr.emit({ type: 'rtt', t: this.now, stack: this.host.name, conn: conn.id, sample, srtt: r.srtt, rttvar: r.rttvar, rto: r.rto });
    }
  }

  retransmit(conn: Traced & { readonly retries: number }, seq: number, len: number, reason: string): void {
    this.host.count('tcp-retransmit');
    const tr = this.host.tracer;
    if (tr.enabled) tr.emit({ type: 'retransmit', t: this.now, stack: this.host.name, conn: conn.id, seq, len, count: conn.retries, reason });
  }

  cwnd(conn: TracedConnection, cause: string): void {
    const tr = this.host.tracer;
    const cc = conn.cc;
    if (tr.enabled && cc !== null) {
      tr.emit({ type: 'cwnd', t: this.now, stack: this.host.name, conn: conn.id, cwnd: cc.cwnd, ssthresh: cc.ssthresh, flight: conn.flightSize, cause });
    }
  }

  error(conn: Traced, code: string): void {
    this.host.count(`tcp-error-${code}`);
    const tr = this.host.tracer;
    if (tr.enabled) tr.emit({ type: 'error', t: this.now, stack: this.host.name, conn: conn.id, code });
  }

  probe(conn: Traced, kind: 'keepalive' | 'zero-window', n: number, of: number): void {
    this.host.count(kind === 'keepalive' ? 'tcp-keepalive-probe' : 'tcp-zero-window-probe');
    const tr = this.host.tracer;
    if (tr.enabled) tr.emit({ type: 'probe', t: this.now, stack: this.host.name, conn: conn.id, kind, n, of });
  }

  nagle(conn: Traced, held: number, outstanding: number): void {
    const tr = this.host.tracer;
    if (tr.enabled) tr.emit({ type: 'nagle', t: this.now, stack: this.host.name, conn: conn.id, held, outstanding });
  }

  ack(conn: Traced, action: 'delayed' | 'quick' | 'immediate', reason: string, delayMs?: number): void {
    const tr = this.host.tracer;
    if (tr.enabled) tr.emit({ type: 'ack', t: this.now, stack: this.host.name, conn: conn.id, action, reason, delayMs });
  }

  window(conn: Traced, side: 'send' | 'receive', window: number, reason: string): void {
    const tr = this.host.tracer;
    if (tr.enabled) tr.emit({ type: 'window', t: this.now, stack: this.host.name, conn: conn.id, side, window, reason });
  }

  segment(dir: 'in' | 'out', src: IpAddress, dst: IpAddress, seg: TcpSegment, conn: Traced | undefined): void {
    const h = this.host;
    const ev: TraceEvent = {
      type: 'segment', t: this.now, stack: h.name, dir, conn: conn?.id,
      src: src.toString(), dst: dst.toString(), srcPort: seg.srcPort, dstPort: seg.dstPort,
      flags: seg.flags, seq: seg.seq, ack: seg.ack, window: seg.window, len: seg.payloadLength,
    };
    if (seg.mss >= 0) ev.mss = seg.mss;
    if (seg.windowScale >= 0) ev.windowScale = seg.windowScale;
    if (seg.sackPermitted) ev.sackPermitted = true;
    if (seg.hasTimestamps) {
      ev.tsVal = seg.tsVal;
      ev.tsEcr = seg.tsEcr;
    }
    if (seg.sackCount > 0) {
      ev.sack = [];
      for (let i = 0; i < seg.sackCount; i++) ev.sack.push([seg.sackBlocks[2 * i], seg.sackBlocks[2 * i + 1]]);
    }
    h.tracer.emit(ev);
  }
}
