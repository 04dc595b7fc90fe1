// When we acknowledge (RFC 1122 4.2.3.2, RFC 5681 4.2, RFC 9293 3.8.6.3): at
// once for out-of-order data, hole fills, quick-ACK mode at the start and every
// second full-sized segment; otherwise after the delayed-ACK timer. An ACK owed
// while the application may still read goes at the end of the batch, so one
// ACK carries the freshest window instead of an ACK and a window update.

import { sendAck } from './segment-out';
import { seqDiff } from './seq';
import { ACK_BATCH, ACK_DELAYED, ACK_NONE, ACK_NOW, type Tcb } from './tcb';
import { armDelayedAck } from './timers';

/** Owe the peer an ACK, at least this urgently (ACK_DELAYED, ACK_BATCH or ACK_NOW). */
export function requestAck(c: Tcb, level: number, reason: string): void {
  if (level > c.ackPending) {
    c.ackPending = level;
    c.ackReason = reason;
  }
}

/**
 * Answer an unacceptable segment (RFC 9293 3.10.7.4 first), or challenge a
 * suspicious one (RFC 5961 3.2, 4.2, 5.2), with an ACK at once; at most one
 * such ACK per invalidRatelimitMs per connection, so two ends that have lost
 * track of each other cannot bounce ACKs for ever (Linux tcp_oow_rate_limited),
 * and challenge ACKs also within the stack's budget (RFC 5961 7). A segment
 * with data is answered always, as Linux does: data does not loop.
 * Returns whether an ACK is owed now.
 */
export function answerInvalid(c: Tcb, reason: string, challenge: boolean, hasData = false): boolean {
  const now = c.layer.clock.now();
  if (!hasData && now - c.lastOowAckAt < c.config.invalidRatelimitMs) {
    c.layer.countDrop('tcp-ack-rate-limited', c);
    return false;
  }
  if (challenge && !c.layer.challengeAckAllowed()) {
    c.layer.countDrop('tcp-challenge-ack-limited', c);
    return false;
  }
  if (!hasData) c.lastOowAckAt = now;
  requestAck(c, ACK_NOW, reason);
  return true;
}

/** In-order data arrived: how urgently to acknowledge it. */
export function ackInOrderData(c: Tcb, filledHole: boolean): void {
  const cfg = c.config;
  if (filledHole) requestAck(c, ACK_NOW, 'segment filled a hole'); // RFC 5681 4.2
  else if (!cfg.delayedAck) requestAck(c, ACK_NOW, 'delayed ACK off');
  else if (c.quickAcks > 0) requestAck(c, ACK_NOW, 'quick ACK at connection start');
  else if (seqDiff(c.rcvNxt, c.lastAckRcvNxt) > c.rcvMssSeen) {
    requestAck(c, ACK_NOW, 'second full-sized segment'); // RFC 1122 4.2.3.2, RFC 5681 4.2
  } else requestAck(c, ACK_DELAYED, 'delayed ACK');
}

/** After output: send the ACK still owed, or arrange for it as urgently as it is owed. */
export function sendOwedAck(c: Tcb): void {
  const a = c.ackPending;
  if (a === ACK_NONE) return;
  const s = c.state;
  if (s === 'CLOSED' || s === 'SYN-SENT' || s === 'LISTEN') {
    c.ackPending = ACK_NONE;
    return;
  }
  if (a === ACK_NOW) {
    c.layer.trace.ack(c, 'immediate', c.ackReason);
    sendAck(c);
  } else if (a === ACK_BATCH) {
    c.layer.scheduleAck(c);
  } else {
    armDelayedAck(c, c.ackReason);
  }
}

/** Called by the layer at the end of a batch: send the ACK still owed, if any. */
export function flushBatchAck(c: Tcb): void {
  c.ackScheduled = false;
  const s = c.state;
  if (c.ackPending >= ACK_BATCH && s !== 'CLOSED' && s !== 'SYN-SENT' && s !== 'LISTEN') sendAck(c);
}

/** The delayed-ACK timer fired. */
export function delayedAckTimeout(c: Tcb): void {
  c.layer.trace.timer(c, 'delack', 'fired');
  if (c.ackPending !== ACK_NONE && c.state !== 'CLOSED') sendAck(c);
  c.layer.afterTimer(c);
}
