// One TCP connection: the TCB (tcb.ts), the user calls of RFC 9293 3.10
// (OPEN, SEND, RECEIVE, CLOSE, ABORT, and the socket options), and delivery
// of what happened to its user. The protocol itself is in the files named for
// each concern; this file routes the layer's and the timers' calls to them.
//
// The connection never calls user code while it is in the middle of a
// transition: it records what happened in `pending` and asks its layer to
// dispatch it once the current input batch, timer or call is done.

import type { TcpSegment } from '../wire/tcp';
import { TCP_ACK, TCP_RST } from '../wire/tcp';
import { delayedAckTimeout, flushBatchAck, requestAck } from './ack-policy';
import { TcpError } from './errors';
import { activeOpen } from './handshake';
import { icmpUnreachable, pathMtuReduced, segmentArrives } from './input';
import { output } from './output';
import { keepaliveTimeout, persistTimeout } from './probes';
import { retransmitTimeout } from './recovery/timeout';
import { acceptableSeq, sendControl } from './segment-out';
import { enterClosed, setState } from './state';
import {
  ACK_BATCH, N_CLOSE, N_CONNECT, N_END, N_READABLE, N_WRITABLE, T_NONE, T_PERSIST, T_RTX, T_TIMEWAIT,
  Tcb, type TcpHandler as Handler, type TcpState,
} from './tcb';
import { armKeepalive, timerName } from './timers';
import { windowUpdateDue } from './window';

export type { TcpState };
/** What a connection tells its user. */
export type TcpHandler = Handler<TcpConnection>;

export class TcpConnection extends Tcb {
  // ---------------------------------------------------------------- opening

  /** Active open (RFC 9293 3.10.1, OPEN call in CLOSED state). */
  open(iss: number): void {
    activeOpen(this, iss);
  }

  // ---------------------------------------------------------------- user calls

  /**
   * Queue data; returns how many bytes were taken (the rest must wait for
   * onWritable). The connection keeps `data` by reference unless `copy` is
   * set, when what it takes is copied into its own blocks (the caller may then
   * reuse its buffer at once).
   */
  send(data: Uint8Array, copy = false): number {
    if (this.finQueued || !this.canSendState()) throw new TcpError('EPIPE', 'send after shutdown or close');
    const n = Math.min(this.sendSpace, data.length);
    if (n < data.length) this.wantWritable = true;
    if (n === 0) return 0;
    const taken = n === data.length ? data : data.subarray(0, n);
    if (copy) this.sendQueue.pushCopy(taken);
    else this.sendQueue.push(taken);
    this.sndQueuedEnd = (this.sndQueuedEnd + n) >>> 0;
    if (this.isSynchronized) output(this);
    this.layer.afterUserCall(this);
    return n;
  }

  /** Take received data (at most `max` bytes of the next chunk); reading opens the window. */
  read(max?: number): Uint8Array | null {
    const queuedBefore = this.receiveQueue.length;
    const chunk = this.receiveQueue.read(max);
    if (chunk !== null && this.isSynchronized) {
      const wnd = windowUpdateDue(this, queuedBefore);
      if (wnd >= 0) {
        if (this.layer.trace.enabled) this.layer.trace.window(this, 'receive', wnd, 'window update after read');
        requestAck(this, ACK_BATCH, 'window update');
        output(this);
        this.layer.afterUserCall(this);
      }
    }
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
        setState(this, 'FIN-WAIT-1', 'shutdown');
        break;
      case 'CLOSE-WAIT':
        this.finQueued = true;
        setState(this, 'LAST-ACK', 'shutdown');
        break;
      default:
        return;
    }
    output(this);
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
      enterClosed(this, 'close in SYN-SENT', null);
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
      sendControl(this, TCP_RST | TCP_ACK, acceptableSeq(this));
    }
    this.receiveQueue.clear();
    enterClosed(this, 'abort', null);
    this.layer.afterUserCall(this);
  }

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
      this.lastReceiveAt = Math.max(this.lastReceiveAt, this.layer.clock.now());
      armKeepalive(this);
    }
  }

  /** TCP_NODELAY: turn Nagle's algorithm off (true) or on (false), and send what it held. */
  setNoDelay(noDelay: boolean): void {
    this.setOption('noDelay', noDelay);
    if (noDelay && this.isSynchronized) {
      output(this);
      this.layer.afterUserCall(this);
    }
  }

  /** TCP_USER_TIMEOUT (RFC 5482): ms that data may stay unacknowledged; 0 turns it off. */
  setUserTimeout(ms: number): void {
    this.setOption('userTimeoutMs', Math.max(0, ms));
  }

  private canSendState(): boolean {
    const s = this.state;
    return s === 'ESTABLISHED' || s === 'CLOSE-WAIT' || s === 'SYN-SENT' || s === 'SYN-RECEIVED';
  }

  // ---------------------------------------------------------------- from the layer

  /** A segment for this connection; `buf` holds its payload. */
  segmentArrives(seg: TcpSegment, buf: Uint8Array): void {
    segmentArrives(this, seg, buf);
  }

  /** ICMP destination unreachable about a segment we sent. */
  icmpUnreachable(code: number, seq: number): void {
    icmpUnreachable(this, code, seq);
  }

  /** ICMP fragmentation needed (path MTU discovery) about a segment we sent. */
  pathMtuReduced(mtu: number, seq: number): void {
    pathMtuReduced(this, mtu, seq);
    this.layer.afterTimer(this);
  }

  /** The end of a batch: the ACK owed until now goes out. */
  flushAck(): void {
    flushBatchAck(this);
  }

  // ---------------------------------------------------------------- timers

  protected onTimer(): void {
    const kind = this.timerKind;
    this.timerKind = T_NONE;
    this.layer.trace.timer(this, timerName(kind), 'fired');
    if (kind === T_RTX) retransmitTimeout(this);
    else if (kind === T_PERSIST) persistTimeout(this);
    else if (kind === T_TIMEWAIT) enterClosed(this, '2MSL timeout', null);
    this.layer.afterTimer(this);
  }

  onKeepaliveTimer(): void {
    keepaliveTimeout(this);
  }

  onDelayedAckTimer(): void {
    delayedAckTimeout(this);
  }

  // ---------------------------------------------------------------- the user

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
