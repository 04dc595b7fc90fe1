// The transmission control block (RFC 9293 3.3.1): everything one connection
// knows, with the RFC's names, and the few things it needs from the TCP layer
// around it. Behaviour lives in the files named for each concern (handshake,
// input, ack-policy, window, sender, recovery/, congestion/, timers, state);
// they all work on a Tcb, and connection.ts puts them together.

import type { Clock, Timer } from '../time/clock';
import type { TcpConfig } from '../config';
import type { IpAddress } from '../ip/address';
import type { NetworkLayer, SendError } from '../ip/network';
import type { TcpSegment } from '../wire/tcp';
import type { CongestionControl } from './congestion/congestion';
import type { TcpError } from './errors';
import type { Reassembly } from './reassembly';
import { ReceiveQueue } from './receive-queue';
import type { SackScoreboard } from './recovery/scoreboard';
import { RtoEstimator } from './rto';
import { SendQueue, type BlockPool } from './send-queue';
import { seqDiff } from './seq';
import type { TcpTrace } from './trace';

export type TcpState =
  | 'CLOSED'
  | 'LISTEN'
  | 'SYN-SENT'
  | 'SYN-RECEIVED'
  | 'ESTABLISHED'
  | 'FIN-WAIT-1'
  | 'FIN-WAIT-2'
  | 'CLOSE-WAIT'
  | 'CLOSING'
  | 'LAST-ACK'
  | 'TIME-WAIT';

/** What a connection tells its user. Called from the layer's dispatch, never mid-transition. */
export interface TcpHandler<C> {
  /** The handshake completed (active open). */
  onConnect?(conn: C): void;
  /** In-order data is waiting in the receive queue. */
  onReadable?(conn: C): void;
  /** Send-queue space opened up after a send() that did not take everything. */
  onWritable?(conn: C): void;
  /** The peer's FIN arrived: everything it sent is in the receive queue. */
  onEnd?(conn: C): void;
  /** The connection is finished for its user (CLOSED, or TIME-WAIT), with the error that ended it, if any. */
  onClose?(conn: C, error: TcpError | null): void;
  /** Every state transition, with its cause. */
  onStateChange?(conn: C, from: TcpState, to: TcpState, cause: string): void;
}

/** The listener a passively opened connection belongs to until it is accepted. */
export interface ConnectionOwner {
  /** The handshake completed: queue the connection for accept. */
  established(conn: Tcb): void;
  /** The connection died before it was accepted. */
  childClosed(conn: Tcb): void;
}

/** What a connection needs from the TCP layer it lives in. */
export interface TcpServices {
  readonly clock: Clock;
  /** The stack's TCP tunables (a connection copies them on its first own change). */
  readonly config: TcpConfig;
  readonly trace: TcpTrace;
  /** The record every outgoing segment is built in (one at a time). */
  readonly outSegment: TcpSegment;
  /** Send-queue blocks, reused across the stack's connections. */
  readonly sendBlocks: BlockPool;
  /** Send the segment in outSegment, with `len` payload bytes from `queueOffset` in the send queue; says why it could not leave. */
  transmit(conn: Tcb, seg: TcpSegment, queueOffset: number, len: number): SendError;
  /** Largest segment payload toward `remote` that fits the route's MTU (no options). */
  mssFor(net: NetworkLayer, remote: IpAddress): number;
  /** Largest segment payload in a datagram of `mtu` bytes. */
  mssForMtu(net: NetworkLayer, mtu: number): number;
  /** Notifications are pending: dispatch them once the current work is done. */
  schedule(conn: Tcb): void;
  /** An ACK is owed at the end of the current batch. */
  scheduleAck(conn: Tcb): void;
  /** After a user call: dispatch and flush soon. */
  afterUserCall(conn: Tcb): void;
  /** After a timer: dispatch and send owed ACKs now. */
  afterTimer(conn?: Tcb): void;
  /** The connection reached CLOSED: forget it. */
  remove(conn: Tcb): void;
  /** Count a drop (or another event) by reason, and trace it. */
  countDrop(reason: string, conn?: { readonly id: string }): void;
  /** Take one challenge ACK from the stack's budget for this second (RFC 5961 7); false when it is spent. */
  challengeAckAllowed(): boolean;
  stateChanged(conn: Tcb, from: TcpState, to: TcpState, cause: string): void;
}

/** The MSS assumed until one is known (RFC 9293 3.7.1). */
export const DEFAULT_MSS = 536;

// What the single retransmission-class timer is doing (see timers.ts).
export const T_NONE = 0;
export const T_RTX = 1;
export const T_PERSIST = 2;
export const T_TIMEWAIT = 3;

// How soon an owed ACK must go (see ack-policy.ts): after the delayed-ACK timer,
// at the end of the current batch (after the application has read), or right away.
export const ACK_NONE = 0;
export const ACK_DELAYED = 1;
export const ACK_BATCH = 2;
export const ACK_NOW = 3;

// Notifications waiting for dispatch (bits of `pending`).
export const N_CONNECT = 1;
export const N_READABLE = 2;
export const N_WRITABLE = 4;
export const N_END = 8;
export const N_CLOSE = 16;

export abstract class Tcb {
  state: TcpState = 'CLOSED';
  handler: TcpHandler<this> | null = null;
  /** The listener this connection came from, until it is accepted. */
  listener: ConnectionOwner | null = null;
  /** Intrusive chaining in the layer's connection table. */
  nextInBucket: this | null = null;

  // Send sequence variables (RFC 9293 3.3.1).
  iss = 0;
  sndUna = 0;
  sndNxt = 0;
  /** Highest sequence number sent so far (SND.NXT falls back to SND.UNA after a timeout). */
  sndMax = 0;
  /** Send window in bytes (already scaled). */
  sndWnd = 0;
  sndWl1 = 0;
  sndWl2 = 0;
  /** Largest window the peer ever offered (RFC 9293 3.8.6.2.1, "Max(SND.WND)"). */
  maxSndWnd = 0;
  /** Sequence number just past the last byte the user queued (FIN goes here). */
  sndQueuedEnd = 0;

  // Receive sequence variables.
  irs = 0;
  rcvNxt = 0;
  /** Right edge of the window we advertised last: RCV.NXT + RCV.WND then. */
  rcvAdvertised = 0;

  /** MSS we may send (peer's option, bounded by our MTU). */
  sndMss = DEFAULT_MSS;
  /** MSS we announced. */
  rcvMss = DEFAULT_MSS;
  sndWscale = 0;
  rcvWscale = 0;
  /** Both SYNs carried the window-scale option (RFC 7323 2.2). */
  wscaleOn = false;
  tsOn = false;
  tsRecent = 0;
  /** RFC 7323 5.5: when TS.Recent was last updated. */
  tsRecentAt = 0;
  /** Per-connection offset of our timestamp clock. */
  tsOffset = 0;
  /** Our timestamp clock when we last retransmitted; older echoes give no RTT sample. */
  tsRetransmitMark = 0;
  sackOk = false;

  finQueued = false;
  finReceived = false;
  /** The user closed the read side too (close(), not just shutdown()). */
  readClosed = false;
  /** Active open (we sent the first SYN). */
  readonly active: boolean;

  // Retransmission (RFC 6298) and RTT measurement.
  readonly rto: RtoEstimator;
  /** Consecutive retransmissions of the same data (reset by progress). */
  retries = 0;
  /** Retransmission count over the connection's life. */
  retransmissions = 0;
  /** RTT timing without timestamps: one segment at a time (Karn's rule, RFC 6298 3). */
  rttSeq = 0;
  rttStart = -1;
  /** Since when data has been waiting for an acknowledgment (user timeout, RFC 5482). */
  unackedSince = -1;

  // Congestion control and loss recovery.
  cc: CongestionControl | null = null;
  dupAcks = 0;
  inRecovery = false;
  /** RFC 6582 "recover". */
  recover = 0;
  /** What the peer reported holding above SND.UNA (RFC 2018), when SACK was negotiated. */
  scoreboard: SackScoreboard | null = null;
  /** RFC 6675 HighRxt: the end of the last hole retransmitted in this recovery. */
  highRxt = 0;
  /** The first hole's retransmission: its sequence number and SND.MAX when it was sent. */
  headRtxSeq = 0;
  headRtxSndMax = 0;

  // The sender.
  readonly sendQueue: SendQueue;
  /** End of the last small segment sent (Linux snd_sml), for Nagle's test as Linux does it (Minshall). */
  sndSml = 0;
  /** Send even a small segment once (persist override). */
  persistForce = false;
  /** The user's send() was short: tell them when space opens. */
  wantWritable = false;

  // The receiver.
  readonly receiveQueue = new ReceiveQueue();
  reassembly: Reassembly | null = null;
  /** Sequence number of a FIN that arrived ahead of a hole, or -1. */
  oooFin = -1;
  /** Where the last out-of-order segment we received starts (its SACK block goes first, RFC 2018 4). */
  lastOooSeq = 0;
  /** Largest segment the peer has sent us (Linux icsk_ack.rcv_mss), for the every-second-segment rule. */
  rcvMssSeen = DEFAULT_MSS;

  // ACK policy.
  /** How urgently an ACK is owed (ACK_NONE ... ACK_NOW). */
  ackPending = ACK_NONE;
  /** Why the pending ACK is owed, for the trace. */
  ackReason = '';
  /** RCV.NXT when we last sent an ACK (Linux rcv_wup): how much is unacknowledged. */
  lastAckRcvNxt = 0;
  /** ACKs still sent at once at the start (quick-ACK mode). */
  quickAcks = 0;
  /** In the layer's queue of ACKs to send at the end of the batch. */
  ackScheduled = false;
  /** When we last answered an unacceptable segment (Linux last_oow_ack_time), for the rate limit. */
  lastOowAckAt = -Infinity;

  // Timers (see timers.ts).
  /** Retransmission, persist or TIME-WAIT: only one is ever needed at a time. */
  readonly timer: Timer;
  timerKind = T_NONE;
  delackTimer: Timer | null = null;
  keepaliveTimer: Timer | null = null;
  /** When the last segment arrived from the peer (keepalive idle time counts from here). */
  lastReceiveAt = 0;
  /** Keepalive or zero-window probes sent without an answer. */
  probesOut = 0;

  // The connection's user.
  /** Bitmask of notifications waiting for dispatch (N_*). */
  pending = 0;
  /** In the layer's dispatch queue. */
  queued = false;
  error: TcpError | null = null;
  /** The last ICMP or local send error; reported instead of ETIMEDOUT. */
  softError: TcpError | null = null;
  closedNotified = false;
  /** Our segments leave through a loopback: no TCP checksum to compute (set once, from the route). */
  checksumOffload = false;
  /** Per-connection copy of the TCP tunables, made on first change (copy on write). */
  private ownConfig: TcpConfig | null = null;
  private idString: string | null = null;

  constructor(
    readonly layer: TcpServices,
    /** The network layer of the connection's address family. */
    readonly net: NetworkLayer,
    readonly localAddr: IpAddress,
    readonly localPort: number,
    readonly remoteAddr: IpAddress,
    readonly remotePort: number,
    active: boolean,
  ) {
    this.active = active;
    const c = layer.config;
    this.rto = new RtoEstimator(c.initialRtoMs, c.minRtoMs, c.maxRtoMs);
    this.sendQueue = new SendQueue(layer.sendBlocks);
    this.timer = layer.clock.createTimer(() => this.onTimer());
  }

  /** The retransmission-class timer fired (connection.ts decides what that means). */
  protected abstract onTimer(): void;
  /** The keepalive timer fired. */
  abstract onKeepaliveTimer(): void;
  /** The delayed-ACK timer fired. */
  abstract onDelayedAckTimer(): void;

  /** Deliver pending notifications to the handler (called by the layer's dispatch). */
  abstract dispatch(): void;

  get config(): TcpConfig {
    return this.ownConfig ?? this.layer.config;
  }

  /** Change one tunable for this connection only. */
  setOption<K extends keyof TcpConfig>(key: K, value: TcpConfig[K]): void {
    if (this.ownConfig === null) this.ownConfig = { ...this.layer.config };
    this.ownConfig[key] = value;
  }

  /** "local:port-remote:port", for traces. */
  get id(): string {
    if (this.idString === null) {
      this.idString = `${this.localAddr}:${this.localPort}-${this.remoteAddr}:${this.remotePort}`;
    }
    return this.idString;
  }

  /** Bytes sent and not yet acknowledged. */
  get flightSize(): number {
    return seqDiff(this.sndMax, this.sndUna);
  }

  /** Bytes the user may still queue. */
  get sendSpace(): number {
    return Math.max(0, this.config.sendBufferBytes - this.sendQueue.length);
  }

  get isSynchronized(): boolean {
    const s = this.state;
    return s !== 'CLOSED' && s !== 'LISTEN' && s !== 'SYN-SENT' && s !== 'SYN-RECEIVED';
  }

  /** Payload bytes per segment: the MSS less the options every segment carries (the SMSS of congestion control). */
  effectiveMss(): number {
    return this.sndMss - (this.tsOn ? TS_OPTION_BYTES : 0);
  }

  /**
   * SACK blocks a segment may carry: 4, or 3 beside timestamps (the 40 bytes of
   * options, RFC 2018 3), and never so many that a data segment keeps fewer
   * than 8 bytes of payload (a small MTU).
   */
  sackBlockLimit(): number {
    return Math.max(0, Math.min(this.tsOn ? 3 : 4, Math.floor((this.effectiveMss() - SACK_OPTION_BASE_BYTES - 8) / SACK_BLOCK_BYTES)));
  }

  /** Our timestamp clock: 1 ms ticks (as Linux since 4.13), offset per connection. */
  tsNow(): number {
    return (Math.floor(this.layer.clock.now()) + this.tsOffset) >>> 0;
  }
}

/** Bytes of the timestamps option on a non-SYN segment (NOP, NOP, TS). */
export const TS_OPTION_BYTES = 12;
/** The SACK option on a segment: NOP, NOP, kind, length (RFC 2018 3), then 8 bytes per block. */
export const SACK_OPTION_BASE_BYTES = 4;
export const SACK_BLOCK_BYTES = 8;
