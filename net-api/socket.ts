// net.Socket over a tcplab TcpConnection (or a kernel UNIX socket): a real
// stream.Duplex with backpressure both ways. `_write` hands data to the
// connection and calls back only when it was taken; `_read` pulls from the
// connection until push() says stop, so the TCP window closes when nobody reads.

import { Duplex } from 'node:stream';
import * as realNet from 'node:net';
import type { Timer } from '../stack/time/clock';
import { TcpError } from '../stack/tcp/errors';
import {
  type AddressInfo, LoopRef, type LookupFunction, type NetContext, isIP, toIpv4,
  validateFunction, validateNumber, validateObject, validatePort, validateTimeout, validateBoolean,
} from './common';
import {
  ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE, ERR_INVALID_IP_ADDRESS, ERR_MISSING_ARGS, ERR_SOCKET_CLOSED,
  errnoException, exceptionWithHostPort, nodeError,
} from './errors';
import { TcpTransport, type Transport, type TransportEvents, UnixTransport } from './transport';

/** Internal constructor options: the transport of an accepted connection and its server. */
export const kTransport = Symbol('tcplab.transport');
export const kServer = Symbol('tcplab.server');

export interface SocketOptions {
  fd?: number;
  allowHalfOpen?: boolean;
  readable?: boolean;
  writable?: boolean;
  pauseOnConnect?: boolean;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
  highWaterMark?: number;
  signal?: AbortSignal;
  timeout?: number;
  [kTransport]?: Transport;
  [kServer]?: ServerLike;
}

export interface TcpSocketConnectOpts {
  port: number | string;
  host?: string;
  localAddress?: string;
  localPort?: number;
  family?: number;
  hints?: number;
  lookup?: LookupFunction;
  timeout?: number;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
}

export interface IpcSocketConnectOpts {
  path: string;
  timeout?: number;
}

export type SocketConnectOpts = TcpSocketConnectOpts | IpcSocketConnectOpts;

/** What a Socket needs from the Server that accepted it. */
export interface ServerLike {
  _socketClosed(socket: Socket): void;
}

type Normalized = [Record<string, any>, ((...a: any[]) => void) | null] & { [kNormalized]?: true };
const kNormalized = Symbol('tcplab.normalizedArgs');

function toNumber(x: unknown): number | false {
  const n = Number(x);
  return n >= 0 ? n : false;
}

/** A string that is not a number names a UNIX socket path (Node's isPipeName). */
export function isPipeName(s: unknown): s is string {
  return typeof s === 'string' && toNumber(s) === false;
}

/** Node's normalizeArgs for connect() and listen(): [options, callback]. */
export function normalizeArgs(args: unknown[]): Normalized {
  if (args.length === 0) return [{}, null];
  const arg0 = args[0];
  let options: Record<string, any> = {};
  if (typeof arg0 === 'object' && arg0 !== null) options = arg0 as Record<string, any>;
  else if (isPipeName(arg0)) options.path = arg0;
  else {
    options.port = arg0;
    if (args.length > 1 && typeof args[1] === 'string') options.host = args[1];
  }
  const cb = args[args.length - 1];
  const out: Normalized = [options, typeof cb === 'function' ? (cb as (...a: any[]) => void) : null];
  out[kNormalized] = true;
  return out;
}

export function isNormalized(a: unknown): a is Normalized {
  return Array.isArray(a) && (a as Normalized)[kNormalized] === true;
}

interface PendingWrite {
  data: Uint8Array;
  /** The socket owns `data` (else the transport copies what it takes). */
  owned: boolean;
  cb: (err?: Error | null) => void;
}

export class Socket extends Duplex {
  /** The Socket class of the same net instance (set by createNet). */
  readonly ctx: NetContext;
  /** True between connect() and 'connect' (or the failure). */
  connecting = false;
  /** Bytes received and handed to the stream. */
  bytesReadCount = 0;
  /** The idle timeout set by setTimeout(), ms (undefined when never set). */
  timeout: number | undefined = undefined;
  /** @internal */ _server: ServerLike | null = null;
  /** @internal */ _transport: Transport | null = null;
  /** @internal */ _host: string | null = null;
  private taken = 0;
  private dispatched = 0;
  private inflight = 0;
  private pendingWrite: PendingWrite | null = null;
  private reading = false;
  private finSeen = false;
  private eofPushed = false;
  private transportClosed = false;
  private lookupPending = false;
  private refed = true;
  private readonly loopRef: LoopRef;
  private idleTimer: Timer | null = null;
  private idleMs = 0;
  private wantNoDelay = false;
  private wantKeepAlive: [boolean, number] | null = null;
  private peer: { address: string; port: number } | null = null;
  private connectLocal: string | undefined = undefined;
  private writeAfterFin = false;
  private resetOnClose = false;

  constructor(ctx: NetContext, optionsArg: SocketOptions | number = {}) {
    let options: SocketOptions;
    if (typeof optionsArg === 'number') options = { fd: optionsArg };
    else if (optionsArg === undefined || optionsArg === null) options = {};
    else {
      validateObject(optionsArg, 'options');
      options = optionsArg as SocketOptions;
    }
    if (typeof options.fd === 'number') {
      throw nodeError(Error, 'ERR_TCPLAB_FD_UNSUPPORTED',
        `tcplab sockets live in a userspace stack: they cannot wrap the kernel file descriptor ${options.fd}`);
    }
    super({
      allowHalfOpen: Boolean(options.allowHalfOpen),
      emitClose: false,
      autoDestroy: true,
      decodeStrings: false,
      highWaterMark: options.highWaterMark,
      signal: options.signal,
    });
    this.ctx = ctx;
    this.loopRef = new LoopRef(ctx.real, this);
    this.wantNoDelay = Boolean(options.noDelay);
    if (options.keepAlive) this.wantKeepAlive = [true, Math.trunc((options.keepAliveInitialDelay ?? 0) / 1000) * 1000];
    this.on('end', () => {
      if (!this.allowHalfOpen) this.writeAfterFin = true;
    });
    const transport = options[kTransport];
    if (transport !== undefined) {
      // An accepted connection: already established.
      this._server = options[kServer] ?? null;
      this.attachTransport(transport);
      this.applyOptions();
      if (options.pauseOnConnect) this.pause();
      else this.read(0);
    }
  }

  // ---------------------------------------------------------------- connect

  connect(options: SocketConnectOpts, connectListener?: () => void): this;
  connect(port: number, host: string, connectListener?: () => void): this;
  connect(port: number, connectListener?: () => void): this;
  connect(path: string, connectListener?: () => void): this;
  connect(...args: unknown[]): this {
    const normalized = isNormalized(args[0]) ? args[0] : normalizeArgs(args);
    const [options, cb] = normalized;
    if (options.port === undefined && options.path == null) throw ERR_MISSING_ARGS('options', 'port', 'path');
    this.writeAfterFin = false;
    if (this.destroyed) this.resetForReconnect();
    const path = options.path;
    if (path !== undefined && path !== null && options.port === undefined) {
      if (typeof path !== 'string') throw ERR_INVALID_ARG_TYPE('options.path', 'of type string', path);
      if (cb !== null) this.once('connect', cb);
      this.touch();
      this.connecting = true;
      this.connectUnix(path);
      return this;
    }
    const { localAddress, localPort } = options;
    const host: string = options.host || 'localhost';
    if (typeof host !== 'string') throw ERR_INVALID_ARG_TYPE('hostname', 'of type string', host);
    const rawPort: unknown = options.port;
    if (localAddress && !isIP(localAddress)) throw ERR_INVALID_IP_ADDRESS(localAddress);
    if (localPort) validateNumber(localPort, 'options.localPort');
    if (typeof rawPort !== 'undefined') {
      if (typeof rawPort !== 'number' && typeof rawPort !== 'string') throw ERR_INVALID_ARG_TYPE('options.port', 'one of type number or string', rawPort);
      validatePort(rawPort);
    }
    const port = Number(rawPort) | 0;
    if (typeof host !== 'string') throw ERR_INVALID_ARG_TYPE('hostname', 'of type string', host);
    if (options.family != null && ![0, 4, 6].includes(options.family) && !['IPv4', 'IPv6'].includes(options.family)) {
      throw ERR_INVALID_ARG_VALUE('options.family', options.family, 'must be one of: 0, 4, 6');
    }
    if (options.hints !== undefined && options.hints !== null) validateNumber(options.hints, 'options.hints');
    if (options.lookup != null) validateFunction(options.lookup, 'options.lookup');
    if (options.noDelay !== undefined) this.wantNoDelay = Boolean(options.noDelay);
    if (options.keepAlive) this.wantKeepAlive = [true, Math.trunc((options.keepAliveInitialDelay ?? 0) / 1000) * 1000];
    if (cb !== null) this.once('connect', cb);
    this.touch();
    this.connecting = true;
    this.updateRef();
    if (isIP(host)) {
      this.ctx.defer(() => {
        if (this.connecting) this.internalConnect(host, port, localAddress, localPort);
      });
      return this;
    }
    this._host = host;
    const lookup: LookupFunction = options.lookup ?? this.ctx.lookup;
    const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : (options.family ?? 0);
    this.lookupPending = true;
    this.updateRef();
    lookup(host, { family, hints: options.hints || 0, all: false }, (err, ip, addressType) => {
      this.lookupPending = false;
      if (Array.isArray(ip)) {
        const first = ip.find((a) => a.family === 4) ?? ip[0];
        ip = first?.address;
        addressType = first?.family;
      }
      this.emit('lookup', err, ip, addressType, host);
      if (!this.connecting) return;
      if (err) this.ctx.defer(() => this.destroy(err));
      else if (typeof ip !== 'string' || !isIP(ip)) {
        const e = ERR_INVALID_IP_ADDRESS(ip);
        this.ctx.defer(() => this.destroy(e));
      } else {
        this.touch();
        this.internalConnect(ip, port, localAddress, localPort);
      }
      this.updateRef();
    });
    return this;
  }

  private internalConnect(address: string, port: number, localAddress?: string, localPort?: number): void {
    this.peer = { address, port };
    const remote = toIpv4(address);
    if (remote === null || remote === 0) {
      // tcplab speaks IPv4 only: an IPv6 destination has no route.
      this.destroy(exceptionWithHostPort(remote === 0 ? 'ECONNREFUSED' : 'ENETUNREACH', 'connect', address, port));
      return;
    }
    let local: number | undefined;
    if (localAddress) {
      const l = toIpv4(localAddress);
      if (l === null) {
        this.destroy(exceptionWithHostPort('EAFNOSUPPORT', 'bind', localAddress, localPort));
        return;
      }
      local = l === 0 ? undefined : l;
    }
    if (localAddress && localPort) this.connectLocal = `${localAddress}:${localPort}`;
    let conn;
    try {
      conn = this.ctx.stack.tcp.connect({ remoteAddress: remote, remotePort: port, localAddress: local, localPort: localPort || undefined }, {});
    } catch (e) {
      if (e instanceof TcpError) {
        if (e.code === 'EADDRNOTAVAIL' && localAddress) this.destroy(exceptionWithHostPort(e.code, 'bind', localAddress, localPort));
        else this.destroy(exceptionWithHostPort(e.code, 'connect', address, port, this.connectLocal));
        return;
      }
      throw e;
    }
    this.attachTransport(new TcpTransport(conn));
  }

  private connectUnix(path: string): void {
    const real = new realNet.Socket({ allowHalfOpen: true });
    const t = new UnixTransport(real, path);
    this.attachTransport(t);
    if (!this.refed) real.unref();
    real.connect(path);
  }

  private attachTransport(t: Transport): void {
    this._transport = t;
    this.transportClosed = false;
    const ev: TransportEvents = {
      connect: () => this.ctx.defer(() => this.afterConnect()),
      readable: () => this.ctx.defer(() => this.pull()),
      writable: () => this.ctx.defer(() => this.flushWrite()),
      end: () => this.ctx.defer(() => {
        this.finSeen = true;
        this.pull();
      }),
      close: (err) => this.ctx.defer(() => this.onTransportClose(err)),
    };
    t.attach(ev);
    this.updateRef();
  }

  private afterConnect(): void {
    if (!this.connecting || this.destroyed) return;
    this.connecting = false;
    this.touch();
    this.applyOptions();
    this.emit('connect');
    this.emit('ready');
    if (!this.isPaused()) this.read(0);
    this.pull();
    this.updateRef();
  }

  private applyOptions(): void {
    const t = this._transport;
    if (t === null) return;
    if (this.wantNoDelay) t.setNoDelay(true);
    if (this.wantKeepAlive !== null) t.setKeepAlive(this.wantKeepAlive[0], this.wantKeepAlive[1] || undefined);
  }

  private resetForReconnect(): void {
    this._transport = null;
    this.peer = null;
    this.finSeen = false;
    this.eofPushed = false;
    this.transportClosed = false;
    this.pendingWrite = null;
    this.reading = false;
    const undestroy = (this as unknown as { _undestroy?: () => void })._undestroy;
    if (typeof undestroy === 'function') undestroy.call(this);
  }

  // ---------------------------------------------------------------- reading

  override _read(_size: number): void {
    this.reading = true;
    if (this.connecting || this._transport === null) return;
    this.pull();
  }

  private pull(): void {
    const t = this._transport;
    if (t === null || this.destroyed || this.connecting) return;
    while (this.reading && !this.destroyed) {
      const chunk = t.read();
      if (chunk === null) break;
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      this.bytesReadCount += buf.length;
      this.touch();
      if (!this.push(buf)) this.reading = false;
    }
    if (this.reading && this.finSeen && !this.eofPushed && t.readableLength === 0 && !this.destroyed) {
      this.eofPushed = true;
      this.push(null);
    }
    this.updateRef();
  }

  // ---------------------------------------------------------------- writing

  override write(chunk: any, encoding?: any, cb?: any): boolean {
    if (this.writeAfterFin && this.writableEnded) {
      // As Node's writeAfterFIN: the peer ended and we (allowHalfOpen false) ended too.
      if (typeof encoding === 'function') cb = encoding;
      const er = new Error('This socket has been ended by the other party');
      (er as Error & { code: string }).code = 'EPIPE';
      if (typeof cb === 'function') process.nextTick(cb, er);
      this.destroy(er);
      return false;
    }
    return super.write(chunk, encoding, cb);
  }

  override _write(chunk: any, encoding: BufferEncoding, cb: (err?: Error | null) => void): void {
    // A string becomes bytes we own; the caller's buffer is copied by the transport as it
    // takes it (the caller may reuse it once the callback ran), straight into the send queue.
    if (typeof chunk === 'string') this.writeData(Buffer.from(chunk, encoding), true, cb);
    else this.writeData(chunk as Uint8Array, false, cb);
  }

  override _writev(chunks: Array<{ chunk: any; encoding: BufferEncoding }>, cb: (err?: Error | null) => void): void {
    const data = Buffer.concat(chunks.map((c) => (typeof c.chunk === 'string' ? Buffer.from(c.chunk, c.encoding) : c.chunk as Uint8Array)));
    this.writeData(data, true, cb);
  }

  private writeData(data: Uint8Array, owned: boolean, userCb: (err?: Error | null) => void): void {
    // As Node's bytesWritten: a chunk counts once it is dispatched to the connection.
    this.dispatched += data.length;
    this.inflight = data.length;
    const cb = (err?: Error | null): void => {
      this.inflight = 0;
      userCb(err);
    };
    if (this.connecting) {
      this.pendingWrite = { data, owned, cb };
      this.once('connect', () => this.flushWrite());
      return;
    }
    if (this._transport === null) {
      cb(ERR_SOCKET_CLOSED());
      return;
    }
    this.pendingWrite = { data, owned, cb };
    this.flushWrite();
  }

  private flushWrite(): void {
    const pw = this.pendingWrite;
    const t = this._transport;
    if (pw === null || t === null || this.connecting) return;
    let n: number;
    try {
      n = t.send(pw.data, pw.owned);
    } catch (e) {
      this.pendingWrite = null;
      pw.cb(this.mapError(e, 'write'));
      return;
    }
    this.taken += n;
    if (n > 0) this.touch();
    if (n >= pw.data.length) {
      this.pendingWrite = null;
      this.updateRef();
      pw.cb();
    } else {
      pw.data = pw.data.subarray(n);
      this.updateRef();
    }
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.connecting) {
      this.once('connect', () => this._final(cb));
      return;
    }
    const t = this._transport;
    if (t !== null && !this.transportClosed) {
      try {
        t.shutdown();
      } catch {
        // already closed: nothing to finish
      }
    }
    this.ctx.defer(() => cb());
  }

  // ---------------------------------------------------------------- closing

  /**
   * End the write side and destroy once it has finished, without waiting for
   * the peer's FIN. Not in Node's docs, but Node's net.Socket has it and Node's
   * http client calls it on a connection it will not reuse: without it the
   * socket would stay open (and keep the process alive) until the peer closes.
   */
  destroySoon(): void {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once('finish', () => this.destroy());
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.connecting = false;
    this.lookupPending = false;
    this.idleTimer?.stop();
    this.pendingWrite = null;
    const t = this._transport;
    if (t !== null && !this.transportClosed) {
      // As close(2): FIN after what was queued, or RST when unread data is left.
      try {
        if (this.resetOnClose) t.abort();
        else t.close();
      } catch {
        // already gone
      }
    }
    cb(err);
    const server = this._server;
    if (server !== null) server._socketClosed(this);
    this.updateRef();
    this.ctx.later(() => this.emit('close', err !== null && err !== undefined));
  }

  /** Close at once with RST (Node's resetAndDestroy): 'close' without an error here, ECONNRESET at the peer. */
  resetAndDestroy(): this {
    if (this._transport !== null) {
      if (this.connecting) this.once('connect', () => this.resetAndDestroy());
      else {
        this.resetOnClose = true;
        this.destroy();
      }
      return this;
    }
    this.destroy(ERR_SOCKET_CLOSED());
    return this;
  }

  private onTransportClose(err: Error | null): void {
    this.transportClosed = true;
    if (this.destroyed) return;
    if (err !== null) {
      this.destroy(this.mapError(err, this.connecting ? 'connect' : 'read'));
      return;
    }
    if (this.connecting) {
      this.destroy(exceptionWithHostPort('ECONNREFUSED', 'connect', this.peer?.address, this.peer?.port));
      return;
    }
    this.finSeen = true;
    this.pull();
    this.updateRef();
  }

  private mapError(e: unknown, syscall: string): Error {
    if (e instanceof TcpError) {
      if (syscall === 'connect') return exceptionWithHostPort(e.code, 'connect', this.peer?.address, this.peer?.port, this.connectLocal);
      return errnoException(e.code, syscall);
    }
    return e as Error;
  }

  // ---------------------------------------------------------------- keeping the process alive

  private updateRef(): void {
    const t = this._transport;
    const active = !this.destroyed && (this.connecting || this.lookupPending || this.pendingWrite !== null ||
      (t !== null && !this.transportClosed && this.reading && !this.eofPushed));
    this.loopRef.set(this.refed && active && !(t !== null && t.ownsLoopRef));
  }

  ref(): this {
    this.refed = true;
    this._transport?.ref();
    this.updateRef();
    return this;
  }

  unref(): this {
    this.refed = false;
    this._transport?.unref();
    this.updateRef();
    return this;
  }

  // ---------------------------------------------------------------- options

  setTimeout(msecs: number, callback?: () => void): this {
    this.timeout = msecs;
    msecs = validateTimeout(msecs);
    this.idleMs = msecs;
    this.idleTimer?.stop();
    if (msecs === 0) {
      if (callback !== undefined) {
        validateFunction(callback, 'callback');
        this.removeListener('timeout', callback);
      }
    } else {
      if (this.idleTimer === null) {
        this.idleTimer = this.ctx.stack.clock.createTimer(() => this.ctx.defer(() => {
          if (!this.destroyed) this.emit('timeout');
        }));
      }
      if (!this.destroyed) this.idleTimer.start(msecs);
      if (callback !== undefined) {
        validateFunction(callback, 'callback');
        this.once('timeout', callback);
      }
    }
    return this;
  }

  /** Activity: restart the idle timer. */
  private touch(): void {
    if (this.idleMs > 0 && this.idleTimer !== null && !this.destroyed) this.idleTimer.start(this.idleMs);
  }

  setNoDelay(noDelay?: boolean): this {
    const on = noDelay === undefined ? true : Boolean(noDelay);
    this.wantNoDelay = on;
    if (this._transport !== null && !this.connecting && !this.transportClosed) this._transport.setNoDelay(on);
    return this;
  }

  /**
   * SO_KEEPALIVE. `initialDelay` is in ms, used in whole seconds as Node does
   * (0 leaves it unchanged). tcplab extension: `interval` (ms) and `count`
   * (probes) set TCP_KEEPINTVL and TCP_KEEPCNT.
   */
  setKeepAlive(enable?: boolean, initialDelay?: number, interval?: number, count?: number): this {
    const on = Boolean(enable);
    const idle = Math.trunc(~~(initialDelay ?? 0) / 1000) * 1000;
    if (interval !== undefined) validateNumber(interval, 'interval');
    if (count !== undefined) validateNumber(count, 'count');
    this.wantKeepAlive = [on, idle];
    if (this._transport !== null && !this.connecting && !this.transportClosed) {
      this._transport.setKeepAlive(on, idle > 0 ? idle : undefined, interval, count);
    }
    return this;
  }

  // ---------------------------------------------------------------- properties

  address(): AddressInfo | string | Record<string, never> {
    const t = this._transport;
    if (t === null || this.connecting) return {};
    return t.local() ?? {};
  }

  get bytesRead(): number {
    return this.bytesReadCount;
  }

  get bytesWritten(): number {
    return this.dispatched + this.writableLength - this.inflight;
  }

  get bufferSize(): number | undefined {
    if (this._transport === null && !this.connecting) return undefined;
    return this.writableLength;
  }

  get pending(): boolean {
    return this._transport === null || this.connecting;
  }

  get readyState(): string {
    if (this.connecting) return 'opening';
    if (this.readable && this.writable) return 'open';
    if (this.readable && !this.writable) return 'readOnly';
    if (!this.readable && this.writable) return 'writeOnly';
    return 'closed';
  }

  private localInfo(): AddressInfo | null {
    const t = this._transport;
    if (t === null || this.connecting) return null;
    const l = t.local();
    return typeof l === 'object' ? l : null;
  }

  private remoteInfo(): AddressInfo | null {
    const t = this._transport;
    if (t === null || this.connecting) return null;
    const r = t.remote();
    return typeof r === 'object' ? r : null;
  }

  get localAddress(): string | undefined {
    return this.localInfo()?.address;
  }

  get localPort(): number | undefined {
    return this.localInfo()?.port;
  }

  get localFamily(): string | undefined {
    return this.localInfo()?.family;
  }

  get remoteAddress(): string | undefined {
    return this.remoteInfo()?.address;
  }

  get remotePort(): number | undefined {
    return this.remoteInfo()?.port;
  }

  get remoteFamily(): string | undefined {
    return this.remoteInfo()?.family;
  }

  /** The TcpConnection under this socket (tcplab introspection), or null. */
  get connection(): import('../stack/tcp/connection').TcpConnection | null {
    return this._transport?.connection ?? null;
  }
}

export function validateSocketOptionsBoolean(v: unknown, name: string): void {
  if (v !== undefined) validateBoolean(v, name);
}
