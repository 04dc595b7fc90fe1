// A listening endpoint (RFC 9293 LISTEN): half-open connections in the SYN
// queue, established ones in the accept queue, both bounded by the backlog.

import type { TcpConnection } from './connection';
import type { TcpLayer } from './layer';

export interface TcpListenerHandler {
  /** A connection completed its handshake; attach a handler to it to receive its events. */
  onConnection(conn: TcpConnection): void;
}

export class TcpListener {
  /** Connections in SYN-RECEIVED. */
  synQueue = 0;
  /** Established connections not yet handed to the user. */
  readonly acceptQueue: TcpConnection[] = [];
  /** While paused, established connections wait in the accept queue (and the backlog then refuses SYNs). */
  paused = false;
  closed = false;
  /** Set while queued for dispatch in the layer. */
  scheduled = false;

  constructor(
    private readonly layer: TcpLayer,
    /** 0 means every local address. */
    readonly localAddr: number,
    readonly localPort: number,
    public backlog: number,
    public handler: TcpListenerHandler,
  ) {}

  /**
   * A SYN is dropped (not refused: the peer retries) when the connections
   * waiting for accept plus those still in the handshake reach the backlog, so
   * the accept queue can never outgrow it (as BSD; Linux checks the accept queue alone).
   */
  get full(): boolean {
    return this.acceptQueue.length + this.synQueue >= this.backlog;
  }

  /** A child's handshake completed. */
  established(conn: TcpConnection): void {
    this.synQueue--;
    this.acceptQueue.push(conn);
    this.layer.scheduleListener(this);
  }

  /** A child died before it was accepted. */
  childClosed(conn: TcpConnection): void {
    const i = this.acceptQueue.indexOf(conn);
    if (i >= 0) this.acceptQueue.splice(i, 1);
    else this.synQueue--;
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
    if (this.acceptQueue.length > 0) this.layer.scheduleListener(this);
  }

  /** Stop listening; connections not yet accepted are reset, as Linux does on close of a listening socket. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.layer.unlisten(this);
    for (const conn of this.acceptQueue.splice(0)) conn.abort();
    this.layer.abortChildren(this);
  }
}
