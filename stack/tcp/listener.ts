// A listening endpoint (RFC 9293 3.10.7.2, LISTEN): SYNs are answered from
// small request records in the SYN queue (the SYN-ACK is built without a
// connection object; syn-request.ts), the ACK of the SYN-ACK makes the
// connection, and established connections wait in the accept queue. Both
// queues together are bounded by the backlog.

import type { TcpConfig } from '../config';
import type { AddressFamily, IpAddress } from '../ip/address';
import type { NetworkLayer, SendError } from '../ip/network';
import type { RandomSource } from '../random';
import type { Clock } from '../time/clock';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type TcpSegment } from '../wire/tcp';
import type { TcpConnection } from './connection';
import { openFromRequest } from './handshake';
import { segmentAcceptable } from './input';
import { seqAdd, seqLt } from './seq';
import { takeSynOptions, writeSynOptions } from './syn-options';
import { SynRequest } from './syn-request';
import { ConnectionTable } from './table';
import { DEFAULT_MSS, type Tcb } from './tcb';
import type { TcpTrace } from './trace';
import { MAX_WINDOW_FIELD } from './window';

export interface TcpListenerHandler {
  /** A connection completed its handshake; attach a handler to it to receive its events. */
  onConnection(conn: TcpConnection): void;
}

/** What a listener needs from the TCP layer. */
export interface ListenerHost {
  readonly clock: Clock;
  readonly config: TcpConfig;
  readonly random: RandomSource;
  /** The key of the layer's 4-tuple hash, for the SYN queue's too. */
  readonly tupleHashSecret: number;
  readonly trace: TcpTrace;
  /** The record outgoing segments are built in. */
  readonly outSegment: TcpSegment;
  /** The network layer of a family, or null. */
  network(family: AddressFamily): NetworkLayer | null;
  /** Our initial sequence number for a 4-tuple (RFC 6528). */
  isn(local: IpAddress, localPort: number, remote: IpAddress, remotePort: number): number;
  mssFor(net: NetworkLayer, remote: IpAddress): number;
  /** Send the segment in outSegment (no payload) from `src` to `dst`. */
  sendSegment(net: NetworkLayer, seg: TcpSegment, src: IpAddress, dst: IpAddress, offload: boolean, traced?: { readonly id: string }): SendError;
  /** A connection for a completed handshake, in the connection table, not yet opened. */
  newPassiveConnection(net: NetworkLayer, r: SynRequest): TcpConnection;
  countDrop(reason: string, conn?: { readonly id: string }): void;
  /** Trace the arriving segment (before what it causes). */
  traceSegmentIn(seg: TcpSegment, src: IpAddress, dst: IpAddress, traced: { readonly id: string } | undefined): void;
  unlisten(l: TcpListener): void;
  scheduleListener(l: TcpListener): void;
  /** After a timer: dispatch and flush. */
  afterTimer(): void;
}

export class TcpListener {
  /** Established connections not yet handed to the user. */
  readonly acceptQueue: TcpConnection[] = [];
  /** While paused, established connections wait in the accept queue (and the backlog then refuses SYNs). */
  paused = false;
  closed = false;
  /** Set while queued for dispatch in the layer. */
  scheduled = false;
  /** The SYN queue: handshakes in progress (SYN-RECEIVED), by 4-tuple. */
  private readonly requests: ConnectionTable<SynRequest>;

  constructor(
    private readonly host: ListenerHost,
    /** The unspecified address (0.0.0.0) means every local address. */
    readonly localAddr: IpAddress,
    readonly localPort: number,
    public backlog: number,
    public handler: TcpListenerHandler,
  ) {
    this.requests = new ConnectionTable<SynRequest>(host.tupleHashSecret);
  }

  /** Handshakes in progress. */
  get synQueue(): number {
    return this.requests.size;
  }

  /**
   * A SYN is dropped (not refused: the peer retries) when the connections
   * waiting for accept plus those still in the handshake reach the backlog, so
   * the accept queue can never outgrow it (as BSD; Linux checks the accept queue alone).
   */
  get full(): boolean {
    return this.acceptQueue.length + this.requests.size >= this.backlog;
  }

  // ---------------------------------------------------------------- input

  /** A segment for our port from `src` to `dst` that belongs to no connection. Returns false when it is for nobody here (answer with RST). */
  input(seg: TcpSegment, buf: Uint8Array, src: IpAddress, dst: IpAddress): boolean {
    const r = this.requests.find(dst, seg.dstPort, src, seg.srcPort);
    this.host.traceSegmentIn(seg, src, dst, r ?? undefined);
    if (r !== null) {
      this.requestInput(r, seg, buf);
      return true;
    }
    // LISTEN (RFC 9293 3.10.7.2): ignore RST, refuse ACK, answer SYN.
    const f = seg.flags;
    if (f & TCP_RST) return true;
    if (f & TCP_ACK) return false;
    if (!(f & TCP_SYN)) return true;
    if (this.full) {
      this.host.countDrop('tcp-listen-overflow');
      return true;
    }
    this.synArrives(seg, src, dst);
    return true;
  }

  /** "Third, check for a SYN" in LISTEN: a request record, and our SYN-ACK. */
  private synArrives(syn: TcpSegment, src: IpAddress, dst: IpAddress): void {
    const h = this.host;
    const net = h.network(src.family);
    if (net === null) return;
    // The addresses are the network layer's per-packet scratch: the request keeps copies.
    const r = new SynRequest(net, dst.clone(), syn.dstPort, src.clone(), syn.srcPort);
    r.tsOffset = h.random.u32();
    const route = net.route(src);
    r.checksumOffload = route !== null && route.checksumOffload;
    r.irs = syn.seq;
    r.iss = h.isn(dst, syn.dstPort, src, syn.srcPort);
    r.sndWnd = syn.window;
    const now = h.clock.now();
    takeSynOptions(r, h.config, h.mssFor(net, src), syn, now, r.tsNow(now));
    this.requests.insert(r);
    h.trace.state(r, 'CLOSED', 'SYN-RECEIVED', 'SYN received');
    this.sendSynAck(r);
    r.rttStart = now;
    this.armRequestTimer(r);
  }

  /** A segment for a handshake in progress (SYN-RECEIVED, RFC 9293 3.10.7.4). */
  private requestInput(r: SynRequest, seg: TcpSegment, buf: Uint8Array): void {
    const f = seg.flags;
    if ((f & TCP_SYN) && !(f & TCP_ACK) && seg.seq === r.irs) {
      // A retransmitted SYN: our SYN-ACK was lost; send it again.
      this.sendSynAck(r);
      return;
    }
    const rcvNxt = r.rcvNxt;
    const segLen = seg.payloadLength + (f & TCP_SYN ? 1 : 0) + (f & TCP_FIN ? 1 : 0);
    if (!segmentAcceptable(rcvNxt, Math.max(0, (r.rcvAdvertised - rcvNxt) | 0), seg.seq, segLen)) {
      // Unacceptable: an ACK at once (3.10.7.4 first), nothing for a RST.
      if (!(f & TCP_RST)) this.sendControl(r, TCP_ACK, seqAdd(r.iss, 1), segLen === 0 || seqLt(seg.seq, rcvNxt) ? 'duplicate or probe' : 'outside the window');
      this.host.countDrop('tcp-out-of-window', r);
      return;
    }
    if (f & TCP_RST) {
      // RFC 5961 3.2: only an exact RST ends the handshake (back to LISTEN, quietly).
      if (seg.seq !== rcvNxt) this.sendControl(r, TCP_ACK, seqAdd(r.iss, 1), 'challenge ACK (RFC 5961)');
      else this.dropRequest(r, 'RST in SYN-RECEIVED');
      return;
    }
    if (f & TCP_SYN) {
      this.sendControl(r, TCP_ACK, seqAdd(r.iss, 1), 'challenge ACK for SYN (RFC 5961)');
      return;
    }
    if (!(f & TCP_ACK)) return;
    if (seg.ack !== seqAdd(r.iss, 1)) {
      // Not an ACK of our SYN (3.10.7.4 fifth, SYN-RECEIVED): reset it.
      this.sendControl(r, TCP_RST, seg.ack);
      return;
    }
    // The handshake completes: the connection takes over and processes the segment.
    this.requests.remove(r);
    const conn = this.host.newPassiveConnection(r.net, r);
    openFromRequest(conn, r, this);
    conn.segmentArrives(seg, buf);
    this.stopRequestTimer(r);
  }

  /** ICMP destination unreachable quoting our SYN-ACK (RFC 5927 4.1): the handshake ends. Returns whether it was for a request. */
  icmpUnreachable(localAddr: IpAddress, remoteAddr: IpAddress, remotePort: number, seq: number): boolean {
    const r = this.requests.find(localAddr, this.localPort, remoteAddr, remotePort);
    if (r === null) return false;
    if (seq === r.iss) this.dropRequest(r, 'ICMP destination unreachable');
    return true;
  }

  // ---------------------------------------------------------------- output

  private sendSynAck(r: SynRequest): void {
    const h = this.host;
    const cfg = h.config;
    const seg = h.outSegment;
    seg.clear();
    seg.srcPort = r.localPort;
    seg.dstPort = r.remotePort;
    seg.seq = r.iss;
    seg.ack = r.rcvNxt;
    seg.flags = TCP_SYN | TCP_ACK;
    // The SYN-ACK's window is never scaled (RFC 7323 2.2): the buffer, up to 65535.
    const wnd = Math.min(cfg.receiveBufferBytes, MAX_WINDOW_FIELD);
    seg.window = wnd;
    r.rcvAdvertised = seqAdd(r.rcvNxt, wnd);
    writeSynOptions(seg, cfg, h.mssFor(r.net, r.remoteAddr), r, true, r.tsNow(h.clock.now()));
    h.sendSegment(r.net, seg, r.localAddr, r.remoteAddr, r.checksumOffload, r);
  }

  /** A segment without data for a request: ACK, RST, RST+ACK. */
  private sendControl(r: SynRequest, flags: number, seq: number, why?: string): void {
    const h = this.host;
    const seg = h.outSegment;
    seg.clear();
    seg.srcPort = r.localPort;
    seg.dstPort = r.remotePort;
    seg.seq = seq;
    seg.flags = flags;
    if (flags & TCP_ACK) {
      seg.ack = r.rcvNxt;
      seg.window = this.window(r);
    }
    if (r.tsOn && !(flags & TCP_RST)) {
      seg.hasTimestamps = true;
      seg.tsVal = r.tsNow(h.clock.now());
      seg.tsEcr = r.tsRecent;
    }
    if (why !== undefined) h.trace.ack(r, 'immediate', why);
    h.sendSegment(r.net, seg, r.localAddr, r.remoteAddr, r.checksumOffload, r);
  }

  /**
   * The window field of a segment after the SYN-ACK: scaled (RFC 7323 2.3), the
   * free buffer in whole default-sized segments, as window.ts offers it before
   * the peer has sent any data; the right edge moves with it.
   */
  private window(r: SynRequest): number {
    const shift = r.rcvWscale;
    let wnd = Math.min(this.host.config.receiveBufferBytes, MAX_WINDOW_FIELD << shift);
    if (wnd > DEFAULT_MSS) wnd -= wnd % DEFAULT_MSS;
    const field = Math.min(Math.ceil(wnd / 2 ** shift), MAX_WINDOW_FIELD);
    r.rcvAdvertised = seqAdd(r.rcvNxt, field * 2 ** shift);
    return field;
  }

  // ---------------------------------------------------------------- the SYN-ACK timer

  /** Retransmit the SYN-ACK with backoff (RFC 6298 5.5, from the initial RTO; Linux tcp_synack_retries). */
  private armRequestTimer(r: SynRequest): void {
    const h = this.host;
    if (r.timer === null) r.timer = h.clock.createTimer(() => this.requestTimeout(r));
    const cfg = h.config;
    r.timer.start(Math.min(cfg.initialRtoMs * 2 ** r.retries, cfg.maxRtoMs));
    h.trace.timer(r, 'rtx', 'set', r.timer.deadline);
  }

  private stopRequestTimer(r: SynRequest): void {
    if (r.timer !== null && r.timer.armed) {
      r.timer.stop();
      this.host.trace.timer(r, 'rtx', 'cancelled');
    }
  }

  private requestTimeout(r: SynRequest): void {
    const h = this.host;
    h.trace.timer(r, 'rtx', 'fired');
    if (r.retries >= h.config.synAckRetries) {
      this.dropRequest(r, 'retransmission limit');
    } else {
      r.retries++;
      r.rttStart = -1; // Karn's rule
      h.trace.retransmit(r, r.iss, 0, `retransmission #${r.retries} after RTO`);
      this.sendSynAck(r);
      this.armRequestTimer(r);
    }
    h.afterTimer();
  }

  /** The handshake ends without a connection (the listener stays). */
  private dropRequest(r: SynRequest, cause: string): void {
    this.stopRequestTimer(r);
    this.requests.remove(r);
    this.host.trace.state(r, 'SYN-RECEIVED', 'CLOSED', cause);
  }

  // ---------------------------------------------------------------- the accept queue

  /** A connection's handshake completed (connection.ts, via ConnectionOwner). */
  established(conn: Tcb): void {
    this.acceptQueue.push(conn as TcpConnection);
    this.host.scheduleListener(this);
  }

  /** A connection died before it was accepted. */
  childClosed(conn: Tcb): void {
    const i = this.acceptQueue.indexOf(conn as TcpConnection);
    if (i >= 0) this.acceptQueue.splice(i, 1);
  }

  dispatch(): void {
    while (!this.paused && !this.closed && this.acceptQueue.length > 0) {
      const conn = this.acceptQueue.shift() as TcpConnection;
      conn.listener = null;
      this.handler.onConnection(conn);
    }
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    if (this.acceptQueue.length > 0) this.host.scheduleListener(this);
  }

  /**
   * Stop listening; connections not yet accepted and handshakes in progress are
   * reset, as Linux does on close of a listening socket.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.host.unlisten(this);
    for (const conn of this.acceptQueue.splice(0)) conn.abort();
    for (const r of this.requests.all()) {
      this.sendControl(r, TCP_RST | TCP_ACK, seqAdd(r.iss, 1));
      this.dropRequest(r, 'abort');
    }
  }
}
