// One TCP connection: the transmission control block and its state machine,
// following RFC 9293 section 3.10 (event processing). Segment arrival is
// handled in the order of 3.10.7.4: sequence check, RST, SYN, ACK, text, FIN.
//
// The connection never calls user code while it is in the middle of a
// transition: it records what happened in `pending` flags and asks its layer
// to dispatch them once the current input batch, timer or call is done.

import type { Timer } from '../time/clock';
import type { TcpConfig } from '../config';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TcpSegment } from '../wire/tcp';
import type { CongestionControl } from './congestion';
import { NewReno } from './congestion';
import { TcpError } from './errors';
import { ReceiveQueue } from './receive-queue';
import { Reassembly } from './reassembly';
import { RtoEstimator } from './rto';
import { SendQueue } from './send-queue';
import { SackScoreboard } from './sack';
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt, seqMax } from './seq';
import type { TcpLayer } from './layer';
import type { TcpListener } from './listener';
import type { SendError } from '../ip/ipv4';

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
export interface TcpHandler {
  /** The handshake completed (active open). */
  onConnect?(conn: TcpConnection): void;
  /** In-order data is waiting in the receive queue. */
  onReadable?(conn: TcpConnection): void;
  /** Send-queue space opened up after a send() that did not take everything. */
  onWritable?(conn: TcpConnection): void;
  /** The peer's FIN arrived: everything it sent is in the receive queue. */
  onEnd?(conn: TcpConnection): void;
  /** The connection is finished for its user (CLOSED, or TIME-WAIT), with the error that ended it, if any. */
  onClose?(conn: TcpConnection, error: TcpError | null): void;
  /** Every state transition, with its cause. */
  onStateChange?(conn: TcpConnection, from: TcpState, to: TcpState, cause: string): void;
}

// Pending notifications, dispatched by the layer.
const N_CONNECT = 1;
const N_READABLE = 2;
const N_WRITABLE = 4;
const N_END = 8;
const N_CLOSE = 16;

// What the single retransmission-class timer is doing.
const T_NONE = 0;
const T_RTX = 1;
const T_PERSIST = 2;
const T_TIMEWAIT = 3;
const TIMER_NAMES = ['none', 'rtx', 'persist', 'time-wait'];

// How soon an owed ACK must go: after the delayed-ACK timer, at the end of the
// current batch (after the application has read), or right after this segment.
const ACK_NONE = 0;
const ACK_DELAYED = 1;
const ACK_BATCH = 2;
const ACK_NOW = 3;

/** RFC 7323 5.5: TS.Recent older than 24 days is no longer valid for PAWS. */
const PAWS_IDLE_MS = 24 * 24 * 3600 * 1000;

/** Bytes of the timestamps option on a non-SYN segment (NOP, NOP, TS). */
const TS_OPTION_BYTES = 12;
/** The SACK option on a segment: NOP, NOP, kind, length (RFC 2018 3), then 8 bytes per block. */
const SACK_OPTION_BASE_BYTES = 4;
const SACK_BLOCK_BYTES = 8;
const MAX_WINDOW_FIELD = 0xffff;

export class TcpConnection {
  state: TcpState = 'CLOSED';
  handler: TcpHandler | null = null;
  /** The listener this connection came from, until it is accepted. */
  listener: TcpListener | null = null;
  /** Intrusive chaining in the layer's connection table. */
  nextInBucket: TcpConnection | null = null;

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
  sndMss = 536;
  /** MSS we announced. */
  rcvMss = 536;
  sndWscale = 0;
  rcvWscale = 0;
  /** Both SYNs carried the window-scale option (RFC 7323 2.2). */
  wscaleOn = false;
  tsOn = false;
  tsRecent = 0;
  /** Per-connection offset of our timestamp clock. */
  tsOffset = 0;
  sackOk = false;

  finQueued = false;
  finReceived = false;
  /** The user closed the read side too (close(), not just shutdown()). */
  readClosed = false;
  /** Active open (we sent the first SYN). */
  readonly active: boolean;

  readonly rto: RtoEstimator;
  cc: CongestionControl | null = null;
  /** Consecutive retransmissions of the same data (reset by progress). */
  retries = 0;
  /** Retransmission count over the connection's life. */
  retransmissions = 0;
  /** RTT timing without timestamps: one segment at a time (Karn's rule, RFC 6298 3). */
  private rttSeq = 0;
  private rttStart = -1;
  dupAcks = 0;
  inRecovery = false;
  /** What the peer reported holding above SND.UNA (RFC 2018), when SACK was negotiated. */
  private scoreboard: SackScoreboard | null = null;
  /** RFC 6675 HighRxt: the end of the last hole retransmitted in this recovery. */
  private highRxt = 0;
  /** The first hole's retransmission: its sequence number and SND.MAX when it was sent. */
  private headRtxSeq = 0;
  private headRtxSndMax = 0;
  private readonly hole = { start: 0, end: 0 };
  /** Where the last out-of-order segment we received starts (its SACK block goes first, RFC 2018 4). */
  private lastOooSeq = 0;
  /** Our timestamp clock when we last retransmitted; older echoes give no RTT sample. */
  private tsRetransmitMark = 0;
  /** Send even a small segment once (persist override). */
  private persistForce = false;
  /** RFC 6582 "recover". */
  recover = 0;

  readonly sendQueue = new SendQueue();
  readonly receiveQueue = new ReceiveQueue();
  private reassembly: Reassembly | null = null;
  /** Sequence number of a FIN that arrived ahead of a hole, or -1. */
  private oooFin = -1;

  /** Timer for retransmission, persist and TIME-WAIT (only one is ever needed at a time). */
  private timer: Timer;
  private timerKind = T_NONE;
  /** How urgently an ACK is owed (ACK_NONE ... ACK_NOW). */
  private ackPending = ACK_NONE;
  /** Why the pending ACK is owed, for the trace. */
  private ackReason = '';
  /** RCV.NXT when we last sent an ACK (Linux rcv_wup): how much is unacknowledged. */
  private lastAckRcvNxt = 0;
  /** Largest segment the peer has sent us (Linux icsk_ack.rcv_mss), for the every-second-segment rule. */
  private rcvMssSeen = 536;
  /** ACKs still sent at once at the start (quick-ACK mode). */
  private quickAcks = 0;
  private delackTimer: Timer | null = null;
  private keepaliveTimer: Timer | null = null;
  /** When the last segment arrived from the peer (keepalive idle time counts from here). */
  private lastReceiveAt = 0;
  /** Keepalive or zero-window probes sent without an answer. */
  probesOut = 0;
  /** Since when data has been waiting for an acknowledgment (user timeout, RFC 5482). */
  private unackedSince = -1;
  /** End of the last small segment sent (Linux snd_sml), for Nagle's test as Linux does it (Minshall). */
  private sndSml = 0;
  /** RFC 7323 5.5: when TS.Recent was last updated. */
  private tsRecentAt = 0;
  /** Bitmask of notifications waiting for dispatch. */
  pending = 0;
  /** In the layer's dispatch queue. */
  queued = false;
  /** In the layer's queue of ACKs to send at the end of the batch. */
  ackScheduled = false;
  /** The user's send() was short: tell them when space opens. */
  private wantWritable = false;
  error: TcpError | null = null;
  private closedNotified = false;
  private idString: string | null = null;
  /** Our segments leave through a loopback: no TCP checksum to compute (set once, from the route). */
  checksumOffload = false;
  /** Per-connection copy of the TCP tunables, made on first change (copy on write). */
  private ownConfig: TcpConfig | null = null;

  constructor(
    readonly layer: TcpLayer,
    readonly localAddr: number,
    readonly localPort: number,
    readonly remoteAddr: number,
    readonly remotePort: number,
    active: boolean,
  ) {
    this.active = active;
    const c = layer.config;
    this.rto = new RtoEstimator(c.initialRtoMs, c.minRtoMs, c.maxRtoMs);
    this.checksumOffload = layer.host.checksumOffloadTo(remoteAddr);
    this.timer = layer.clock.createTimer(() => this.onTimer());
  }

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
      this.idString = `${this.layer.formatAddress(this.localAddr)}:${this.localPort}-${this.layer.formatAddress(this.remoteAddr)}:${this.remotePort}`;
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

  // ---------------------------------------------------------------- user calls

  /** Active open (RFC 9293 3.10.1, OPEN call in CLOSED state). */
  open(iss: number): void {
    this.iss = iss;
    this.sndUna = iss;
    this.sndNxt = seqAdd(iss, 1);
    this.sndMax = this.sndNxt;
    this.sndQueuedEnd = this.sndNxt;
    this.recover = iss; // RFC 6582 3.2 step 1
    this.setState('SYN-SENT', 'connect');
    this.sendSyn();
    this.armRtx();
  }

  /** Passive open from a listener that received `syn` (RFC 9293 3.10.7.2, LISTEN state, "third check for a SYN"). */
  acceptSyn(syn: TcpSegment, iss: number, listener: TcpListener): void {
    this.listener = listener;
    this.irs = syn.seq;
    this.rcvNxt = seqAdd(syn.seq, 1);
    this.iss = iss;
    this.sndUna = iss;
    this.sndNxt = seqAdd(iss, 1);
    this.sndMax = this.sndNxt;
    this.sndQueuedEnd = this.sndNxt;
    this.recover = iss; // RFC 6582 3.2 step 1
    this.takeSynOptions(syn);
    this.sndWnd = syn.window; // never scaled in a SYN (RFC 7323 2.2)
    this.maxSndWnd = this.sndWnd;
    this.sndWl1 = syn.seq;
    this.sndWl2 = iss;
    this.setState('SYN-RECEIVED', 'SYN received');
    this.sendSyn();
    this.armRtx();
  }

  /** Queue data; returns how many bytes were taken (the rest must wait for onWritable). */
  send(data: Uint8Array): number {
    if (this.finQueued || !this.canSendState()) throw new TcpError('EPIPE', 'send after shutdown or close');
    const space = this.sendSpace;
    const n = Math.min(space, data.length);
    if (n < data.length) this.wantWritable = true;
    if (n === 0) return 0;
    this.sendQueue.push(n === data.length ? data : data.subarray(0, n));
    this.sndQueuedEnd = seqAdd(this.sndQueuedEnd, n);
    if (this.isSynchronized) this.output();
    this.layer.afterUserCall(this);
    return n;
  }

  /** Take received data (at most `max` bytes of the next chunk); reading opens the window. */
  read(max?: number): Uint8Array | null {
    const queuedBefore = this.receiveQueue.length;
    const chunk = this.receiveQueue.read(max);
    if (chunk !== null && this.isSynchronized) this.maybeWindowUpdate(queuedBefore);
    return chunk;
  }

  get readableLength(): number {
    return this.receiveQueue.length;
  }

  /** Half-close: FIN after everything queued (RFC 9293 3.10.4, CLOSE call). */
  shutdown(): void {
    if (this.finQueued) return;
    switch (this.state) {
      case 'SYN-SENT':
      case 'SYN-RECEIVED':
        // Queued until the handshake completes (3.10.4: "queue for processing after entering ESTABLISHED").
        this.finQueued = true;
        return;
      case 'ESTABLISHED':
        this.finQueued = true;
        this.setState('FIN-WAIT-1', 'shutdown');
        break;
      case 'CLOSE-WAIT':
        this.finQueued = true;
        this.setState('LAST-ACK', 'shutdown');
        break;
      default:
        return;
    }
    this.output();
    this.layer.afterUserCall(this);
  }

  /**
   * Full close. As Linux's close(): with unread data the connection is reset
   * (RFC 2525 2.17); otherwise FIN, and data that arrives later is answered with RST.
   */
  close(): void {
    this.readClosed = true;
    if (this.state === 'CLOSED' || this.state === 'TIME-WAIT') return;
    if (this.state === 'SYN-SENT') {
      this.enterClosed('close in SYN-SENT', null);
      this.layer.afterUserCall(this);
      return;
    }
    if (this.receiveQueue.length > 0 || (this.reassembly !== null && this.reassembly.bytes > 0)) {
      this.abort();
      return;
    }
    this.shutdown();
  }

  /** Reset the connection (RFC 9293 3.10.5, ABORT call). */
  abort(): void {
    const s = this.state;
    if (s === 'CLOSED') return;
    if (s === 'SYN-RECEIVED' || s === 'ESTABLISHED' || s === 'FIN-WAIT-1' || s === 'FIN-WAIT-2' || s === 'CLOSE-WAIT') {
      this.sendControl(TCP_RST | TCP_ACK, this.acceptableSeq());
    }
    this.receiveQueue.clear();
    this.enterClosed('abort', null);
    this.layer.afterUserCall(this);
  }

  // ---------------------------------------------------------------- input

  /** A segment for this connection (RFC 9293 3.10.7.3 and 3.10.7.4). `buf` holds its payload. */
  segmentArrives(seg: TcpSegment, buf: Uint8Array): void {
    if (this.state === 'SYN-SENT') {
      this.synSentArrives(seg);
      this.output();
      return;
    }
    if (this.state === 'CLOSED') return;

    let seq = seg.seq;
    let len = seg.payloadLength;
    let flags = seg.flags;
    let payloadOffset = seg.payloadOffset;
    const segLen = len + (flags & TCP_SYN ? 1 : 0) + (flags & TCP_FIN ? 1 : 0);

    this.lastReceiveAt = this.layer.clock.now();
    // PAWS (RFC 7323 5.3 R1): a segment whose timestamp is older than TS.Recent is a
    // duplicate from an earlier incarnation of the sequence space: ACK it and drop it.
    if (this.tsOn && seg.hasTimestamps && !(flags & TCP_RST) && this.isSynchronized
      && seqLt(seg.tsVal, this.tsRecent)) {
      if (this.lastReceiveAt - this.tsRecentAt <= PAWS_IDLE_MS) {
        this.requestAck(ACK_NOW, 'PAWS: old timestamp');
        this.output();
        this.layer.countDrop('tcp-paws', this);
        return;
      }
      this.tsRecent = seg.tsVal; // RFC 7323 5.5: TS.Recent too old to judge by
    }

    // First, check the sequence number (3.10.7.4, the four acceptability cases).
    const rcvWnd = Math.max(seqDiff(this.rcvAdvertised, this.rcvNxt), 0);
    if (this.state === 'SYN-RECEIVED' && (flags & TCP_SYN) && !(flags & TCP_ACK) && seq === this.irs) {
      // A retransmitted SYN: our SYN-ACK was lost; send it again.
      this.sendSyn();
      return;
    }
    if (!this.acceptable(seq, segLen, rcvWnd)) {
      if (!(flags & TCP_RST)) {
        if (this.state === 'TIME-WAIT' && (flags & TCP_FIN)) this.startTimeWait(); // retransmitted FIN
        // Unacceptable: answer with an ACK at once (3.10.7.4); this is also how keepalive
        // and zero-window probes (SEG.SEQ = RCV.NXT - 1) get their answer.
        this.requestAck(ACK_NOW, segLen === 0 || seqLt(seq, this.rcvNxt) ? 'duplicate or probe' : 'outside the window');
        this.output();
      }
      this.layer.countDrop('tcp-out-of-window', this);
      return;
    }
    // Trim to the window: drop what is before RCV.NXT ...
    if (seqLt(seq, this.rcvNxt)) {
      let over = seqDiff(this.rcvNxt, seq);
      if (flags & TCP_SYN) {
        flags &= ~TCP_SYN;
        over--;
        seq = seqAdd(seq, 1);
      }
      const cut = Math.min(over, len);
      payloadOffset += cut;
      len -= cut;
      seq = seqAdd(seq, cut);
      if (over > cut && (flags & TCP_FIN)) flags &= ~TCP_FIN; // FIN already received
    }
    // ... and what lies beyond its right edge (with the FIN, if it is cut).
    const beyond = seqDiff(seqAdd(seq, len), seqAdd(this.rcvNxt, rcvWnd));
    if (beyond > 0) {
      len = Math.max(0, len - beyond);
      flags &= ~TCP_FIN;
    }

    // Second, the RST bit (3.10.7.4 second; RFC 5961 3.2 against blind resets).
    if (flags & TCP_RST) {
      if (seq !== this.rcvNxt) {
        this.requestAck(ACK_NOW, 'challenge ACK (RFC 5961)');
        this.output();
        return;
      }
      this.resetArrives();
      return;
    }

    // Fourth, the SYN bit: in a synchronized state answer with a challenge ACK (RFC 5961 4.2).
    if (flags & TCP_SYN) {
      this.requestAck(ACK_NOW, 'challenge ACK for SYN (RFC 5961)');
      this.output();
      return;
    }

    // Fifth, the ACK field.
    if (!(flags & TCP_ACK)) return;
    if (this.state === 'SYN-RECEIVED') {
      if (seqLt(this.sndUna, seg.ack) && seqLe(seg.ack, this.sndMax)) {
        this.sndWnd = seg.window << this.sndWscale;
        this.maxSndWnd = Math.max(this.maxSndWnd, this.sndWnd);
        this.sndWl1 = seg.seq;
        this.sndWl2 = seg.ack;
        this.establish('ACK of SYN-ACK');
      } else {
        this.sendControl(TCP_RST, seg.ack);
        return;
      }
    }
    if (!this.processAck(seg, seq, flags)) return;
    if ((this.state as TcpState) === 'CLOSED') return;

    // Seventh, the segment text.
    if (len > 0) {
      if (this.state === 'ESTABLISHED' || this.state === 'FIN-WAIT-1' || this.state === 'FIN-WAIT-2') {
        if (this.readClosed) {
          // Data for a socket the user has closed: Linux answers with RST (tcp_rcv_state_process).
          this.sendControl(TCP_RST | TCP_ACK, this.acceptableSeq());
          this.enterClosed('data after close', null);
          return;
        }
        this.receiveText(seq, buf.subarray(payloadOffset, payloadOffset + len), flags);
      }
      // CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT: the peer already sent FIN; ignore the text.
    }

    // Eighth, the FIN bit.
    if (flags & TCP_FIN) {
      const finSeq = seqAdd(seq, len);
      if (finSeq === this.rcvNxt) this.finArrives();
      else if (seqGt(finSeq, this.rcvNxt)) this.oooFin = finSeq;
    }
    this.output();
  }

  private acceptable(seq: number, segLen: number, rcvWnd: number): boolean {
    const nxt = this.rcvNxt;
    if (segLen === 0) {
      if (rcvWnd === 0) return seq === nxt;
      return seqGe(seq, nxt) && seqLt(seq, seqAdd(nxt, rcvWnd));
    }
    if (rcvWnd === 0) return false;
    const last = seqAdd(seq, segLen - 1);
    const end = seqAdd(nxt, rcvWnd);
    return (seqGe(seq, nxt) && seqLt(seq, end)) || (seqGe(last, nxt) && seqLt(last, end));
  }

  /** SYN-SENT (3.10.7.3). */
  private synSentArrives(seg: TcpSegment): void {
    const flags = seg.flags;
    // First, the ACK bit.
    if (flags & TCP_ACK) {
      if (seqLe(seg.ack, this.iss) || seqGt(seg.ack, this.sndMax)) {
        if (!(flags & TCP_RST)) this.sendControl(TCP_RST, seg.ack);
        this.layer.countDrop('tcp-bad-ack-in-syn-sent', this);
        return;
      }
    }
    // Second, the RST bit: with an acceptable ACK the peer refused us.
    if (flags & TCP_RST) {
      if (flags & TCP_ACK) this.enterClosed('RST in SYN-SENT', new TcpError('ECONNREFUSED', 'connection refused'));
      return;
    }
    // Fourth, the SYN bit.
    if (!(flags & TCP_SYN)) return;
    this.irs = seg.seq;
    this.rcvNxt = seqAdd(seg.seq, 1);
    // Our SYN's window was unscaled and counted from an unknown RCV.NXT: restart the edge here.
    this.rcvAdvertised = seqAdd(this.rcvNxt, Math.min(MAX_WINDOW_FIELD, this.config.receiveBufferBytes));
    this.takeSynOptions(seg);
    this.sndWnd = seg.window;
    this.maxSndWnd = this.sndWnd;
    this.sndWl1 = seg.seq;
    this.sndWl2 = seg.ack;
    if (flags & TCP_ACK) {
      this.sndUna = seg.ack;
      if (this.rttStart >= 0 && this.retries === 0) this.rto.sample(this.layer.clock.now() - this.rttStart);
      this.rttStart = -1;
      this.retries = 0;
      this.rto.backoff = 0;
      this.stopTimer();
      this.requestAck(ACK_NOW, 'SYN-ACK');
      this.establish('SYN-ACK received');
      if (this.finQueued) this.setState('FIN-WAIT-1', 'queued shutdown');
    } else {
      // Simultaneous open (3.10.7.3, "Otherwise enter SYN-RECEIVED").
      this.setState('SYN-RECEIVED', 'SYN received in SYN-SENT');
      this.sendSyn();
      this.armRtx();
    }
  }

  private takeSynOptions(seg: TcpSegment): void {
    const c = this.config;
    const peerMss = seg.mss >= 0 ? seg.mss : c.defaultPeerMss; // RFC 9293 3.7.1: 536 when absent
    this.rcvMss = this.layer.mssFor(this.remoteAddr);
    this.sndMss = Math.max(Math.min(peerMss, this.rcvMss), 64);
    // Window scaling only when both sides sent the option (RFC 7323 2.2).
    if (c.windowScaling && seg.windowScale >= 0) {
      this.wscaleOn = true;
      this.sndWscale = Math.min(seg.windowScale, 14);
      this.rcvWscale = this.windowScaleFor(c.receiveBufferBytes);
    } else {
      this.sndWscale = 0;
      this.rcvWscale = 0;
    }
    if (c.timestamps && seg.hasTimestamps) {
      this.tsOn = true;
      this.tsRecent = seg.tsVal;
      this.tsRecentAt = this.layer.clock.now();
      this.tsRetransmitMark = this.tsNow();
    }
    this.sackOk = c.sack && seg.sackPermitted;
  }

  private windowScaleFor(buffer: number): number {
    let s = 0;
    while (s < 14 && MAX_WINDOW_FIELD << s < buffer) s++;
    return s;
  }

  private establish(cause: string): void {
    this.cc = new NewReno(this.config.initialCwndSegments, this.effectiveMss());
    this.quickAcks = this.config.quickAckSegments;
    this.lastReceiveAt = this.layer.clock.now();
    this.setState('ESTABLISHED', cause);
    if (this.config.keepAlive) this.armKeepalive();
    if (this.active) this.pending |= N_CONNECT;
    else if (this.listener !== null) this.listener.established(this);
    this.layer.schedule(this);
  }

  private resetArrives(): void {
    switch (this.state) {
      case 'SYN-RECEIVED':
        // Passive open goes back to LISTEN quietly; an active one was refused (3.10.7.4 second).
        this.enterClosed('RST in SYN-RECEIVED', this.active ? new TcpError('ECONNREFUSED', 'connection refused') : null);
        return;
      case 'ESTABLISHED':
      case 'FIN-WAIT-1':
      case 'FIN-WAIT-2':
      case 'CLOSE-WAIT':
        this.receiveQueue.clear();
        this.enterClosed('RST received', new TcpError('ECONNRESET', 'connection reset by peer'));
        return;
      default:
        this.enterClosed('RST received', null);
    }
  }

  /** Fifth check (3.10.7.4): returns false when the segment is to be dropped. */
  private processAck(seg: TcpSegment, seq: number, flags: number): boolean {
    const ack = seg.ack;
    if (seqGt(ack, this.sndMax)) {
      // Acknowledges something not yet sent: ACK and drop (RFC 9293, RFC 5961 5.2).
      this.requestAck(ACK_NOW, 'ACK of unsent data');
      this.output();
      return false;
    }
    const acked = seqDiff(ack, this.sndUna);
    let newlySacked = 0;
    if (this.sackOk && seg.sackCount > 0 && this.flightSize > 0) {
      if (this.scoreboard === null) this.scoreboard = new SackScoreboard();
      for (let i = 0; i < seg.sackCount; i++) {
        newlySacked += this.scoreboard.add(seg.sackBlocks[2 * i], seg.sackBlocks[2 * i + 1], this.sndUna, this.sndMax);
      }
    }
    if (newlySacked > 0 && this.inRecovery && this.scoreboard !== null && this.headRtxSeq === this.sndUna
      && seqGt(this.scoreboard.highest(this.sndUna), this.headRtxSndMax) && seqGt(this.highRxt, this.sndUna)) {
      // Data sent after our retransmission of the first hole has arrived, but the hole
      // has not: the retransmission was lost too (the idea of RACK, RFC 8985). Repair
      // the holes again instead of waiting for the retransmission timer.
      this.highRxt = this.sndUna;
      this.headRtxSndMax = this.sndMax;
      this.layer.countDrop('tcp-lost-retransmission', this);
    }
    if (acked > 0) {
      this.ackAdvances(ack, acked, seg);
    } else if (acked === 0 && this.flightSize > 0 && (this.sackOk
      ? newlySacked > 0 // RFC 6675 2: a duplicate ACK is one that SACKs new data
      : seg.payloadLength === 0 && !(flags & (TCP_SYN | TCP_FIN)) && (seg.window << this.sndWscale) === this.sndWnd)) {
      this.duplicateAck();
    }
    // Update the send window (3.10.7.4 fifth, SND.WL1/SND.WL2 rule).
    if (seqGe(ack, this.sndUna) && (seqLt(this.sndWl1, seq) || (this.sndWl1 === seq && seqLe(this.sndWl2, ack)))) {
      const wnd = seg.window << this.sndWscale;
      const opened = wnd > this.sndWnd;
      if (wnd !== this.sndWnd && this.layer.host.tracer.enabled) {
        this.layer.traceWindow(this, 'send', wnd, wnd === 0 ? 'peer advertised a zero window' : 'peer window changed');
      }
      this.sndWnd = wnd;
      if (wnd > this.maxSndWnd) this.maxSndWnd = wnd;
      this.sndWl1 = seq;
      this.sndWl2 = ack;
      if (opened && this.timerKind === T_PERSIST && wnd > 0) {
        this.stopTimer();
        this.rto.backoff = 0;
      }
    }
    if (this.tsOn && seg.hasTimestamps && seqLe(seq, this.lastAckRcvNxt) && seqGe(seg.tsVal, this.tsRecent)) {
      this.tsRecent = seg.tsVal; // RFC 7323 4.3 (SEG.SEQ <= Last.ACK.sent)
      this.tsRecentAt = this.lastReceiveAt;
    }
    this.probesOut = 0; // any ACK answers our probes (Linux tcp_ack)

    // State-specific parts of the fifth check.
    const finAcked = this.finQueued && this.sndUna === seqAdd(this.sndQueuedEnd, 1);
    switch (this.state) {
      case 'FIN-WAIT-1':
        if (finAcked) this.setState('FIN-WAIT-2', 'ACK of FIN');
        break;
      case 'CLOSING':
        if (finAcked) this.startTimeWait('ACK of FIN');
        else this.output(); // data queued before our FIN may still be waiting for this window
        return false;
      case 'LAST-ACK':
        if (finAcked) this.enterClosed('ACK of FIN', null);
        else this.output();
        return false;
      case 'TIME-WAIT':
        break;
      default:
        break;
    }
    return true;
  }

  private ackAdvances(ack: number, acked: number, seg: TcpSegment): void {
    const now = this.layer.clock.now();
    // RTT sample: from the echoed timestamp (RFC 7323 4.1), else from the timed segment (Karn, RFC 6298 3).
    if (this.tsOn && seg.hasTimestamps && seg.tsEcr !== 0) {
      // Karn's rule for timestamps: an echo older than our latest retransmission may be the
      // original's, whose ACK was lost (the peer drops the duplicate before recording its
      // TSval, RFC 7323 5.3 R2/R3), and would count the whole backoff as round-trip time.
      const rtt = ((this.tsNow() - seg.tsEcr) >>> 0);
      if (rtt < 0x7fffffff && seqGe(seg.tsEcr, this.tsRetransmitMark)) this.rttSample(rtt);
    } else if (this.rttStart >= 0 && seqGe(ack, this.rttSeq)) {
      this.rttSample(now - this.rttStart);
      this.rttStart = -1;
    }
    // Data bytes acknowledged (a FIN occupies one sequence number but no queue byte).
    const dataStart = this.sndUna === this.iss ? seqAdd(this.iss, 1) : this.sndUna;
    const dataAcked = Math.max(0, seqDiff(seqLt(ack, this.sndQueuedEnd) ? ack : this.sndQueuedEnd, dataStart));
    if (dataAcked > 0) this.sendQueue.shift(dataAcked);
    this.sndUna = ack;
    if (seqLt(this.sndNxt, ack)) this.sndNxt = ack; // after go-back-N, the receiver had more than we resent
    this.scoreboard?.advance(ack);
    this.retries = 0;
    this.dupAcks = 0;
    this.unackedSince = this.flightSize > 0 ? this.layer.clock.now() : -1;

    const cc = this.cc;
    const mss = this.effectiveMss();
    if (cc !== null) {
      if (this.inRecovery) {
        if (seqGe(ack, this.recover)) {
          this.inRecovery = false;
          cc.onExitRecovery(this.flightSize, mss);
          this.layer.traceCwnd(this, 'recovery complete');
        } else if (this.sackOk) {
          // RFC 6675: no deflation; the pipe decides what may be sent (output runs below).
        } else {
          // Partial ACK (RFC 6582 3.2 step 5): retransmit the next hole at once.
          cc.onPartialAck(acked, mss);
          this.retransmitHead('partial ACK');
        }
      } else {
        const before = cc.cwnd;
        cc.onAck(dataAcked, mss);
        if (cc.cwnd !== before && this.layer.host.tracer.enabled) {
          this.layer.traceCwnd(this, cc.cwnd < cc.ssthresh ? 'slow start' : 'congestion avoidance');
        }
      }
    }
    // Restart the retransmission timer while data is outstanding (RFC 6298 5.3), else stop it (5.2).
    if (this.flightSize > 0) this.armRtx();
    else if (this.timerKind === T_RTX) this.stopTimer();
    if (this.wantWritable && this.sendSpace > 0) {
      this.wantWritable = false;
      this.pending |= N_WRITABLE;
      this.layer.schedule(this);
    }
  }

  private duplicateAck(): void {
    // RFC 5681 3.2: the third duplicate ACK triggers fast retransmit and fast recovery.
    this.dupAcks++;
    const cc = this.cc;
    if (cc === null) return;
    const mss = this.effectiveMss();
    if (this.inRecovery) {
      if (!this.sackOk) cc.onDupAckInRecovery(mss);
      return;
    }
    if (this.dupAcks <= 2 && this.sendQueue.length > seqDiff(this.sndNxt, this.sndUna)) {
      // Limited transmit (RFC 3042): each of the first two duplicate ACKs lets one new
      // segment out beyond cwnd, so a small window still draws the third one.
      this.sendData(seqDiff(this.sndNxt, this.sndUna) + mss);
    }
    // With SACK, also when the peer holds DupThresh segments' worth above SND.UNA (RFC 6675 5, IsLost).
    const lost = this.dupAcks >= 3 || (this.scoreboard !== null && this.scoreboard.sacked >= 3 * mss);
    if (lost && seqGt(this.sndUna, this.recover)) {
      // RFC 6582 3.2 step 2: only when the ACK covers more than "recover".
      this.recover = this.sndMax;
      this.inRecovery = true;
      cc.onEnterRecovery(this.flightSize, mss);
      if (this.sackOk) cc.cwnd = cc.ssthresh; // RFC 6675 5 step 4: cwnd = ssthresh, the pipe does the rest
      this.layer.traceCwnd(this, 'fast retransmit');
      this.highRxt = this.sndUna;
      this.headRtxSeq = this.sndUna;
      this.headRtxSndMax = this.sndMax;
      const len = this.retransmitAt(this.sndUna, this.dupAcks >= 3 ? 'third duplicate ACK' : 'SACKed data above a hole');
      if (this.sackOk) this.highRxt = seqAdd(this.sndUna, len);
      this.armRtx();
    }
    // Otherwise the duplicates are for data sent before the last recovery: no new reduction (RFC 6582 3.2 step 2).
  }

  private rttSample(rtt: number): void {
    this.rto.sample(rtt);
    // Karn: the backed-off timeout stays until a valid sample (RFC 6298 5.7 note; Linux tcp_ack_update_rtt).
    this.rto.backoff = 0;
    this.layer.traceRtt(this, rtt);
  }

  private receiveText(seq: number, data: Uint8Array, flags: number): void {
    if (seq === this.rcvNxt) {
      this.receiveQueue.push(data);
      this.rcvNxt = seqAdd(this.rcvNxt, data.length);
      const r = this.reassembly;
      const filledHole = r !== null && r.count > 0;
      if (r !== null && r.count > 0) {
        let piece: Uint8Array | null;
        while ((piece = r.take(this.rcvNxt)) !== null) {
          this.receiveQueue.push(piece);
          this.rcvNxt = seqAdd(this.rcvNxt, piece.length);
        }
        if (this.oooFin >= 0 && this.oooFin === this.rcvNxt) {
          this.oooFin = -1;
          this.finArrives();
        }
      }
      this.pending |= N_READABLE;
      this.layer.schedule(this);
      if (data.length > this.rcvMssSeen) this.rcvMssSeen = Math.min(data.length, this.rcvMss);
      const c = this.config;
      if (filledHole) this.requestAck(ACK_NOW, 'segment filled a hole'); // RFC 5681 4.2
      else if (!c.delayedAck) this.requestAck(ACK_NOW, 'delayed ACK off');
      else if (this.quickAcks > 0) this.requestAck(ACK_NOW, 'quick ACK at connection start');
      else if (seqDiff(this.rcvNxt, this.lastAckRcvNxt) > this.rcvMssSeen) {
        this.requestAck(ACK_NOW, 'second full-sized segment'); // RFC 1122 4.2.3.2, RFC 5681 4.2
      } else this.requestAck(ACK_DELAYED, 'delayed ACK');
    } else {
      if (this.reassembly === null) this.reassembly = new Reassembly(this.config.reassemblyLimitBytes);
      if (!this.reassembly.insert(seq, data)) this.layer.countDrop('tcp-reassembly-full', this);
      this.lastOooSeq = seq;
      // Out-of-order: a duplicate ACK at once, so the sender can fast-retransmit (RFC 5681 4.2).
      this.requestAck(ACK_NOW, 'out-of-order segment');
    }
    void flags;
  }

  private finArrives(): void {
    // Eighth, check the FIN bit (3.10.7.4).
    this.finReceived = true;
    this.rcvNxt = seqAdd(this.rcvNxt, 1);
    // In ESTABLISHED the ACK of a FIN is delayed, so the application's own FIN can ride
    // with it (Linux enters pingpong mode here); in the closing states it goes at once.
    this.requestAck(this.state === 'ESTABLISHED' && this.config.delayedAck ? ACK_DELAYED : ACK_NOW, 'FIN');
    this.pending |= N_END;
    this.layer.schedule(this);
    switch (this.state) {
      case 'SYN-RECEIVED':
      case 'ESTABLISHED':
        this.setState('CLOSE-WAIT', 'FIN received');
        break;
      case 'FIN-WAIT-1':
        // Had our FIN been acknowledged by this segment, the ACK check moved us to FIN-WAIT-2.
        this.setState('CLOSING', 'FIN received');
        break;
      case 'FIN-WAIT-2':
        this.startTimeWait('FIN received');
        break;
      case 'TIME-WAIT':
        this.startTimeWait();
        break;
      default:
        break;
    }
  }

  // ---------------------------------------------------------------- output

  /**
   * Send what the windows allow. An ACK still owed afterwards is sent at the end
   * of the current batch, after the application has read, so that one ACK
   * carries the freshest window instead of an ACK and a window update.
   */
  output(): void {
    const s = this.state;
    if (s === 'ESTABLISHED' || s === 'CLOSE-WAIT' || s === 'FIN-WAIT-1' || s === 'CLOSING' || s === 'LAST-ACK') {
      this.sendData();
    }
    // Data segments carry the ACK; what is still owed goes as the urgency says.
    const a = this.ackPending;
    if (a === ACK_NONE) return;
    if (s === 'CLOSED' || s === 'SYN-SENT' || s === 'LISTEN') {
      this.ackPending = ACK_NONE;
      return;
    }
    if (a === ACK_NOW) {
      this.layer.traceAck(this, 'immediate', this.ackReason);
      this.sendControl(TCP_ACK, this.acceptableSeq());
    } else if (a === ACK_BATCH) {
      this.layer.scheduleAck(this);
    } else {
      this.armDelayedAck();
    }
  }

  /** Owe the peer an ACK, at least this urgently. */
  private requestAck(level: number, reason: string): void {
    if (level > this.ackPending) {
      this.ackPending = level;
      this.ackReason = reason;
    }
  }

  /** Called by the layer at the end of a batch: send the ACK still owed, if any. */
  flushAck(): void {
    this.ackScheduled = false;
    const s = this.state;
    if (this.ackPending >= ACK_BATCH && s !== 'CLOSED' && s !== 'SYN-SENT' && s !== 'LISTEN') {
      this.sendControl(TCP_ACK, this.acceptableSeq());
    }
  }

  private armDelayedAck(): void {
    if (this.delackTimer === null) this.delackTimer = this.layer.clock.createTimer(() => this.onDelayedAck());
    if (this.delackTimer.armed) return;
    const ms = this.config.delayedAckMs;
    this.delackTimer.start(ms);
    this.layer.traceAck(this, 'delayed', this.ackReason, ms);
    this.layer.traceTimer(this, 'delack', 'set', this.delackTimer.deadline);
  }

  private onDelayedAck(): void {
    this.layer.traceTimer(this, 'delack', 'fired');
    if (this.ackPending !== ACK_NONE && this.state !== 'CLOSED') this.sendControl(TCP_ACK, this.acceptableSeq());
    this.layer.afterTimer(this);
  }

  private sendData(cwndOverride = -1): void {
    if (cwndOverride < 0 && this.inRecovery && this.sackOk && this.cc !== null) {
      this.sackRecoverySend();
      return;
    }
    const mss = this.segmentMss();
    const cwnd = cwndOverride >= 0 ? cwndOverride : this.cc !== null ? this.cc.cwnd : Infinity;
    for (;;) {
      if (this.scoreboard !== null && seqLt(this.sndNxt, this.sndMax)) {
        // Going back after a timeout: what the peer SACKed need not be sent again.
        const covered = this.scoreboard.coveredUntil(this.sndNxt);
        if (covered >= 0) {
          this.sndNxt = covered;
          continue;
        }
      }
      const sentData = Math.max(0, seqDiff(this.sndNxt, this.sndUna));
      const queued = this.sendQueue.length;
      const unsent = queued - Math.min(sentData, queued);
      const finPending = this.finQueued && seqLe(this.sndNxt, this.sndQueuedEnd);
      if (unsent === 0 && !finPending) break;
      const window = Math.min(this.sndWnd, cwnd);
      const inFlight = seqDiff(this.sndNxt, this.sndUna);
      const usable = window - inFlight;
      let len = Math.min(unsent, mss, Math.max(0, usable));
      if (unsent > 0 && len < unsent && len < mss && !this.persistForce) {
        // Sender-side silly window avoidance (RFC 9293 3.8.6.2.1): send only a full
        // segment, all remaining data, or at least half the largest window offered.
        if (len === 0 || len < this.maxSndWnd / 2) {
          if (this.sndWnd === 0 || (inFlight === 0 && usable < mss)) this.armPersist();
          break;
        }
      }
      const withFin = finPending && len === unsent;
      if (len === 0 && !withFin) break;
      // Nagle (RFC 896, RFC 1122 4.2.3.4) as Linux applies it (Minshall's variant,
      // tcp_nagle_check): a partial segment waits while an earlier small segment is
      // unacknowledged. Full segments, the FIN, and retransmissions never wait.
      if (len < mss && !withFin && !finPending && !this.config.noDelay && inFlight > 0
        && seqGe(this.sndNxt, this.sndMax) && seqGt(this.sndSml, this.sndUna) && seqLe(this.sndSml, this.sndNxt)) {
        this.layer.traceNagle(this, len, inFlight);
        break;
      }
      this.persistForce = false;
      if (this.unackedSince < 0) this.unackedSince = this.layer.clock.now();
      const err = this.sendSegment(this.sndNxt, len, withFin, false);
      if (err !== null) {
        // Nothing left: SND.NXT stays. Too large for a smaller MTU: segment again at the
        // new size; no route: the retransmission timer tries again (Linux tcp_write_xmit).
        if (err === 'EMSGSIZE' && this.mtuShrank()) continue;
        if (this.timerKind !== T_RTX) this.armRtx();
        break;
      }
      this.sndNxt = seqAdd(this.sndNxt, len + (withFin ? 1 : 0));
      if (len < mss) this.sndSml = this.sndNxt;
      if (seqGt(this.sndNxt, this.sndMax)) this.sndMax = this.sndNxt;
      if (this.timerKind !== T_RTX) this.armRtx();
      if (withFin) break;
    }
  }

  /** Data (and maybe FIN) from `seq`; marks retransmissions for Karn's rule and the trace. */
  private sendSegment(seq: number, len: number, fin: boolean, retransmit: boolean): SendError {
    const now = this.layer.clock.now();
    if (retransmit || seqLt(seq, this.sndMax)) {
      this.retransmissions++;
      this.tsRetransmitMark = this.tsNow();
      if (this.rttStart >= 0) this.rttStart = -1; // Karn: no sample from a retransmitted segment
    } else if (this.rttStart < 0 && !this.tsOn) {
      this.rttSeq = seqAdd(seq, len);
      this.rttStart = now;
    }
    let flags = TCP_ACK;
    if (fin) flags |= TCP_FIN;
    if (len > 0 && seqAdd(seq, len) === this.sndQueuedEnd) flags |= TCP_PSH;
    const err = this.emit(flags, seq, len, seqDiff(seq, this.sndUna));
    // Linux's ip_queue_xmit answers EHOSTUNREACH without a route; a later timeout names it.
    if (err === 'EHOSTUNREACH' && this.softError === null) this.softError = new TcpError('EHOSTUNREACH', 'no route to host');
    return err;
  }

  /**
   * Our own segment did not fit the interface's MTU (it shrank after the
   * handshake): take the MSS from the route again, as Linux's tcp_mtu_reduced
   * does on the local "fragmentation needed". Returns whether the MSS shrank.
   */
  private mtuShrank(): boolean {
    const mss = Math.min(this.sndMss, this.layer.mssFor(this.remoteAddr));
    if (mss >= this.sndMss) return false;
    this.sndMss = mss;
    this.layer.countDrop('tcp-mss-reduced', this);
    return true;
  }

  /** Retransmit the first unacknowledged segment without moving SND.NXT (fast retransmit, partial ACK). */
  private retransmitHead(reason: string): void {
    this.retransmitAt(this.sndUna, reason);
  }

  /** Retransmit one segment's worth from `seq` (at most to the next SACKed range) without moving SND.NXT. */
  private retransmitAt(seq: number, reason: string, maxLen = this.segmentMss()): number {
    const offset = seqDiff(seq, this.sndUna);
    const queuedData = this.sendQueue.length - offset;
    const len = Math.max(0, Math.min(maxLen, queuedData));
    const fin = this.finQueued && len === queuedData && seqGt(this.sndMax, this.sndQueuedEnd);
    if (len === 0 && !fin) return 0;
    this.layer.traceRetransmit(this, seq, len, reason);
    if (this.sendSegment(seq, len, fin, true) === 'EMSGSIZE' && this.mtuShrank()) return this.retransmitAt(seq, reason, Math.min(maxLen, this.segmentMss()));
    return len;
  }

  /**
   * Loss recovery with SACK (RFC 6675 5, simplified): while cwnd - pipe allows a
   * segment, retransmit the next hole below the highest SACKed byte, else send new data.
   */
  private sackRecoverySend(): void {
    const cc = this.cc as CongestionControl;
    const sb = this.scoreboard;
    const mss = this.effectiveMss();
    for (let guard = 0; guard < 4096; guard++) {
      const pipe = this.pipe();
      if (cc.cwnd - pipe < mss) return;
      const from = seqGt(this.highRxt, this.sndUna) ? this.highRxt : this.sndUna;
      if (sb !== null && sb.nextHole(from, this.hole)) {
        const len = this.retransmitAt(this.hole.start, 'SACK hole', Math.min(this.segmentMss(), seqDiff(this.hole.end, this.hole.start)));
        if (len === 0) return;
        if (this.hole.start === this.sndUna) {
          this.headRtxSeq = this.sndUna;
          this.headRtxSndMax = this.sndMax;
        }
        this.highRxt = seqAdd(this.hole.start, len);
        continue;
      }
      // No hole left to repair: new data, as much as cwnd - pipe allows (rule 2).
      const before = this.sndNxt;
      this.sendData(seqDiff(this.sndNxt, this.sndUna) + (cc.cwnd - pipe));
      if (this.sndNxt === before) return;
    }
  }

  /** RFC 6675 "pipe": bytes in the network: above the highest SACKed byte, plus holes retransmitted. */
  private pipe(): number {
    const sb = this.scoreboard;
    if (sb === null || sb.empty) return this.flightSize;
    const high = sb.highest(this.sndUna);
    const retransmitted = seqGt(this.highRxt, this.sndUna) ? sb.holeBytes(this.sndUna) - sb.holeBytes(this.highRxt) : 0;
    return Math.max(0, seqDiff(this.sndMax, high)) + retransmitted;
  }

  private sendSyn(): void {
    const flags = this.state === 'SYN-SENT' ? TCP_SYN : TCP_SYN | TCP_ACK;
    this.emit(flags, this.iss, 0, 0);
    if (this.rttStart < 0 && this.retries === 0) {
      this.rttStart = this.layer.clock.now();
      this.rttSeq = seqAdd(this.iss, 1);
    }
  }

  /**
   * The sequence number for a segment without data (Linux tcp_acceptable_seq):
   * SND.MAX, the highest we have sent, so that after a timeout has moved SND.NXT
   * back the peer, which may hold everything up to SND.MAX, still finds our ACKs
   * acceptable (RFC 9293 3.10.7.4) and reads their ACK field. Only when the
   * peer's window ends before SND.MAX (it shrank) is its right edge used.
   */
  private acceptableSeq(): number {
    if (!this.isSynchronized) return this.sndNxt;
    const wndEnd = seqAdd(this.sndUna, this.sndWnd);
    if (seqGe(wndEnd, this.sndMax) || seqDiff(this.sndMax, wndEnd) < (1 << this.sndWscale)) return this.sndMax;
    return wndEnd;
  }

  /** A segment without data: ACK, RST, or RST+ACK. */
  sendControl(flags: number, seq: number): void {
    this.emit(flags, seq, 0, 0);
  }

  /** Build one segment into the shared record and hand it to the layer; says why it could not leave. */
  private emit(flags: number, seq: number, len: number, queueOffset: number): SendError {
    const seg = this.layer.outSegment;
    seg.clear();
    seg.srcPort = this.localPort;
    seg.dstPort = this.remotePort;
    seg.seq = seq;
    seg.flags = flags;
    const syn = (flags & TCP_SYN) !== 0;
    if (flags & TCP_ACK) seg.ack = this.rcvNxt;
    if (flags & TCP_RST && !(flags & TCP_ACK)) {
      seg.window = 0;
    } else {
      seg.window = this.advertiseWindow(syn);
    }
    if (syn) {
      const c = this.config;
      seg.mss = this.layer.mssFor(this.remoteAddr);
      const answering = this.state !== 'SYN-SENT';
      // In a SYN-ACK, offer only what the SYN offered (RFC 7323 2.2, RFC 2018 2).
      if (c.windowScaling && (!answering || this.wscaleOn)) {
        if (!answering) this.rcvWscale = this.windowScaleFor(c.receiveBufferBytes);
        seg.windowScale = this.rcvWscale;
      }
      if (c.sack && (!answering || this.sackOk)) seg.sackPermitted = true;
      if (c.timestamps && (!answering || this.tsOn)) {
        seg.hasTimestamps = true;
        seg.tsVal = this.tsNow();
        seg.tsEcr = answering ? this.tsRecent : 0;
      }
    } else if (this.tsOn && !(flags & TCP_RST)) {
      seg.hasTimestamps = true;
      seg.tsVal = this.tsNow();
      seg.tsEcr = this.tsRecent;
    }
    if (this.sackOk && !syn && (flags & TCP_ACK) && !(flags & TCP_RST) && this.reassembly !== null && this.reassembly.count > 0) {
      this.addSackBlocks(seg);
    }
    if (flags & TCP_ACK) {
      this.ackPending = ACK_NONE;
      this.lastAckRcvNxt = this.rcvNxt;
      if (this.quickAcks > 0 && this.isSynchronized) this.quickAcks--;
      const d = this.delackTimer;
      if (d !== null && d.armed) {
        d.stop();
        this.layer.traceTimer(this, 'delack', 'cancelled');
      }
    }
    return this.layer.transmit(this, seg, queueOffset, len);
  }

  /**
   * SACK blocks for what we hold out of order (RFC 2018 4): the block with the most
   * recent segment first, then the others from the highest; 3 fit beside timestamps.
   */
  private addSackBlocks(seg: TcpSegment): void {
    const ranges = (this.reassembly as Reassembly).ranges();
    const max = seg.hasTimestamps ? 3 : 4;
    let n = 0;
    const first = ranges.findIndex(([l, r]) => seqGe(this.lastOooSeq, l) && seqLt(this.lastOooSeq, r));
    if (first >= 0) {
      seg.sackBlocks[0] = ranges[first][0];
      seg.sackBlocks[1] = ranges[first][1];
      n = 1;
    }
    for (let i = ranges.length - 1; i >= 0 && n < max; i--) {
      if (i === first) continue;
      seg.sackBlocks[2 * n] = ranges[i][0];
      seg.sackBlocks[2 * n + 1] = ranges[i][1];
      n++;
    }
    seg.sackCount = n;
  }

  /** Our timestamp clock: 1 ms ticks (as Linux since 4.13), offset per connection. */
  tsNow(): number {
    return (Math.floor(this.layer.clock.now()) + this.tsOffset) >>> 0;
  }

  /** The window field to send, never shrinking the right edge (RFC 9293 3.8.6.2.2, RFC 7323 2.4). */
  private advertiseWindow(syn: boolean): number {
    const c = this.config;
    const reasmBytes = this.reassembly !== null ? this.reassembly.bytes : 0;
    let wnd = Math.max(0, c.receiveBufferBytes - this.receiveQueue.length - reasmBytes);
    const shift = syn ? 0 : this.rcvWscale;
    const maxWnd = MAX_WINDOW_FIELD << shift;
    if (wnd > maxWnd) wnd = maxWnd;
    // Offer whole segments of the size the peer sends (as Linux's __tcp_select_window rounds
    // free space down to rcv_mss), so a sender never gets room for a sliver.
    const seg = this.rcvMssSeen;
    if (!syn && wnd > seg) wnd -= wnd % seg;
    // Receiver SWS avoidance (RFC 9293 3.8.6.2.2): do not offer a small increase of the right edge.
    const oldRight = this.rcvAdvertised;
    let right = seqAdd(this.rcvNxt, wnd);
    const grow = seqDiff(right, oldRight);
    if (!syn && this.isSynchronized && grow > 0 && grow < Math.min(c.receiveBufferBytes / 2, seg)
      && seqGe(oldRight, this.rcvNxt)) {
      right = oldRight;
    }
    if (seqLt(right, oldRight) && this.isSynchronized) right = oldRight; // never shrink
    right = seqMax(right, this.rcvNxt);
    // Round up to the scale unit so the edge never recedes (as Linux's ALIGN in tcp_select_window).
    const field = Math.min(Math.ceil(seqDiff(right, this.rcvNxt) / 2 ** shift), MAX_WINDOW_FIELD);
    this.rcvAdvertised = seqAdd(this.rcvNxt, field * 2 ** shift);
    return field;
  }

  /** After the application read: send a window update when the window opened enough (RFC 9293 3.8.6.2.2). */
  private maybeWindowUpdate(queuedBefore: number): void {
    // As Linux's tcp_cleanup_rbuf: when the window we advertised is at most half the
    // buffer and reading has at least doubled it, tell the peer now (RFC 9293 3.8.6.2.2).
    // Only when unread data was what held the window down (Linux's slowly opening
    // rcv_ssthresh has the same effect): not merely because the SYN's window was unscaled.
    const c = this.config;
    const reasmBytes = this.reassembly !== null ? this.reassembly.bytes : 0;
    if (2 * (queuedBefore + reasmBytes) < c.receiveBufferBytes) return;
    const wnd = Math.max(0, c.receiveBufferBytes - this.receiveQueue.length - reasmBytes);
    const advertised = Math.max(0, seqDiff(this.rcvAdvertised, this.rcvNxt));
    if (2 * advertised <= c.receiveBufferBytes && wnd >= 2 * advertised && wnd - advertised >= Math.min(this.rcvMss, c.receiveBufferBytes / 2)) {
      if (this.layer.host.tracer.enabled) this.layer.traceWindow(this, 'receive', wnd, 'window update after read');
      this.requestAck(ACK_BATCH, 'window update');
      this.output();
      this.layer.afterUserCall(this);
    }
  }

  /** Payload bytes per segment: the MSS less the options every segment carries (the SMSS of congestion control). */
  effectiveMss(): number {
    return this.sndMss - (this.tsOn ? TS_OPTION_BYTES : 0);
  }

  /**
   * Payload bytes the next segment may carry: the MSS less every option it will
   * carry, SACK blocks included, so that no segment outgrows the path MTU
   * (RFC 9293 3.7.1: the MSS counts data only; Linux tcp_current_mss).
   */
  segmentMss(): number {
    const r = this.reassembly;
    if (!this.sackOk || r === null || r.count === 0) return this.effectiveMss();
    const blocks = Math.min(r.rangeCount(), this.tsOn ? 3 : 4);
    return this.effectiveMss() - SACK_OPTION_BASE_BYTES - SACK_BLOCK_BYTES * blocks;
  }

  private canSendState(): boolean {
    const s = this.state;
    return s === 'ESTABLISHED' || s === 'CLOSE-WAIT' || s === 'SYN-SENT' || s === 'SYN-RECEIVED';
  }

  // ---------------------------------------------------------------- timers

  private armRtx(): void {
    let rto = this.rto.current();
    // Never sleep past the user timeout (as Linux tcp_clamp_rto_to_user_timeout).
    const ut = this.config.userTimeoutMs;
    if (ut > 0 && this.unackedSince >= 0) rto = Math.max(1, Math.min(rto, this.unackedSince + ut - this.layer.clock.now()));
    this.setTimer(T_RTX, rto);
  }

  private armPersist(): void {
    if (this.timerKind === T_PERSIST || this.timerKind === T_RTX) return;
    // RFC 9293 3.8.6.1: probe a zero window; Linux uses the RTO with backoff, capped.
    this.setTimer(T_PERSIST, Math.max(this.rto.current(), this.config.minRtoMs));
  }

  private startTimeWait(cause?: string): void {
    if (cause !== undefined && this.state !== 'TIME-WAIT') this.setState('TIME-WAIT', cause);
    this.sendQueue.clear();
    this.setTimer(T_TIMEWAIT, 2 * this.config.mslMs);
    if (cause !== undefined) this.notifyClosed(null);
  }

  private setTimer(kind: number, delay: number): void {
    this.timerKind = kind;
    this.timer.start(delay);
    this.layer.traceTimer(this, TIMER_NAMES[kind], 'set', this.timer.deadline);
  }

  private stopTimer(): void {
    if (this.timerKind !== T_NONE && this.timer.armed) {
      this.timer.stop();
      this.layer.traceTimer(this, TIMER_NAMES[this.timerKind], 'cancelled');
    }
    this.timerKind = T_NONE;
  }

  private onTimer(): void {
    const kind = this.timerKind;
    this.timerKind = T_NONE;
    this.layer.traceTimer(this, TIMER_NAMES[kind], 'fired');
    if (kind === T_RTX) this.retransmitTimeout();
    else if (kind === T_PERSIST) this.persistTimeout();
    else if (kind === T_TIMEWAIT) this.enterClosed('2MSL timeout', null);
    this.layer.afterTimer(this);
  }

  /** RFC 6298 5.4-5.7 and 9293 3.8.1: retransmit the earliest unacknowledged segment, back off. */
  private retransmitTimeout(): void {
    const c = this.config;
    const limit = this.state === 'SYN-SENT' ? c.synRetries : this.state === 'SYN-RECEIVED' ? c.synAckRetries : c.dataRetries;
    const now = this.layer.clock.now();
    const userTimedOut = c.userTimeoutMs > 0 && this.unackedSince >= 0 && now - this.unackedSince >= c.userTimeoutMs;
    if (this.retries >= limit || userTimedOut) {
      this.enterClosed('retransmission limit', this.state === 'SYN-RECEIVED' && !this.active ? null
        : this.softError ?? new TcpError('ETIMEDOUT', 'connection timed out'));
      return;
    }
    this.retries++;
    this.rto.backoff++;
    this.rttStart = -1; // Karn's rule
    if (this.state === 'SYN-SENT' || this.state === 'SYN-RECEIVED') {
      this.layer.traceRetransmit(this, this.iss, 0, `retransmission #${this.retries} after RTO`);
      this.retransmissions++;
      this.sendSyn();
      this.armRtx();
      return;
    }
    if (this.cc !== null) {
      this.cc.onRto(this.flightSize, this.effectiveMss());
      this.layer.traceCwnd(this, 'RTO');
    }
    this.inRecovery = false;
    this.highRxt = this.sndUna;
    this.recover = this.sndMax; // RFC 6582 4.2: no fast retransmit for data sent before the timeout
    this.dupAcks = 0;
    // Go back: everything from SND.UNA is sent again as the window allows.
    this.layer.traceRetransmit(this, this.sndUna, Math.min(this.segmentMss(), this.sendQueue.length),
      `retransmission #${this.retries} after RTO ${Math.round(this.rto.current() / 2)} ms`);
    this.sndNxt = this.sndUna;
    this.armRtx();
    this.sendData();
  }

  private persistTimeout(): void {
    // Linux gives up after tcp_retries2 probes that got no answer at all; a peer that
    // keeps answering (with a zero window) resets the count and is never given up on.
    if (this.probesOut >= this.config.dataRetries) {
      this.enterClosed('zero-window probes unanswered', new TcpError('ETIMEDOUT', 'connection timed out'));
      return;
    }
    this.rto.backoff++;
    if (this.sndWnd > 0) {
      // A small window that never grew: the override timeout of RFC 9293 3.8.6.2.1 sends what fits.
      this.persistForce = true;
      this.sendData();
      this.persistForce = false;
      if (this.timerKind === T_NONE) this.setTimer(T_PERSIST, this.rto.current());
      return;
    }
    // Zero-window probe as Linux sends it: an ACK with SEG.SEQ = SND.UNA - 1, which the
    // peer must answer with its current window (RFC 9293 3.8.6.1).
    this.probesOut++;
    this.layer.traceProbe(this, 'zero-window', this.probesOut, this.config.dataRetries);
    this.sendControl(TCP_ACK, seqAdd(this.sndUna, -1));
    this.setTimer(T_PERSIST, this.rto.current());
  }

  /** ICMP destination unreachable about a segment we sent (called by the layer). */
  icmpUnreachable(code: number, seq: number): void {
    // RFC 5927 4.1: only for a sequence number we have sent and not had acknowledged.
    if (!(seqGe(seq, this.sndUna) && seqLt(seq, this.sndMax)) && !(this.state === 'SYN-SENT' && seq === this.iss)) return;
    // Linux icmp_err_convert: net -> ENETUNREACH, host -> EHOSTUNREACH, protocol -> ENOPROTOOPT, port -> ECONNREFUSED.
    const codeName = code === 0 ? 'ENETUNREACH' : code === 2 ? 'ENOPROTOOPT' : code === 3 ? 'ECONNREFUSED' : 'EHOSTUNREACH';
    const err = new TcpError(codeName, codeName === 'ECONNREFUSED' ? 'connection refused' : codeName === 'ENETUNREACH' ? 'network is unreachable' : 'no route to host');
    if (this.state === 'SYN-SENT' || this.state === 'SYN-RECEIVED') {
      this.enterClosed('ICMP destination unreachable', this.active ? err : null);
      this.layer.afterTimer(this);
      return;
    }
    this.softError = err;
  }
  /** The last ICMP error seen on an established connection; reported instead of ETIMEDOUT. */
  softError: TcpError | null = null;

  // ---------------------------------------------------------------- keepalive

  /** SO_KEEPALIVE with TCP_KEEPIDLE / TCP_KEEPINTVL / TCP_KEEPCNT (RFC 1122 4.2.3.6). */
  setKeepAlive(enable: boolean, idleMs?: number, intervalMs?: number, probes?: number): void {
    this.setOption('keepAlive', enable);
    if (idleMs !== undefined && idleMs > 0) this.setOption('keepAliveIdleMs', idleMs);
    if (intervalMs !== undefined && intervalMs > 0) this.setOption('keepAliveIntervalMs', intervalMs);
    if (probes !== undefined && probes > 0) this.setOption('keepAliveProbes', probes);
    if (!enable) {
      this.keepaliveTimer?.stop();
      return;
    }
    if (this.isSynchronized) {
      this.lastReceiveAt = Math.max(this.lastReceiveAt, this.layer.clock.now() - 0);
      this.armKeepalive();
    }
  }

  /** TCP_NODELAY: turn Nagle's algorithm off (true) or on (false), and send what it held. */
  setNoDelay(noDelay: boolean): void {
    this.setOption('noDelay', noDelay);
    if (noDelay && this.isSynchronized) {
      this.output();
      this.layer.afterUserCall(this);
    }
  }

  /** TCP_USER_TIMEOUT (RFC 5482): ms that data may stay unacknowledged; 0 turns it off. */
  setUserTimeout(ms: number): void {
    this.setOption('userTimeoutMs', Math.max(0, ms));
  }

  private armKeepalive(): void {
    if (this.keepaliveTimer === null) this.keepaliveTimer = this.layer.clock.createTimer(() => this.onKeepalive());
    const c = this.config;
    const due = this.probesOut > 0 ? c.keepAliveIntervalMs : Math.max(0, this.lastReceiveAt + c.keepAliveIdleMs - this.layer.clock.now());
    this.keepaliveTimer.start(due);
    this.layer.traceTimer(this, 'keepalive', 'set', this.keepaliveTimer.deadline);
  }

  /** As Linux's tcp_keepalive_timer: probe after the idle time, then every interval, give up after the count. */
  private onKeepalive(): void {
    this.layer.traceTimer(this, 'keepalive', 'fired');
    const c = this.config;
    const s = this.state;
    if (!c.keepAlive || !(s === 'ESTABLISHED' || s === 'CLOSE-WAIT' || s === 'FIN-WAIT-2')) return;
    const timer = this.keepaliveTimer as Timer;
    if (this.flightSize > 0 || this.sendQueue.length > 0) {
      // Data in flight: the retransmission timer watches the peer; look again later.
      timer.start(c.keepAliveIntervalMs);
      return;
    }
    const idle = this.layer.clock.now() - this.lastReceiveAt;
    if (idle < c.keepAliveIdleMs && this.probesOut === 0) {
      timer.start(c.keepAliveIdleMs - idle);
      return;
    }
    if (this.probesOut >= c.keepAliveProbes) {
      // Linux resets the connection it gives up on (tcp_send_active_reset) and reports ETIMEDOUT.
      this.sendControl(TCP_RST | TCP_ACK, this.acceptableSeq());
      this.enterClosed('keepalive: no answer', new TcpError('ETIMEDOUT', 'connection timed out'));
      this.layer.afterTimer(this);
      return;
    }
    // The probe: SEG.SEQ = SND.UNA - 1 with no data, which any live peer must ACK (Linux tcp_xmit_probe_skb).
    this.probesOut++;
    this.layer.traceProbe(this, 'keepalive', this.probesOut, c.keepAliveProbes);
    this.sendControl(TCP_ACK, seqAdd(this.sndUna, -1));
    timer.start(c.keepAliveIntervalMs);
    this.layer.traceTimer(this, 'keepalive', 'set', timer.deadline);
    this.layer.afterTimer(this);
  }

  // ---------------------------------------------------------------- state

  setState(to: TcpState, cause: string): void {
    const from = this.state;
    if (from === to) return;
    this.state = to;
    this.layer.stateChanged(this, from, to, cause);
  }

  private enterClosed(cause: string, error: TcpError | null): void {
    this.stopTimer();
    this.keepaliveTimer?.stop();
    this.delackTimer?.stop();
    this.ackPending = ACK_NONE;
    this.setState('CLOSED', cause);
    this.sendQueue.clear();
    this.reassembly = null;
    if (error !== null) this.error = error;
    this.layer.remove(this);
    this.notifyClosed(error);
  }

  private notifyClosed(error: TcpError | null): void {
    if (this.closedNotified) return;
    this.closedNotified = true;
    if (error !== null) {
      this.error = error;
      this.layer.traceError(this, error.code);
    }
    this.pending |= N_CLOSE;
    this.layer.schedule(this);
  }

  /** Called by the layer's dispatch: deliver pending notifications to the handler. */
  dispatch(): void {
    const p = this.pending;
    this.pending = 0;
    const h = this.handler;
    if (h === null) {
      // Not yet claimed (an accepted connection before its user attached): keep the flags.
      this.pending = p;
      return;
    }
    if (p & N_CONNECT) h.onConnect?.(this);
    if (p & N_READABLE && this.receiveQueue.length > 0) h.onReadable?.(this);
    if (p & N_WRITABLE) h.onWritable?.(this);
    if (p & N_END) h.onEnd?.(this);
    if (p & N_CLOSE) h.onClose?.(this, this.error);
  }

  /** Attach the user's handler; notifications that waited for it are delivered by the layer. */
  attach(handler: TcpHandler): void {
    this.handler = handler;
    if (this.receiveQueue.length > 0) this.pending |= N_READABLE;
    if (this.pending !== 0) {
      // What waited for a handler (data, the peer's FIN, a reset) is delivered soon,
      // not at the next unrelated stack activity.
      this.layer.schedule(this);
      this.layer.afterUserCall(this);
    }
  }
}
