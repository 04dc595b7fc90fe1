// What a Socket sits on: a tcplab TcpConnection, or a kernel UNIX domain
// socket (Node's own net.Socket) for local paths. Both look the same to the
// Socket: send/read/shutdown/close and five notifications. The Socket knows
// nothing else of what is underneath: whatever a transport needs from the
// stack behind it, it asks for here.

import * as realNet from 'node:net';
import type { TcpConnection } from '../stack/tcp/connection';
import type { TcpError } from '../stack/tcp/errors';
import { addressInfo, type AddressInfo } from './common';

export interface TransportEvents {
  connect(): void;
  readable(): void;
  writable(): void;
  /** The peer finished sending; everything it sent is readable. */
  end(): void;
  /** Finished, with the error that ended it (a TcpError for TCP, a Node error for UNIX sockets). */
  close(err: Error | null): void;
}

export interface Transport {
  /**
   * Where the notifications go from now on. What happened before there was
   * anyone to tell (an accepted connection's data, FIN or reset) is delivered
   * soon after, never synchronously.
   */
  attach(ev: TransportEvents): void;
  /**
   * Takes what fits, returns how many bytes; `writable` fires when more fits.
   * May throw (EPIPE). `owned`: the caller hands `data` over for good; else it
   * may reuse it once the call returns, and the transport copies what it keeps.
   */
  send(data: Uint8Array, owned: boolean): number;
  read(): Uint8Array | null;
  readonly readableLength: number;
  shutdown(): void;
  /** Full close: FIN, or RST when unread data is left (as Linux close()). */
  close(): void;
  abort(): void;
  setNoDelay(noDelay: boolean): void;
  setKeepAlive(enable: boolean, idleMs?: number, intervalMs?: number, probes?: number): void;
  local(): AddressInfo | string | null;
  remote(): AddressInfo | string | null;
  /** The transport keeps the event loop alive by itself (a kernel handle). */
  readonly ownsLoopRef: boolean;
  ref(): void;
  unref(): void;
  /** The tcplab TCP connection underneath, for introspection; null for a UNIX socket. */
  readonly connection: TcpConnection | null;
}

export class TcpTransport implements Transport {
  readonly ownsLoopRef = false;

  constructor(private readonly conn: TcpConnection) {}

  attach(ev: TransportEvents): void {
    this.conn.attach({
      onConnect: () => ev.connect(),
      onReadable: () => ev.readable(),
      onWritable: () => ev.writable(),
      onEnd: () => ev.end(),
      onClose: (_c, err: TcpError | null) => ev.close(err),
    });
    // Have the stack dispatch (and flush) on its next turn, so that what waited for a handler reaches it.
    this.conn.layer.afterUserCall(this.conn);
  }

  get connection(): TcpConnection {
    return this.conn;
  }

  send(data: Uint8Array, owned: boolean): number {
    // What the connection does not own goes straight into its send-queue blocks (one copy).
    return this.conn.send(data, !owned);
  }

  read(): Uint8Array | null {
    return this.conn.read();
  }

  get readableLength(): number {
    return this.conn.readableLength;
  }

  shutdown(): void {
    this.conn.shutdown();
  }

  close(): void {
    this.conn.close();
  }

  abort(): void {
    this.conn.abort();
  }

  setNoDelay(noDelay: boolean): void {
    this.conn.setNoDelay(noDelay);
  }

  setKeepAlive(enable: boolean, idleMs?: number, intervalMs?: number, probes?: number): void {
    this.conn.setKeepAlive(enable, idleMs, intervalMs, probes);
  }

  local(): AddressInfo {
    return addressInfo(this.conn.localAddr, this.conn.localPort);
  }

  remote(): AddressInfo {
    return addressInfo(this.conn.remoteAddr, this.conn.remotePort);
  }

  ref(): void {}
  unref(): void {}
}

/** A kernel UNIX domain socket, read in paused mode so flow control stays with our Socket. */
export class UnixTransport implements Transport {
  readonly ownsLoopRef = true;
  private error: Error | null = null;
  private blocked = false;

  readonly connection = null;

  constructor(private readonly sock: realNet.Socket, private readonly path: string) {}

  attach(ev: TransportEvents): void {
    const s = this.sock;
    s.on('connect', () => ev.connect());
    s.on('readable', () => ev.readable());
    s.on('drain', () => {
      this.blocked = false;
      ev.writable();
    });
    s.on('end', () => ev.end());
    s.on('error', (e) => {
      this.error = e;
    });
    s.on('close', () => ev.close(this.error));
  }

  send(data: Uint8Array, owned: boolean): number {
    if (this.sock.destroyed || this.sock.writableEnded) {
      const e = new Error('write EPIPE');
      Object.assign(e, { errno: -32, code: 'EPIPE', syscall: 'write' });
      throw e;
    }
    if (this.blocked) return 0;
    // Node's socket keeps what it is given until the kernel took it: a copy unless it is ours.
    if (!this.sock.write(owned ? data : Buffer.from(data))) this.blocked = true;
    return data.length;
  }

  read(): Uint8Array | null {
    // Always call read(): at EOF that is what makes the kernel socket emit 'end'.
    return this.sock.read() as Buffer | null;
  }

  get readableLength(): number {
    return this.sock.readableLength;
  }

  shutdown(): void {
    this.sock.end();
  }

  close(): void {
    this.sock.destroy();
  }

  abort(): void {
    this.sock.destroy();
  }

  setNoDelay(): void {}
  setKeepAlive(): void {}

  local(): string {
    return this.path;
  }

  remote(): string {
    return this.path;
  }

  ref(): void {
    this.sock.ref();
  }

  unref(): void {
    this.sock.unref();
  }
}
