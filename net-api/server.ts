// net.Server over a tcplab TcpListener (or a kernel UNIX socket server for
// paths). Accepted connections become Sockets; 'close' waits for all of them.

import { EventEmitter } from 'node:events';
import * as realNet from 'node:net';
import type { TcpConnection } from '../stack/tcp/connection';
import type { TcpListener } from '../stack/tcp/listener';
import { TcpError } from '../stack/tcp/errors';
import { type AddressInfo, addressInfo, LoopRef, type NetContext, formatIpv4, isIP, toIpv4, validateFunction, validatePort } from './common';
import {
  ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE, ERR_SERVER_ALREADY_LISTEN, ERR_SERVER_NOT_RUNNING, uvExceptionWithHostPort,
} from './errors';
import { Socket, type SocketOptions, isNormalized, isPipeName, kServer, kTransport, normalizeArgs } from './socket';
import { TcpTransport, UnixTransport } from './transport';

export interface ServerOptions {
  allowHalfOpen?: boolean;
  pauseOnConnect?: boolean;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
  highWaterMark?: number;
}

export interface ListenOptions {
  port?: number | string;
  host?: string;
  path?: string;
  backlog?: number;
  exclusive?: boolean;
  ipv6Only?: boolean;
  signal?: AbortSignal;
}

/** Node's default listen backlog. */
const DEFAULT_BACKLOG = 511;

let connectionsWarned = false;

function toNumber(x: unknown): number | false {
  const n = Number(x);
  return n >= 0 ? n : false;
}

export class Server extends EventEmitter {
  readonly ctx: NetContext;
  /** Beyond this many connections, new ones are closed as soon as they are accepted (and 'drop' is emitted). */
  maxConnections: number | undefined = undefined;
  /** @internal */ _listener: TcpListener | null = null;
  /** @internal */ _unix: realNet.Server | null = null;
  /** @internal */ _connections = 0;
  private readonly sockets = new Set<Socket>();
  private readonly socketOptions: SocketOptions;
  private readonly pauseOnConnect: boolean;
  private refed = true;
  private readonly loopRef: LoopRef;
  /** Bumped by each listen/close, so a late lookup does not bind a closed server. */
  private generation = 0;

  constructor(ctx: NetContext, options?: ServerOptions | ((socket: Socket) => void), connectionListener?: (socket: Socket) => void) {
    super();
    this.ctx = ctx;
    this.loopRef = new LoopRef(ctx.real, this);
    let opts: ServerOptions;
    if (typeof options === 'function') {
      connectionListener = options;
      opts = {};
    } else if (options === undefined || options === null) opts = {};
    else if (typeof options === 'object') opts = { ...options };
    else throw ERR_INVALID_ARG_TYPE('options', 'of type object', options);
    if (connectionListener !== undefined) this.on('connection', connectionListener);
    this.pauseOnConnect = Boolean(opts.pauseOnConnect);
    this.socketOptions = {
      allowHalfOpen: Boolean(opts.allowHalfOpen),
      pauseOnConnect: this.pauseOnConnect,
      noDelay: Boolean(opts.noDelay),
      keepAlive: Boolean(opts.keepAlive),
      keepAliveInitialDelay: opts.keepAliveInitialDelay,
      highWaterMark: opts.highWaterMark,
    };
  }

  get allowHalfOpen(): boolean {
    return Boolean(this.socketOptions.allowHalfOpen);
  }

  get listening(): boolean {
    return this._listener !== null || (this._unix !== null && this._unix.listening);
  }

  /** @deprecated Use getConnections(). */
  get connections(): number {
    if (!connectionsWarned) {
      connectionsWarned = true;
      process.emitWarning('Server.connections property is deprecated. Use Server.getConnections method instead.',
        'DeprecationWarning', 'DEP0020');
    }
    return this._connections;
  }

  set connections(v: number) {
    this._connections = v;
  }

  // ---------------------------------------------------------------- listen

  listen(port?: number, hostname?: string, backlog?: number, listeningListener?: () => void): this;
  listen(port?: number, hostname?: string, listeningListener?: () => void): this;
  listen(port?: number, backlog?: number, listeningListener?: () => void): this;
  listen(port?: number, listeningListener?: () => void): this;
  listen(path: string, backlog?: number, listeningListener?: () => void): this;
  listen(path: string, listeningListener?: () => void): this;
  listen(options: ListenOptions, listeningListener?: () => void): this;
  listen(handle: any, backlog?: number, listeningListener?: () => void): this;
  listen(handle: any, listeningListener?: () => void): this;
  listen(...args: any[]): this {
    const normalized = isNormalized(args[0]) ? args[0] : normalizeArgs(args);
    let options: any = normalized[0];
    const cb = normalized[1];
    if (this.listening) throw ERR_SERVER_ALREADY_LISTEN();
    if (cb !== null) this.once('listening', cb);
    const backlogFromArgs = toNumber(args.length > 1 && args[1]) || toNumber(args.length > 2 && args[2]);
    // (handle[, backlog][, cb])
    if (options instanceof Server || options instanceof Socket) {
      this.listenOnHandle(options);
      return this;
    }
    options = options._handle || options.handle || options;
    if (options instanceof Server || options instanceof Socket) {
      this.listenOnHandle(options);
      return this;
    }
    if (typeof options.fd === 'number' && options.fd >= 0) {
      const fd = options.fd;
      this.ctx.defer(() => this.emit('error', uvExceptionWithHostPort('ENOTSUP', 'listen', null, undefined,
        `operation not supported on socket: tcplab listens in its own userspace stack and cannot take over kernel file descriptor ${fd}`)));
      return this;
    }
    if (args.length === 0 || typeof args[0] === 'function' || (typeof options.port === 'undefined' && 'port' in options) ||
      options.port === null) {
      options.port = 0;
    }
    if (typeof options.port === 'number' || typeof options.port === 'string') {
      const port = validatePort(options.port, 'options.port');
      const backlog = options.backlog || backlogFromArgs || DEFAULT_BACKLOG;
      if (options.host) this.lookupAndListen(port, options.host, backlog);
      else this.listenTcp(0, port, backlog);
      return this;
    }
    if (options.path && isPipeName(options.path)) {
      const backlog = options.backlog || backlogFromArgs || DEFAULT_BACKLOG;
      this.listenUnix(options.path, backlog);
      return this;
    }
    if (!('port' in options || 'path' in options)) {
      throw ERR_INVALID_ARG_VALUE('options', options, 'must have the property "port" or "path"');
    }
    throw ERR_INVALID_ARG_VALUE('options', options);
  }

  private lookupAndListen(port: number, host: string, backlog: number): void {
    const gen = ++this.generation;
    const literal = toIpv4(host);
    if (literal !== null) {
      this.listenTcp(literal, port, backlog);
      return;
    }
    if (isIP(host) === 6) {
      // IPv6: tcplab has no IPv6 address to bind.
      this.ctx.defer(() => this.emit('error', uvExceptionWithHostPort('EADDRNOTAVAIL', 'listen', host, port)));
      return;
    }
    this.ctx.lookup(host, { family: 4 }, (err, ip) => {
      if (gen !== this.generation) return;
      if (err) {
        this.emit('error', err);
        return;
      }
      const addr = typeof ip === 'string' ? toIpv4(ip) : null;
      if (addr === null) {
        this.emit('error', uvExceptionWithHostPort('EADDRNOTAVAIL', 'listen', String(ip), port));
        return;
      }
      this.listenTcp(addr, port, backlog);
    });
  }

  private listenTcp(address: number, port: number, backlog: number): void {
    ++this.generation;
    const stack = this.ctx.stack;
    if (address !== 0 && !stack.ip.isLocalAddress(address)) {
      this.ctx.defer(() => this.emit('error', uvExceptionWithHostPort('EADDRNOTAVAIL', 'listen', formatIpv4(address), port)));
      return;
    }
    try {
      this._listener = stack.tcp.listen({ address, port, backlog }, { onConnection: (c) => this.onConnection(c) });
    } catch (e) {
      if (e instanceof TcpError) {
        this.ctx.defer(() => this.emit('error', uvExceptionWithHostPort(e.code, 'listen', formatIpv4(address), port)));
        return;
      }
      throw e;
    }
    this.started();
  }

  private listenOnHandle(handle: Server | Socket): void {
    if (handle.ctx.stack !== this.ctx.stack) {
      throw ERR_INVALID_ARG_VALUE('handle', `[${handle.constructor.name}]`, 'belongs to another tcplab stack');
    }
    if (handle instanceof Socket || handle._listener === null) {
      // A connected (or never bound) socket cannot listen: listen(2) says EINVAL.
      this.ctx.defer(() => this.emit('error', uvExceptionWithHostPort('EINVAL', 'listen', null, undefined)));
      return;
    }
    // Take the listening endpoint over: its connections come to this server from now on.
    const l = handle._listener;
    handle._listener = null;
    handle.updateRef();
    l.handler = { onConnection: (c) => this.onConnection(c) };
    this._listener = l;
    this.started();
  }

  private listenUnix(path: string, backlog: number): void {
    ++this.generation;
    const real = realNet.createServer({ allowHalfOpen: true, pauseOnConnect: true });
    this._unix = real;
    if (!this.refed) real.unref();
    real.on('connection', (s: realNet.Socket) => this.acceptTransport(new UnixTransport(s, path), () => s.destroy()));
    real.on('error', (e) => {
      if (this._unix === real) this._unix = null;
      this.emit('error', e);
    });
    real.on('listening', () => this.emit('listening'));
    real.listen(path, backlog);
  }

  private started(): void {
    this.updateRef();
    this.ctx.defer(() => {
      if (this._listener !== null) this.emit('listening');
    });
  }

  // ---------------------------------------------------------------- connections

  private onConnection(conn: TcpConnection): void {
    // Called from the stack's dispatch: hand the connection to user code on the next tick.
    this.ctx.defer(() => {
      if (this._listener === null) {
        conn.abort(); // closed meanwhile: as an unaccepted connection of a closed listener
        return;
      }
      this.acceptTransport(new TcpTransport(conn), () => conn.close());
    });
  }

  private acceptTransport(transport: TcpTransport | UnixTransport, reject: () => void): void {
    if (this.maxConnections != null && this._connections >= this.maxConnections) {
      const l = transport.local();
      const r = transport.remote();
      reject();
      if (typeof l === 'object' && typeof r === 'object') {
        this.emit('drop', {
          localAddress: l.address, localPort: l.port, localFamily: l.family,
          remoteAddress: r.address, remotePort: r.port, remoteFamily: r.family,
        });
      } else this.emit('drop');
      return;
    }
    const socket: Socket = new this.ctx.Socket({ ...this.socketOptions, [kTransport]: transport, [kServer]: this });
    this._connections++;
    this.sockets.add(socket);
    this.emit('connection', socket);
  }

  /** @internal A socket of ours was destroyed. */
  _socketClosed(socket: Socket): void {
    if (!this.sockets.delete(socket)) return;
    this._connections--;
    this.emitCloseIfDrained();
  }

  getConnections(cb: (err: Error | null, count: number) => void): this {
    validateFunction(cb, 'callback');
    const n = this._connections;
    this.ctx.defer(() => cb(null, n));
    return this;
  }

  // ---------------------------------------------------------------- close

  close(cb?: (err?: Error) => void): this {
    if (typeof cb === 'function') {
      if (!this.listening) this.once('close', () => cb(ERR_SERVER_NOT_RUNNING()));
      else this.once('close', cb);
    }
    ++this.generation;
    if (this._listener !== null) {
      this._listener.close();
      this._listener = null;
    }
    if (this._unix !== null) {
      this._unix.close();
      this._unix = null;
    }
    this.updateRef();
    this.emitCloseIfDrained();
    return this;
  }

  private emitCloseIfDrained(): void {
    if (this._listener !== null || this._unix !== null || this._connections > 0) return;
    this.ctx.defer(() => this.emit('close'));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.listening) return;
    await new Promise<void>((resolve, reject) => this.close((e) => (e ? reject(e) : resolve())));
  }

  address(): AddressInfo | string | null {
    if (this._listener !== null) {
      return addressInfo(this._listener.localAddr, this._listener.localPort);
    }
    if (this._unix !== null) return this._unix.address();
    return null;
  }

  // ---------------------------------------------------------------- ref

  /** @internal */
  updateRef(): void {
    this.loopRef.set(this.refed && this._listener !== null);
  }

  ref(): this {
    this.refed = true;
    this._unix?.ref();
    this.updateRef();
    return this;
  }

  unref(): this {
    this.refed = false;
    this._unix?.unref();
    this.updateRef();
    return this;
  }
}
