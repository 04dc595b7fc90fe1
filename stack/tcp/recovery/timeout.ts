// The retransmission timeout (RFC 6298 5.4-5.7, RFC 9293 3.8.1): back off,
// give up after the retry limit (or the user timeout, RFC 5482), and otherwise
// go back to SND.UNA and send again as the window allows (cwnd from the
// congestion controller's loss response, RFC 5681 3.1).

import { TcpError } from '../errors';
import { sendSyn } from '../segment-out';
import { resendHead, sendData } from '../sender';
import { enterClosed } from '../state';
import type { Tcb } from '../tcb';
import { armRtx } from '../timers';

export function retransmitTimeout(c: Tcb): void {
  const cfg = c.config;
  const limit = c.state === 'SYN-SENT' ? cfg.synRetries : c.state === 'SYN-RECEIVED' ? cfg.synAckRetries : cfg.dataRetries;
  const now = c.layer.clock.now();
  const userTimedOut = cfg.userTimeoutMs > 0 && c.unackedSince >= 0 && now - c.unackedSince >= cfg.userTimeoutMs;
  if (c.retries >= limit || userTimedOut) {
    enterClosed(c, 'retransmission limit', c.state === 'SYN-RECEIVED' && !c.active ? null
      : c.softError ?? new TcpError('ETIMEDOUT', 'connection timed out'));
    return;
  }
  c.retries++;
  c.rto.backoff++;
  c.rttStart = -1; // Karn's rule
  if (c.state === 'SYN-SENT' || c.state === 'SYN-RECEIVED') {
    c.layer.trace.retransmit(c, c.iss, 0, `retransmission #${c.retries} after RTO`);
    c.retransmissions++;
    sendSyn(c);
    armRtx(c);
    return;
  }
  if (c.cc !== null) {
    c.cc.onRto(c.flightSize, c.effectiveMss(), now);
    c.layer.trace.cwnd(c, 'RTO');
  }
  c.inRecovery = false;
  c.highRxt = c.sndUna;
  c.recover = c.sndMax; // RFC 6582 4.2: no fast retransmit for data sent before the timeout
  c.dupAcks = 0;
  // Go back: the head goes now, whatever the windows (it is the probe of a closed one);
  // the rest from SND.UNA is sent again as the window allows.
  c.sndNxt = c.sndUna;
  armRtx(c);
  resendHead(c, `retransmission #${c.retries} after RTO ${Math.round(c.rto.current() / 2)} ms`);
  sendData(c);
}
