// Fast retransmit and fast recovery (RFC 5681 3.2) with NewReno's partial
// ACKs (RFC 6582), limited transmit (RFC 3042), and entry on SACKed data
// (RFC 6675 5, IsLost). cwnd changes go through the congestion controller.

import { TCP_FIN, TCP_SYN, type TcpSegment } from '../../wire/tcp';
import { retransmitAt, sendData } from '../sender';
import { seqAdd, seqDiff, seqGe, seqGt } from '../seq';
import type { Tcb } from '../tcb';
import { armRtx } from '../timers';

/** Is an ACK that does not advance SND.UNA a duplicate (RFC 5681 2; RFC 6675 2 with SACK)? */
export function isDuplicateAck(c: Tcb, seg: TcpSegment, flags: number, newlySacked: number): boolean {
  if (c.flightSize === 0) return false;
  // With SACK, a duplicate ACK is one that SACKs new data (RFC 6675 2).
  if (c.sackOk) return newlySacked > 0;
  return seg.payloadLength === 0 && !(flags & (TCP_SYN | TCP_FIN)) && (seg.window << c.sndWscale) === c.sndWnd;
}

/** A duplicate ACK: the third starts fast retransmit and fast recovery (RFC 5681 3.2). */
export function duplicateAck(c: Tcb): void {
  c.dupAcks++;
  const cc = c.cc;
  if (cc === null) return;
  const mss = c.effectiveMss();
  if (c.inRecovery) {
    if (!c.sackOk) cc.onDupAckInRecovery(mss);
    return;
  }
  if (c.dupAcks <= 2 && c.sendQueue.length > seqDiff(c.sndNxt, c.sndUna)) {
    // Limited transmit (RFC 3042): each of the first two duplicate ACKs lets one new
    // segment out beyond cwnd, so a small window still draws the third one.
    sendData(c, seqDiff(c.sndNxt, c.sndUna) + mss);
  }
  // With SACK, also when the peer holds DupThresh segments' worth above SND.UNA (RFC 6675 5, IsLost).
  const lost = c.dupAcks >= 3 || (c.scoreboard !== null && c.scoreboard.sacked >= 3 * mss);
  if (lost && seqGt(c.sndUna, c.recover)) {
    // RFC 6582 3.2 step 2: only when the ACK covers more than "recover".
    c.recover = c.sndMax;
    c.inRecovery = true;
    cc.onEnterRecovery(c.flightSize, mss, c.layer.clock.now(), c.sackOk);
    c.layer.trace.cwnd(c, 'fast retransmit');
    c.highRxt = c.sndUna;
    c.headRtxSeq = c.sndUna;
    c.headRtxSndMax = c.sndMax;
    const len = retransmitAt(c, c.sndUna, c.dupAcks >= 3 ? 'third duplicate ACK' : 'SACKed data above a hole');
    if (c.sackOk) c.highRxt = seqAdd(c.sndUna, len);
    armRtx(c);
  }
  // Otherwise the duplicates are for data sent before the last recovery: no new reduction (RFC 6582 3.2 step 2).
}

/**
 * An ACK advanced SND.UNA by `acked` (`dataAcked` of them data): in recovery, a
 * full ACK ends it and a partial one repairs the next hole (RFC 6582 3.2 steps
 * 5 and 6); outside it, cwnd grows.
 */
export function newAck(c: Tcb, ack: number, acked: number, dataAcked: number): void {
  const cc = c.cc;
  if (cc === null) return;
  const mss = c.effectiveMss();
  if (c.inRecovery) {
    if (seqGe(ack, c.recover)) {
      c.inRecovery = false;
      cc.onExitRecovery(c.flightSize, mss, c.layer.clock.now());
      c.layer.trace.cwnd(c, 'recovery complete');
    } else if (c.sackOk) {
      // RFC 6675: no deflation; the pipe decides what may be sent (output runs after the ACK).
    } else {
      // Partial ACK (RFC 6582 3.2 step 5): retransmit the next hole at once.
      cc.onPartialAck(acked, mss);
      retransmitAt(c, c.sndUna, 'partial ACK');
    }
    return;
  }
  const before = cc.cwnd;
  cc.onAck(dataAcked, mss, c.layer.clock.now());
  if (cc.cwnd !== before && c.layer.trace.enabled) {
    c.layer.trace.cwnd(c, cc.cwnd < cc.ssthresh ? 'slow start' : 'congestion avoidance');
  }
}
