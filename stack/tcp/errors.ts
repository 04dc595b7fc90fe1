// Errors a connection ends with. Codes and errnos are the ones Node reports
// for the same failure on a kernel socket.

const ERRNO: Record<string, number> = {
  ECONNREFUSED: -111,
  ECONNRESET: -104,
  ETIMEDOUT: -110,
  EHOSTUNREACH: -113,
  ENETUNREACH: -101,
  EADDRINUSE: -98,
  EADDRNOTAVAIL: -99,
  EPIPE: -32,
  ENOTCONN: -107,
  EINVAL: -22,
};

export type TcpErrorCode = keyof typeof ERRNO | string;

export class TcpError extends Error {
  readonly code: string;
  readonly errno: number;
  constructor(code: string, message?: string) {
    super(message ?? code);
    this.name = 'TcpError';
    this.code = code;
    this.errno = ERRNO[code] ?? -1;
  }
}
