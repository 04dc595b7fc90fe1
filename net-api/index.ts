// createNet(stack): Node's net API over one tcplab Stack. `stack.net` is the
// same object, made on first use and cached per stack.

import { Stack } from '../stack/stack';
import { NetContext, type LookupFunction, isIP, isIPv4, isIPv6 } from './common';
import { Server as BaseServer, type ServerOptions } from './server';
import { Socket as BaseSocket, type SocketOptions, isNormalized, normalizeArgs } from './socket';

export { BaseServer, BaseSocket };
export type { ServerOptions, SocketOptions };
export type { LookupFunction } from './common';
export { runSettled, defaultLookup } from './common';

export interface CreateNetOptions {
  /** Name resolution for connect() and listen(host); default: IP literals and localhost only. */
  lookup?: LookupFunction;
}

export interface Net {
  readonly stack: Stack;
  Socket: new (options?: SocketOptions) => BaseSocket;
  Stream: new (options?: SocketOptions) => BaseSocket;
  Server: new (options?: ServerOptions | ((socket: BaseSocket) => void), listener?: (socket: BaseSocket) => void) => BaseServer;
  createServer(options?: ServerOptions | ((socket: BaseSocket) => void), listener?: (socket: BaseSocket) => void): BaseServer;
  createConnection(...args: any[]): BaseSocket;
  connect(...args: any[]): BaseSocket;
  isIP(input: unknown): number;
  isIPv4(input: unknown): boolean;
  isIPv6(input: unknown): boolean;
}

export function createNet(stack: Stack, options: CreateNetOptions = {}): Net {
  const ctx = new NetContext(stack, options.lookup);

  class Socket extends BaseSocket {
    constructor(opts?: SocketOptions) {
      super(ctx, opts);
    }
  }
  class Server extends BaseServer {
    constructor(opts?: ServerOptions | ((socket: BaseSocket) => void), listener?: (socket: BaseSocket) => void) {
      super(ctx, opts, listener);
    }
  }
  ctx.Socket = Socket;

  function connect(...args: any[]): BaseSocket {
    const normalized = normalizeArgs(args);
    const opts = normalized[0];
    const socket = new Socket(opts as SocketOptions);
    if (opts.timeout) socket.setTimeout(opts.timeout);
    return socket.connect(normalized as any);
  }

  return {
    stack,
    Socket,
    Stream: Socket,
    Server,
    createServer: (opts, listener) => new Server(opts, listener),
    createConnection: connect,
    connect,
    isIP,
    isIPv4,
    isIPv6,
  };
}

void isNormalized;

const cache = new WeakMap<Stack, Net>();

declare module '../stack/stack' {
  interface Stack {
    /** Node's net API over this stack (tcplab net-api). */
    readonly net: Net;
  }
}

if (!Object.getOwnPropertyDescriptor(Stack.prototype, 'net')) {
  Object.defineProperty(Stack.prototype, 'net', {
    configurable: true,
    enumerable: false,
    get(this: Stack): Net {
      let n = cache.get(this);
      if (n === undefined) {
        n = createNet(this);
        cache.set(this, n);
      }
      return n;
    },
  });
}
