// TCP's place in the stack: demultiplexes segments to connections and
// listeners (RFC 9293 3.10.7), answers strays with RST, builds outgoing
// segments, picks ports and ISNs, and dispatches notifications to users once
// the work that produced them is complete.

import type { Clock } from '../time/clock';
import type { TcpConfig } from '../config';
import type { RandomSource } from '../random';
import type { Tracer } from '../trace';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, TcpSegment, parseTcp, setTcpChecksum, tcpOptionsLength, writeTcpHeader } from '../wire/tcp';
import { TcpConnection, type TcpHandler } from './connection';
import type { Tcb, TcpServices, TcpState } from './tcb';
import { TcpTrace } from './trace';
import { ConnectionTable } from './table';
import { TcpError } from './errors';
import { IsnGenerator } from './isn';
import { EphemeralPorts } from './ports';
import { TcpListener, type ListenerHost, type TcpListenerHandler } from './listener';
import type { SynRequest } from './syn-request';
import { seqAdd } from './seq';
import { checksumFoldSum, pseudoHeaderSum } from '../wire/checksum';
import type { SendError } from '../ip/ipv4';

/** What TCP needs from the stack around it. */
export interface TcpHost {
  readonly name: string;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly tracer: Tracer;
  /** Count a drop (or any event) by reason. */
  count(reason: string): void;
  formatAddress(addr: number): string;
  /** The source address and path MTU toward `dst`, or null without a route. */
  routeTo(dst: number): { src: number; mtu: number } | null;
  isLocalAddress(addr: number): boolean;
  /** Packets to `dst` leave through a device that needs no TCP checksum (a loopback). */
  checksumOffloadTo(dst: number): boolean;
  /** Offset in a frame where the IP header starts (room for a link header before it). */
  readonly headroom: number;
  allocFrame(length: number): Uint8Array;
  /** Write the IPv4 header at `headroom` and queue the frame for output; says why it could not leave. */
  sendIp(frame: Uint8Array, ipLength: number, protocol: number, src: number, dst: number): SendError;
  /** Arrange for dispatch and output flush after the current user call returns. */
  soon(): void;
}

export interface ConnectOptions {
  remoteAddress: number;
  remotePort: number;
  localAddress?: number;
  localPort?: number;
}

export interface ListenOptions {
  address?: number;
  port: number;
  backlog?: number;
}

const IPPROTO_TCP = 6;
const IP_HEADER = 20;

export class TcpLayer implements TcpServices, ListenerHost {
  /** The record every outgoing segment is built in (one at a time). */
  readonly outSegment = new TcpSegment();
  private readonly inSegment = new TcpSegment();
  readonly table: ConnectionTable<TcpConnection>;
  readonly tupleHashSecret: number;
  private readonly listeners = new Map<number, TcpListener[]>();
  private readonly isnGen: IsnGenerator;
  private readonly ports: EphemeralPorts;
  private notifyQueue: Array<Tcb | TcpListener> = [];
  private readonly ackQueue: TcpConnection[] = [];
  private dispatching = false;
  readonly clock: Clock;
  readonly trace: TcpTrace;
  /** Segments sent and received, for statistics. */
  segmentsIn = 0;
  segmentsOut = 0;
  resetsSent = 0;

  constructor(readonly host: TcpHost, readonly config: TcpConfig) {
    this.clock = host.clock;
    this.trace = new TcpTrace(host);
    this.tupleHashSecret = host.random.u32();
    this.table = new ConnectionTable(this.tupleHashSecret);
    this.isnGen = new IsnGenerator(host.clock, host.random);
    this.ports = new EphemeralPorts(host.random, config.ephemeralPortMin, config.ephemeralPortMax);
  }

  // ---------------------------------------------------------------- user API

  listen(opts: ListenOptions, handler: TcpListenerHandler): TcpListener {
    const addr = opts.address ?? 0;
    let port = opts.port;
    if (port === 0) {
      port = this.ports.pick(addr, 0, 0, (p) => this.portBound(p));
      if (port < 0) throw new TcpError('EADDRINUSE', 'no free port');
    }
    if (this.listenerConflict(addr, port)) throw new TcpError('EADDRINUSE', `address in use: ${this.host.formatAddress(addr)}:${port}`);
    const backlog = Math.max(1, Math.min(opts.backlog ?? this.config.defaultBacklog, 65535));
    const l = new TcpListener(this, addr, port, backlog, handler);
    const list = this.listeners.get(port);
    if (list === undefined) this.listeners.set(port, [l]);
    else list.push(l);
    return l;
  }

  connect(opts: ConnectOptions, handler: TcpHandler): TcpConnection {
    const route = this.host.routeTo(opts.remoteAddress);
    if (route === null) throw new TcpError('ENETUNREACH', `no route to ${this.host.formatAddress(opts.remoteAddress)}`);
    const localAddr = opts.localAddress ?? route.src;
    if (opts.localAddress !== undefined && !this.host.isLocalAddress(localAddr)) {
      throw new TcpError('EADDRNOTAVAIL', `${this.host.formatAddress(localAddr)} is not a local address`);
    }
    let localPort = opts.localPort ?? 0;
    if (localPort === 0) {
      localPort = this.ports.pick(localAddr, opts.remoteAddress, opts.remotePort,
        (p) => this.table.find(localAddr, p, opts.remoteAddress, opts.remotePort) !== null || this.listeners.has(p));
      if (localPort < 0) throw new TcpError('EADDRNOTAVAIL', 'no free ephemeral port');
    } else if (this.table.find(localAddr, localPort, opts.remoteAddress, opts.remotePort) !== null) {
      throw new TcpError('EADDRINUSE', `address in use: ${this.host.formatAddress(localAddr)}:${localPort}`);
    }
    const conn = new TcpConnection(this, localAddr, localPort, opts.remoteAddress, opts.remotePort, true);
    conn.checksumOffload = this.host.checksumOffloadTo(opts.remoteAddress);
    conn.handler = handler;
    conn.tsOffset = this.host.random.u32();
    this.table.insert(conn);
    conn.open(this.isnGen.isn(localAddr, localPort, opts.remoteAddress, opts.remotePort));
    this.host.soon();
    return conn;
  }

  /** Every connection the layer holds, in no particular order. */
  connections(): TcpConnection[] {
    return this.table.all();
  }

  // ---------------------------------------------------------------- input

  /** A TCP segment in an IPv4 packet addressed to us. */
  input(packet: Uint8Array, offset: number, length: number, src: number, dst: number, verifyChecksum = true): void {
    const seg = this.inSegment;
    const reason = parseTcp(packet, offset, length, src, dst, seg, verifyChecksum);
    if (reason !== null) {
      this.countDrop(reason);
      return;
    }
    this.segmentsIn++;
    const conn = this.table.find(dst, seg.dstPort, src, seg.srcPort);
    if (conn !== null) {
      if (this.trace.enabled) this.trace.segment('in', src, dst, seg, conn);
      conn.segmentArrives(seg, packet);
      return;
    }
    const listener = this.findListener(dst, seg.dstPort);
    if (listener !== null && listener.input(seg, packet, src, dst)) return;
    if (listener === null && this.trace.enabled) this.trace.segment('in', src, dst, seg, undefined);
    // CLOSED (RFC 9293 3.10.7.1), or an ACK in LISTEN (3.10.7.2).
    if (listener === null) this.countDrop('tcp-no-socket');
    this.replyReset(seg, src, dst);
  }

  /** The segment for a listener, traced with the request it belongs to, if any. */
  traceSegmentIn(seg: TcpSegment, src: number, dst: number, traced: { readonly id: string } | undefined): void {
    if (this.trace.enabled) this.trace.segment('in', src, dst, seg, traced);
  }

  /** A connection for a listener's completed handshake, in the table. */
  newPassiveConnection(r: SynRequest): TcpConnection {
    const conn = new TcpConnection(this, r.localAddr, r.localPort, r.remoteAddr, r.remotePort, false);
    this.table.insert(conn);
    return conn;
  }

  isn(localAddr: number, localPort: number, remoteAddr: number, remotePort: number): number {
    return this.isnGen.isn(localAddr, localPort, remoteAddr, remotePort);
  }

  get random(): RandomSource {
    return this.host.random;
  }

  checksumOffloadTo(remote: number): boolean {
    return this.host.checksumOffloadTo(remote);
  }

  /** A segment without payload from the listener (SYN-ACK, ACK, RST of a SYN request). */
  sendSegment(seg: TcpSegment, src: number, dst: number, offload: boolean, traced?: { readonly id: string }): SendError {
    if (seg.flags & TCP_RST) this.resetsSent++;
    return this.build(seg, src, dst, null, 0, 0, traced, offload);
  }


  /** RST for a segment that belongs to no connection (RFC 9293 3.10.7.1); never for a RST. */
  private replyReset(seg: TcpSegment, src: number, dst: number): void {
    const f = seg.flags;
    if (f & TCP_RST) return;
    const out = this.outSegment;
    out.clear();
    out.srcPort = seg.dstPort;
    out.dstPort = seg.srcPort;
    if (f & TCP_ACK) {
      out.seq = seg.ack;
      out.flags = TCP_RST;
    } else {
      out.seq = 0;
      out.ack = seqAdd(seg.seq, seg.payloadLength + (f & TCP_SYN ? 1 : 0) + (f & TCP_FIN ? 1 : 0));
      out.flags = TCP_RST | TCP_ACK;
    }
    out.window = 0;
    this.resetsSent++;
    this.build(out, dst, src, null, 0, 0, undefined, this.host.checksumOffloadTo(src));
  }

  private findListener(addr: number, port: number): TcpListener | null {
    const list = this.listeners.get(port);
    if (list === undefined) return null;
    let wildcard: TcpListener | null = null;
    for (const l of list) {
      if (l.localAddr === addr) return l;
      if (l.localAddr === 0) wildcard = l;
    }
    return wildcard;
  }

  private listenerConflict(addr: number, port: number): boolean {
    const list = this.listeners.get(port);
    if (list === undefined) return false;
    return list.some((l) => l.localAddr === addr || l.localAddr === 0 || addr === 0);
  }

  private portBound(port: number): boolean {
    return this.listeners.has(port);
  }

  unlisten(l: TcpListener): void {
    const list = this.listeners.get(l.localPort);
    if (list === undefined) return;
    const i = list.indexOf(l);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.listeners.delete(l.localPort);
  }

  /**
   * An ICMP error quoting a segment we sent (RFC 1122 4.2.3.9, RFC 5927): the
   * quoted sequence number must be one we have outstanding. In SYN-SENT a
   * destination-unreachable ends the connect; later it is a soft error that
   * names the failure if the connection then times out (as Linux tcp_v4_err).
   */
  icmpError(type: number, code: number, original: Uint8Array): void {
    if (original.length < 28) return;
    const ihl = (original[0] & 0x0f) * 4;
    if (original.length < ihl + 8) return;
    const src = ((original[12] << 24) | (original[13] << 16) | (original[14] << 8) | original[15]) >>> 0;
    const dst = ((original[16] << 24) | (original[17] << 16) | (original[18] << 8) | original[19]) >>> 0;
    const sport = (original[ihl] << 8) | original[ihl + 1];
    const dport = (original[ihl + 2] << 8) | original[ihl + 3];
    const seq = ((original[ihl + 4] << 24) | (original[ihl + 5] << 16) | (original[ihl + 6] << 8) | original[ihl + 7]) >>> 0;
    if (type !== 3) return; // time exceeded and others: nothing to do for a host
    const conn = this.table.find(src, sport, dst, dport);
    if (conn !== null) {
      conn.icmpUnreachable(code, seq);
      return;
    }
    this.findListener(src, sport)?.icmpUnreachable(src, dst, dport, seq);
  }

  // ---------------------------------------------------------------- output

  /**
   * Called by a connection with its segment in `outSegment`; payload comes from
   * its send queue. Returns why the segment could not leave, or null.
   */
  transmit(conn: Tcb, seg: TcpSegment, queueOffset: number, len: number): SendError {
    if (seg.flags & TCP_RST) this.resetsSent++;
    return this.build(seg, conn.localAddr, conn.remoteAddr, conn, queueOffset, len, conn, conn.checksumOffload);
  }

  private build(seg: TcpSegment, src: number, dst: number, payloadFrom: Tcb | null,
    queueOffset: number, len: number, conn: { readonly id: string } | undefined, offload: boolean): SendError {
    const host = this.host;
    const headerLength = 20 + tcpOptionsLength(seg);
    seg.headerLength = headerLength;
    const tcpLength = headerLength + len;
    const frame = host.allocFrame(host.headroom + IP_HEADER + tcpLength);
    const tcpOffset = host.headroom + IP_HEADER;
    writeTcpHeader(frame, tcpOffset, seg);
    if (len > 0 && payloadFrom !== null) payloadFrom.sendQueue.copy(queueOffset, len, frame, tcpOffset + headerLength);
    if (offload) {
      // CHECKSUM_PARTIAL as Linux leaves it on lo: only the pseudo-header sum.
      const partial = checksumFoldSum(pseudoHeaderSum(src, dst, IPPROTO_TCP, tcpLength));
      frame[tcpOffset + 16] = partial >>> 8;
      frame[tcpOffset + 17] = partial;
    } else {
      setTcpChecksum(frame, tcpOffset, tcpLength, src, dst);
    }
    seg.payloadLength = len;
    this.segmentsOut++;
    if (this.trace.enabled) this.trace.segment('out', src, dst, seg, conn);
    const err = host.sendIp(frame, IP_HEADER + tcpLength, IPPROTO_TCP, src, dst);
    if (err !== null) this.countDrop(`tcp-send-${err}`, conn);
    return err;
  }

  /** Path MSS toward `remote`: the route's MTU less the IP and TCP headers. */
  mssFor(remote: number): number {
    const r = this.host.routeTo(remote);
    // An IPv4 datagram is at most 65535 bytes: on a 64 KiB-MTU loopback the MSS is 65495, as Linux's lo.
    return Math.max(Math.min(r === null ? 576 : r.mtu, 65535) - 40, 64);
  }

  /** An address as text (bound: SYN requests keep it to name themselves). */
  readonly formatAddress = (a: number): string => this.host.formatAddress(a);

  // ---------------------------------------------------------------- bookkeeping

  remove(conn: Tcb): void {
    this.table.remove(conn as TcpConnection);
    if (conn.listener !== null) {
      conn.listener.childClosed(conn);
      conn.listener = null;
    }
  }

  schedule(conn: Tcb): void {
    if (conn.queued) return;
    conn.queued = true;
    this.notifyQueue.push(conn);
  }

  /** An ACK is owed: send it when the current batch (and the dispatch after it) is done. */
  scheduleAck(conn: Tcb): void {
    if (conn.ackScheduled) return;
    conn.ackScheduled = true;
    this.ackQueue.push(conn as TcpConnection);
    this.host.soon();
  }

  /** Send the ACKs still owed; called after dispatch, before output is flushed. */
  flushAcks(): void {
    const q = this.ackQueue;
    for (let i = 0; i < q.length; i++) q[i].flushAck();
    q.length = 0;
  }

  scheduleListener(l: TcpListener): void {
    if (l.scheduled) return;
    l.scheduled = true;
    this.notifyQueue.push(l);
  }

  /** Deliver every pending notification. Safe to call from inside a handler (it just returns). */
  dispatch(): void {
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      for (let i = 0; i < this.notifyQueue.length; i++) {
        const item = this.notifyQueue[i];
        if (item instanceof TcpListener) {
          item.scheduled = false;
          item.dispatch();
        } else {
          item.queued = false;
          item.dispatch();
        }
      }
    } finally {
      this.notifyQueue.length = 0;
      this.dispatching = false;
    }
  }

  afterUserCall(_conn: Tcb): void {
    this.host.soon();
  }

  afterTimer(_conn?: Tcb): void {
    this.dispatch();
    this.flushAcks();
  }

  countDrop(reason: string, conn?: { readonly id: string }): void {
    this.trace.drop(reason, conn);
  }

  stateChanged(conn: Tcb, from: TcpState, to: TcpState, cause: string): void {
    this.trace.state(conn, from, to, cause);
    conn.handler?.onStateChange?.(conn, from, to, cause);
  }
}
