// Node-shaped errors: the internal error classes of Node (TypeError/RangeError/Error
// with a `code`, printed as `TypeError [CODE]: message`) and the system errors
// (`connect ECONNREFUSED 127.0.0.1:80` with code, errno, syscall, address, port).

import { inspect } from 'node:util';
import { TcpError } from '../stack/tcp/errors';

type ErrorClass = ErrorConstructor | TypeErrorConstructor | RangeErrorConstructor;

/** An error as Node's internal/errors makes them: own enumerable `code`, `Name [CODE]: message`. */
export function nodeError(Base: ErrorClass, code: string, message: string, caller?: Function): Error {
  const err = new Base(message);
  Object.defineProperty(err, 'code', { value: code, enumerable: true, writable: true, configurable: true });
  Object.defineProperty(err, 'toString', {
    value(this: Error) {
      return `${this.name} [${code}]: ${this.message}`;
    },
    enumerable: false, writable: true, configurable: true,
  });
  if (caller !== undefined) Error.captureStackTrace(err, caller);
  if (typeof err.stack === 'string') err.stack = err.stack.replace(`${err.name}: `, `${err.name} [${code}]: `);
  return err;
}

/** How Node describes a received value (internal/errors determineSpecificType). */
export function describeReceived(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return `function ${(value as Function).name}`;
  if (typeof value === 'object') {
    const ctor = (value as object).constructor;
    if (ctor !== undefined && ctor !== null && typeof ctor.name === 'string' && ctor.name !== '') return `an instance of ${ctor.name}`;
    return inspect(value, { depth: -1 });
  }
  let shown = inspect(value, { colors: false });
  if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
  return `type ${typeof value} (${shown})`;
}

function describeValue(value: unknown): string {
  let shown = inspect(value);
  if (shown.length > 128) shown = `${shown.slice(0, 128)}...`;
  return shown;
}

function kind(name: string): string {
  return name.includes('.') ? 'property' : 'argument';
}

export function ERR_INVALID_ARG_TYPE(name: string, expected: string, actual: unknown): Error {
  return nodeError(TypeError, 'ERR_INVALID_ARG_TYPE',
    `The "${name}" ${kind(name)} must be ${expected}. Received ${describeReceived(actual)}`);
}

export function ERR_INVALID_ARG_VALUE(name: string, value: unknown, reason = 'is invalid'): Error {
  return nodeError(TypeError, 'ERR_INVALID_ARG_VALUE', `The ${kind(name)} '${name}' ${reason}. Received ${describeValue(value)}`);
}

export function ERR_OUT_OF_RANGE(name: string, range: string, received: unknown): Error {
  return nodeError(RangeError, 'ERR_OUT_OF_RANGE', `The value of "${name}" is out of range. It must be ${range}. Received ${String(received)}`);
}

export function ERR_SOCKET_BAD_PORT(name: string, port: unknown, allowZero = true): Error {
  const op = allowZero ? '>=' : '>';
  return nodeError(RangeError, 'ERR_SOCKET_BAD_PORT', `${name} should be ${op} 0 and < 65536. Received ${describeReceived(port)}.`);
}

export function ERR_MISSING_ARGS(...names: string[]): Error {
  const list = names.map((n) => `"${n}"`).join(' or ');
  return nodeError(TypeError, 'ERR_MISSING_ARGS', `The ${list} argument must be specified`);
}

export function ERR_SERVER_ALREADY_LISTEN(): Error {
  return nodeError(Error, 'ERR_SERVER_ALREADY_LISTEN', 'Listen method has been called more than once without closing.');
}

export function ERR_SERVER_NOT_RUNNING(): Error {
  return nodeError(Error, 'ERR_SERVER_NOT_RUNNING', 'Server is not running.');
}

export function ERR_SOCKET_CLOSED(): Error {
  return nodeError(Error, 'ERR_SOCKET_CLOSED', 'Socket is closed');
}

export function ERR_INVALID_IP_ADDRESS(ip: unknown): Error {
  return nodeError(TypeError, 'ERR_INVALID_IP_ADDRESS', `Invalid IP address: ${String(ip)}`);
}

export function ERR_INVALID_FD_TYPE(type: string): Error {
  return nodeError(TypeError, 'ERR_INVALID_FD_TYPE', `Unsupported fd type: ${type}`);
}

// ---------------------------------------------------------------- system errors

/** errno values as Node reports them on Linux (negated). */
export const ERRNO: Record<string, number> = {
  ECONNREFUSED: -111, ECONNRESET: -104, ETIMEDOUT: -110, EHOSTUNREACH: -113, ENETUNREACH: -101,
  EADDRINUSE: -98, EADDRNOTAVAIL: -99, EPIPE: -32, ENOTCONN: -107, EINVAL: -22, ENOTSUP: -95,
  EAFNOSUPPORT: -97, ENOTFOUND: -3008, EAI_AGAIN: -3001,
};

/** libuv's uv_strerror texts, for the errors listen reports. */
const UV_MESSAGE: Record<string, string> = {
  EADDRINUSE: 'address already in use', EADDRNOTAVAIL: 'address not available', EINVAL: 'invalid argument',
  ENOTSUP: 'operation not supported on socket', EACCES: 'permission denied', EAFNOSUPPORT: 'address family not supported',
};

export interface SystemError extends Error {
  code: string;
  errno: number;
  syscall: string;
  address?: string | null;
  port?: number;
}

function define(err: Error, props: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined) continue;
    Object.defineProperty(err, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
}

/** As Node's exceptionWithHostPort: `connect ECONNREFUSED 127.0.0.1:80` (+ ` - Local (a:p)`). */
export function exceptionWithHostPort(code: string, syscall: string, address?: string, port?: number,
  additional?: string): SystemError {
  let details = '';
  if (port !== undefined && port > 0) details = ` ${address}:${port}`;
  else if (address !== undefined) details = ` ${address}`;
  if (additional !== undefined) details += ` - Local (${additional})`;
  const err = new Error(`${syscall} ${code}${details}`);
  define(err, { errno: ERRNO[code] ?? -1, code, syscall, address, port: port !== undefined && port > 0 ? port : undefined });
  return err as SystemError;
}

/** As Node's UVExceptionWithHostPort (what listen reports): `listen EADDRINUSE: address already in use 0.0.0.0:80`. */
export function uvExceptionWithHostPort(code: string, syscall: string, address: string | null, port: number | undefined,
  why?: string): SystemError {
  let msg = `${syscall} ${code}: ${why ?? UV_MESSAGE[code] ?? code}`;
  if (address !== null && port !== undefined && port >= 0) msg += ` ${address}:${port}`;
  else if (address !== null) msg += ` ${address}`;
  const err = new Error(msg);
  define(err, { code, errno: ERRNO[code] ?? -1, syscall, address, port: port !== undefined && port >= 0 ? port : undefined });
  return err as SystemError;
}

/** As Node's errnoException: `read ECONNRESET`. */
export function errnoException(code: string, syscall: string): SystemError {
  const err = new Error(`${syscall} ${code}`);
  define(err, { errno: ERRNO[code] ?? -1, code, syscall });
  return err as SystemError;
}

/** As Node's dnsException for a failed getaddrinfo: `getaddrinfo ENOTFOUND example.com`. */
export function dnsException(code: string, syscall: string, hostname: string): SystemError {
  const err = new Error(`${syscall} ${code} ${hostname}`);
  define(err, { errno: ERRNO[code] ?? -1, code, syscall, hostname });
  return err as SystemError;
}

export function isTcpError(e: unknown): e is TcpError {
  return e instanceof TcpError;
}
