// Probing a silent or closed-window peer: zero-window probes on the persist
// timer (RFC 9293 3.8.6.1) and keepalives (RFC 1122 4.2.3.6), both as Linux
// sends them (an ACK with SEG.SEQ = SND.UNA - 1, which any live peer must
// answer), both giving up after a count with ETIMEDOUT.

import { TCP_ACK, TCP_RST } from '../wire/tcp';
import { TcpError } from './errors';
import { sendAllowed } from './output';
import { acceptableSeq, sendControl } from './segment-out';
import { seqAdd } from './seq';
import { enterClosed } from './state';
import { T_NONE, T_PERSIST, type Tcb } from './tcb';
import { keepaliveTimer, setTimer } from './timers';

/** The persist timer fired. */
export function persistTimeout(c: Tcb): void {
  // Linux gives up after tcp_retries2 probes that got no answer at all; a peer that
  // keeps answering (with a zero window) resets the count and is never given up on.
  if (c.probesOut >= c.config.dataRetries) {
    enterClosed(c, 'zero-window probes unanswered', new TcpError('ETIMEDOUT', 'connection timed out'));
    return;
  }
  c.rto.backoff++;
  if (c.sndWnd > 0) {
    // A small window that never grew: the override timeout of RFC 9293 3.8.6.2.1 sends what fits.
    c.persistForce = true;
    sendAllowed(c);
    c.persistForce = false;
    if (c.timerKind === T_NONE) setTimer(c, T_PERSIST, c.rto.current());
    return;
  }
  // The peer must answer with its current window (RFC 9293 3.8.6.1).
  c.probesOut++;
  c.layer.trace.probe(c, 'zero-window', c.probesOut, c.config.dataRetries);
  sendControl(c, TCP_ACK, seqAdd(c.sndUna, -1));
  setTimer(c, T_PERSIST, c.rto.current());
}

/** The keepalive timer fired: probe after the idle time, then every interval, give up after the count (Linux tcp_keepalive_timer). */
export function keepaliveTimeout(c: Tcb): void {
  c.layer.trace.timer(c, 'keepalive', 'fired');
  const cfg = c.config;
  const s = c.state;
  if (!cfg.keepAlive || !(s === 'ESTABLISHED' || s === 'CLOSE-WAIT' || s === 'FIN-WAIT-2')) return;
  const timer = keepaliveTimer(c);
  if (c.flightSize > 0 || c.sendQueue.length > 0) {
    // Data in flight: the retransmission timer watches the peer; look again later.
    timer.start(cfg.keepAliveIntervalMs);
    return;
  }
  const idle = c.layer.clock.now() - c.lastReceiveAt;
  if (idle < cfg.keepAliveIdleMs && c.probesOut === 0) {
    timer.start(cfg.keepAliveIdleMs - idle);
    return;
  }
  if (c.probesOut >= cfg.keepAliveProbes) {
    // Linux resets the connection it gives up on (tcp_send_active_reset) and reports ETIMEDOUT.
    sendControl(c, TCP_RST | TCP_ACK, acceptableSeq(c));
    enterClosed(c, 'keepalive: no answer', new TcpError('ETIMEDOUT', 'connection timed out'));
    c.layer.afterTimer(c);
    return;
  }
  c.probesOut++;
  c.layer.trace.probe(c, 'keepalive', c.probesOut, cfg.keepAliveProbes);
  sendControl(c, TCP_ACK, seqAdd(c.sndUna, -1));
  timer.start(cfg.keepAliveIntervalMs);
  c.layer.trace.timer(c, 'keepalive', 'set', timer.deadline);
  c.layer.afterTimer(c);
}
