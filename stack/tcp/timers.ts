// The connection's timers and how they are armed: one retransmission-class
// timer that is the retransmission timer (RFC 6298 5), the persist timer
// (RFC 9293 3.8.6.1) or the 2MSL wait (RFC 9293 3.3.2), since only one is ever
// needed at a time; the keepalive timer (RFC 1122 4.2.3.6); the delayed-ACK
// timer (RFC 1122 4.2.3.2). What each does when it fires lives with its
// concern: recovery/timeout.ts, sender.ts (persist), state.ts (2MSL),
// keepalive.ts, ack-policy.ts (delayed ACK); connection.ts routes the calls.

import type { Timer } from '../time/clock';
import { T_NONE, T_PERSIST, T_RTX, T_TIMEWAIT, type Tcb } from './tcb';

const TIMER_NAMES = ['none', 'rtx', 'persist', 'time-wait'];

/** The name of the retransmission-class timer's current use, for the trace. */
export function timerName(kind: number): string {
  return TIMER_NAMES[kind];
}

/** (Re)start the retransmission timer with the current RTO (RFC 6298 5.1, 5.3). */
export function armRtx(c: Tcb): void {
  let rto = c.rto.current();
  // Never sleep past the user timeout (as Linux tcp_clamp_rto_to_user_timeout).
  const ut = c.config.userTimeoutMs;
  if (ut > 0 && c.unackedSince >= 0) rto = Math.max(1, Math.min(rto, c.unackedSince + ut - c.layer.clock.now()));
  setTimer(c, T_RTX, rto);
}

/** Start probing a closed window, unless the retransmission timer already watches the peer. */
export function armPersist(c: Tcb): void {
  if (c.timerKind === T_PERSIST || c.timerKind === T_RTX) return;
  // RFC 9293 3.8.6.1: probe a zero window; Linux uses the RTO with backoff, capped.
  setTimer(c, T_PERSIST, Math.max(c.rto.current(), c.config.minRtoMs));
}

/** The 2MSL wait of TIME-WAIT (RFC 9293 3.3.2). */
export function armTimeWait(c: Tcb): void {
  setTimer(c, T_TIMEWAIT, 2 * c.config.mslMs);
}

export function setTimer(c: Tcb, kind: number, delay: number): void {
  c.timerKind = kind;
  c.timer.start(delay);
  c.layer.trace.timer(c, TIMER_NAMES[kind], 'set', c.timer.deadline);
}

export function stopTimer(c: Tcb): void {
  if (c.timerKind !== T_NONE && c.timer.armed) {
    c.timer.stop();
    c.layer.trace.timer(c, TIMER_NAMES[c.timerKind], 'cancelled');
  }
  c.timerKind = T_NONE;
}

/** The keepalive timer: after the idle time, or the probe interval once probing (Linux tcp_keepalive_timer). */
export function armKeepalive(c: Tcb): void {
  const timer = keepaliveTimer(c);
  const cfg = c.config;
  const due = c.probesOut > 0 ? cfg.keepAliveIntervalMs : Math.max(0, c.lastReceiveAt + cfg.keepAliveIdleMs - c.layer.clock.now());
  timer.start(due);
  c.layer.trace.timer(c, 'keepalive', 'set', timer.deadline);
}

export function keepaliveTimer(c: Tcb): Timer {
  if (c.keepaliveTimer === null) c.keepaliveTimer = c.layer.clock.createTimer(() => c.onKeepaliveTimer());
  return c.keepaliveTimer;
}

/** Start the delayed-ACK timer unless it runs already. */
export function armDelayedAck(c: Tcb, reason: string): void {
  if (c.delackTimer === null) c.delackTimer = c.layer.clock.createTimer(() => c.onDelayedAckTimer());
  if (c.delackTimer.armed) return;
  const ms = c.config.delayedAckMs;
  c.delackTimer.start(ms);
  c.layer.trace.ack(c, 'delayed', reason, ms);
  c.layer.trace.timer(c, 'delack', 'set', c.delackTimer.deadline);
}

/** An ACK went out: the delayed one is no longer owed. */
export function stopDelayedAck(c: Tcb): void {
  const d = c.delackTimer;
  if (d !== null && d.armed) {
    d.stop();
    c.layer.trace.timer(c, 'delack', 'cancelled');
  }
}

/** Every timer stops (the connection is CLOSED). */
export function stopAllTimers(c: Tcb): void {
  stopTimer(c);
  c.keepaliveTimer?.stop();
  c.delackTimer?.stop();
}
