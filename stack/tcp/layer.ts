// TCP's place in the stack: the user API (listen, connect), demultiplexing of
// arriving segments to connections and listeners (RFC 9293 3.10.7), RST for
// strays (3.10.7.1), ICMP errors for the connection they quote, ports and
// ISNs, and the dispatch of notifications to users once the work that
// produced them is complete. Segments leave through transmit.ts; the LISTEN
// state is listener.ts; everything a connection does is in its own files.

import type { TcpConfig } from '../config';
import { IpAddress, toIpAddress, type AddressFamily, type AddressInput } from '../ip/address';
import type { IcmpErrorReport, NetworkLayer, SendError } from '../ip/network';
import type { RandomSource } from '../random';
import type { Clock } from '../time/clock';
import type { Tracer } from '../trace';
import { readU16, readU32 } from '../wire/bytes';
import { IPPROTO_TCP } from '../wire/ipv4';
import { TCP_ACK, TCP_FIN, TCP_HEADER_LENGTH, TCP_RST, TCP_SYN, TcpSegment, parseTcpSegment } from '../wire/tcp';
import { TcpConnection, type TcpHandler } from './connection';
import { TcpError } from './errors';
import { IsnGenerator } from './isn';
import { TcpListener, type ListenerHost, type TcpListenerHandler } from './listener';
import { EphemeralPorts } from './ports';
import { BlockPool } from './send-queue';
import { seqAdd } from './seq';
import type { SynRequest } from './syn-request';
import { ConnectionTable } from './table';
import type { Tcb, TcpServices, TcpState } from './tcb';
import { TcpTrace } from './trace';
import { SegmentTransmitter } from './transmit';

/** What TCP needs from the stack around it. */
export interface TcpHost {
  readonly name: string;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly tracer: Tracer;
  /** Count a drop (or any event) by reason. */
  count(reason: string): void;
  /** The network layer of a family, or null when the stack does not speak it. */
  network(family: AddressFamily): NetworkLayer | null;
  /** Offset in a frame where the network header starts (room for a link header before it). */
  readonly headroom: number;
  allocFrame(length: number): Uint8Array;
  /** Arrange for dispatch and output flush after the current user call returns. */
  soon(): void;
}

export interface ConnectOptions {
  remoteAddress: AddressInput;
  remotePort: number;
  localAddress?: AddressInput;
  localPort?: number;
}

export interface ListenOptions {
  /** The local address; unset or unspecified (0.0.0.0) means every local address. */
  address?: AddressInput;
  port: number;
  backlog?: number;
}

/** When no route tells: the minimum datagram every IPv4 host accepts (RFC 791). */
const DEFAULT_MTU = 576;
/** The smallest MSS a route gives: what a 68-byte IPv4 datagram (RFC 791's minimum) leaves for data. */
const MIN_ROUTE_MSS = 28;

export class TcpLayer implements TcpServices, ListenerHost {
  /** The record every outgoing segment is built in (one at a time). */
  readonly outSegment = new TcpSegment();
  readonly sendBlocks = new BlockPool();
  private readonly inSegment = new TcpSegment();
  readonly table: ConnectionTable<TcpConnection>;
  /** The key of the 4-tuple hash (the listeners' SYN queues use it too). */
  readonly tupleHashSecret: number;
  private readonly listeners = new Map<number, TcpListener[]>();
  private readonly isnGen: IsnGenerator;
  private readonly ports: EphemeralPorts;
  private readonly transmitter: SegmentTransmitter;
  private notifyQueue: Array<Tcb | TcpListener> = [];
  private readonly ackQueue: TcpConnection[] = [];
  private dispatching = false;
  /** The challenge-ACK budget (RFC 5961 7): what is left of it, and when its second began. */
  private challengeBudget = 0;
  private challengeSecond = -Infinity;
  readonly clock: Clock;
  readonly trace: TcpTrace;
  /** Segments received, for statistics. */
  segmentsIn = 0;

  constructor(readonly host: TcpHost, readonly config: TcpConfig) {
    this.clock = host.clock;
    this.trace = new TcpTrace(host);
    this.tupleHashSecret = host.random.u32();
    this.table = new ConnectionTable(this.tupleHashSecret);
    this.isnGen = new IsnGenerator(host.clock, host.random);
    this.ports = new EphemeralPorts(host.random, config.ephemeralPortMin, config.ephemeralPortMax, host.clock);
    this.transmitter = new SegmentTransmitter(host, this.trace);
  }

  get random(): RandomSource {
    return this.host.random;
  }

  /** Segments handed to the network layer, and how many of them were resets. */
  get segmentsOut(): number {
    return this.transmitter.segmentsOut;
  }

  get resetsSent(): number {
    return this.transmitter.resetsSent;
  }

  // ---------------------------------------------------------------- user API

  listen(opts: ListenOptions, handler: TcpListenerHandler): TcpListener {
    const addr = toIpAddress(opts.address ?? IpAddress.ANY4);
    let port = opts.port;
    if (port === 0) {
      port = this.ports.pick(addr.hash32(), 0, 0, (p) => this.listeners.has(p));
      if (port < 0) throw new TcpError('EADDRINUSE', 'no free port');
    }
    if (this.listenerConflict(addr, port)) throw new TcpError('EADDRINUSE', `address in use: ${addr}:${port}`);
    const backlog = Math.max(1, Math.min(opts.backlog ?? this.config.defaultBacklog, 65535));
    const l = new TcpListener(this, addr, port, backlog, handler);
    const list = this.listeners.get(port);
    if (list === undefined) this.listeners.set(port, [l]);
    else list.push(l);
    return l;
  }

  connect(opts: ConnectOptions, handler: TcpHandler): TcpConnection {
    const remote = toIpAddress(opts.remoteAddress);
    const net = this.host.network(remote.family);
    const route = net === null ? null : net.route(remote);
    if (net === null || route === null) throw new TcpError('ENETUNREACH', `no route to ${remote}`);
    const local = opts.localAddress === undefined ? route.src : toIpAddress(opts.localAddress);
    if (opts.localAddress !== undefined && !net.isLocalAddress(local)) {
      throw new TcpError('EADDRNOTAVAIL', `${local} is not a local address`);
    }
    const remotePort = opts.remotePort;
    let localPort = opts.localPort ?? 0;
    if (localPort === 0) {
      localPort = this.ports.pick(local.hash32(), remote.hash32(), remotePort,
        (p) => this.table.find(local, p, remote, remotePort) !== null || this.listeners.has(p));
      if (localPort < 0) throw new TcpError('EADDRNOTAVAIL', 'no free ephemeral port');
    } else if (this.table.find(local, localPort, remote, remotePort) !== null) {
      throw new TcpError('EADDRINUSE', `address in use: ${local}:${localPort}`);
    }
    const conn = new TcpConnection(this, net, local, localPort, remote.clone(), remotePort, true);
    conn.checksumOffload = route.checksumOffload;
    conn.handler = handler;
    conn.tsOffset = this.host.random.u32();
    this.table.insert(conn);
    conn.open(this.isnGen.isn(local, localPort, remote, remotePort));
    this.host.soon();
    return conn;
  }

  /** Every connection the layer holds, in no particular order (handshakes still in a SYN queue are not connections yet). */
  connections(): TcpConnection[] {
    return this.table.all();
  }

  // ---------------------------------------------------------------- input

  /** A TCP segment addressed to us (`src` and `dst` are rewritten per packet by the network layer). */
  input(packet: Uint8Array, offset: number, length: number, src: IpAddress, dst: IpAddress, verifyChecksum = true): void {
    const net = this.host.network(src.family);
    if (net === null) return;
    const seg = this.inSegment;
    const reason = parseTcpSegment(packet, offset, length, net.pseudoHeaderSum(src, dst, IPPROTO_TCP, length), seg, verifyChecksum);
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
    this.replyReset(net, seg, src, dst);
  }

  /** RST for a segment that belongs to no connection (RFC 9293 3.10.7.1); never for a RST. */
  private replyReset(net: NetworkLayer, seg: TcpSegment, src: IpAddress, dst: IpAddress): void {
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
    const route = net.route(src);
    this.transmitter.resetsSent++;
    this.transmitter.send(net, out, dst, src, null, 0, 0, route !== null && route.checksumOffload, undefined);
  }

  private findListener(addr: IpAddress, port: number): TcpListener | null {
    const list = this.listeners.get(port);
    if (list === undefined) return null;
    let wildcard: TcpListener | null = null;
    for (const l of list) {
      if (l.localAddr.equals(addr)) return l;
      if (l.localAddr.isUnspecified && l.localAddr.family === addr.family) wildcard = l;
    }
    return wildcard;
  }

  private listenerConflict(addr: IpAddress, port: number): boolean {
    const list = this.listeners.get(port);
    if (list === undefined) return false;
    return list.some((l) => l.localAddr.family === addr.family
      && (l.localAddr.equals(addr) || l.localAddr.isUnspecified || addr.isUnspecified));
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
   * connection (or SYN request) it names decides what it means.
   */
  icmpError(report: IcmpErrorReport): void {
    const t = report.transport;
    if (t.length < 8) return;
    // Time exceeded and the others: nothing to do for a host.
    if (report.kind !== 'unreachable' && report.kind !== 'fragmentation-needed') return;
    const sport = readU16(t, 0);
    const dport = readU16(t, 2);
    const seq = readU32(t, 4);
    const conn = this.table.find(report.src, sport, report.dst, dport);
    if (report.kind === 'fragmentation-needed') {
      // Path MTU discovery (RFC 1191): never an error, only a smaller segment size.
      if (conn !== null) conn.pathMtuReduced(report.mtu, seq);
      return;
    }
    if (conn !== null) {
      conn.icmpUnreachable(report.code, seq);
      return;
    }
    this.findListener(report.src, sport)?.icmpUnreachable(report.src, report.dst, dport, seq);
  }

  // ---------------------------------------------------------------- output

  /**
   * Called by a connection with its segment in `outSegment`; payload comes from
   * its send queue. Returns why the segment could not leave, or null.
   */
  transmit(conn: Tcb, seg: TcpSegment, queueOffset: number, len: number): SendError {
    if (seg.flags & TCP_RST) this.transmitter.resetsSent++;
    const err = this.transmitter.send(conn.net, seg, conn.localAddr, conn.remoteAddr, conn.sendQueue, queueOffset, len, conn.checksumOffload, conn);
    if (err !== null) this.countDrop(`tcp-send-${err}`, conn);
    return err;
  }

  /** A segment without payload from the listener (SYN-ACK, ACK, RST of a SYN request). */
  sendSegment(net: NetworkLayer, seg: TcpSegment, src: IpAddress, dst: IpAddress, offload: boolean, traced?: { readonly id: string }): SendError {
    if (seg.flags & TCP_RST) this.transmitter.resetsSent++;
    const err = this.transmitter.send(net, seg, src, dst, null, 0, 0, offload, traced);
    if (err !== null) this.countDrop(`tcp-send-${err}`, traced);
    return err;
  }

  /** Path MSS toward `remote`: the route's MTU less the network and TCP headers (RFC 9293 3.7.1). */
  mssFor(net: NetworkLayer, remote: IpAddress): number {
    const r = net.route(remote);
    return this.mssForMtu(net, r === null ? DEFAULT_MTU : r.mtu);
  }

  mssForMtu(net: NetworkLayer, mtu: number): number {
    // A datagram's payload is bounded too: on a 64 KiB-MTU loopback the IPv4 MSS is 65495, as Linux's lo.
    const bounded = Math.min(mtu, net.headerLength + net.maxPayload);
    return Math.max(bounded - net.headerLength - TCP_HEADER_LENGTH, MIN_ROUTE_MSS);
  }

  /** The network layer for a family (listeners use it for SYN requests). */
  network(family: AddressFamily): NetworkLayer | null {
    return this.host.network(family);
  }

  isn(local: IpAddress, localPort: number, remote: IpAddress, remotePort: number): number {
    return this.isnGen.isn(local, localPort, remote, remotePort);
  }

  /** A connection for a listener's completed handshake, in the table. */
  newPassiveConnection(net: NetworkLayer, r: SynRequest): TcpConnection {
    const conn = new TcpConnection(this, net, r.localAddr, r.localPort, r.remoteAddr, r.remotePort, false);
    this.table.insert(conn);
    return conn;
  }

  /** The segment for a listener, traced with the request it belongs to, if any. */
  traceSegmentIn(seg: TcpSegment, src: IpAddress, dst: IpAddress, traced: { readonly id: string } | undefined): void {
    if (this.trace.enabled) this.trace.segment('in', src, dst, seg, traced);
  }

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

  /**
   * One challenge ACK from the stack's budget (RFC 5961 7). As Linux: each
   * second the budget is drawn anew between half and one and a half times
   * challengeAckLimit, so an attacker cannot count exactly what is left.
   */
  challengeAckAllowed(): boolean {
    const now = this.clock.now();
    if (now - this.challengeSecond >= 1000) {
      this.challengeSecond = now;
      const limit = this.config.challengeAckLimit;
      this.challengeBudget = Math.floor((limit + 1) / 2) + Math.floor(this.host.random.float() * limit);
    }
    if (this.challengeBudget <= 0) return false;
    this.challengeBudget--;
    return true;
  }

  countDrop(reason: string, conn?: { readonly id: string }): void {
    this.trace.drop(reason, conn);
  }

  stateChanged(conn: Tcb, from: TcpState, to: TcpState, cause: string): void {
    this.trace.state(conn, from, to, cause);
    conn.handler?.onStateChange?.(conn, from, to, cause);
  }
}
