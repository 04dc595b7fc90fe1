// State transitions and the end of a connection (RFC 9293 3.3.2): every change
// of state is traced and reported; CLOSED lets go of everything; TIME-WAIT
// keeps the connection for 2MSL and is, for its user, already the end.

import type { TcpError } from './errors';
import { ACK_NONE, N_CLOSE, type Tcb, type TcpState } from './tcb';
import { armTimeWait, stopAllTimers } from './timers';

export function setState(c: Tcb, to: TcpState, cause: string): void {
  const from = c.state;
  if (from === to) return;
  c.state = to;
  c.layer.stateChanged(c, from, to, cause);
}

/** Into CLOSED (RFC 9293 3.3.2): timers stop, queues go, the layer forgets the connection, the user hears. */
export function enterClosed(c: Tcb, cause: string, error: TcpError | null): void {
  stopAllTimers(c);
  c.ackPending = ACK_NONE;
  setState(c, 'CLOSED', cause);
  c.sendQueue.clear();
  c.reassembly = null;
  if (error !== null) c.error = error;
  c.layer.remove(c);
  notifyClosed(c, error);
}

/**
 * Into TIME-WAIT with `cause`, or (without one) restart its 2MSL wait, as a
 * retransmitted FIN does (RFC 9293 3.10.7.4 eighth).
 */
export function startTimeWait(c: Tcb, cause?: string): void {
  if (cause !== undefined && c.state !== 'TIME-WAIT') setState(c, 'TIME-WAIT', cause);
  c.sendQueue.clear();
  armTimeWait(c);
  if (cause !== undefined) notifyClosed(c, null);
}

/** Tell the user the connection is finished for them (once), with the error that ended it. */
export function notifyClosed(c: Tcb, error: TcpError | null): void {
  if (c.closedNotified) return;
  c.closedNotified = true;
  if (error !== null) {
    c.error = error;
    c.layer.trace.error(c, error.code);
  }
  c.pending |= N_CLOSE;
  c.layer.schedule(c);
}
