// The sender: segmentation of the send queue into segments that fit the
// windows and the path (RFC 9293 3.7.1), sender-side silly window avoidance
// (3.8.6.2.1), Nagle's algorithm as Linux applies it (RFC 896, RFC 1122
// 4.2.3.4), RTT sampling under Karn's rule (RFC 6298 3, RFC 7323 4), and what
// happens when the peer acknowledges data.

import type { SendError } from '../ip/network';
import { TCP_ACK, TCP_FIN, TCP_PSH, type TcpSegment } from '../wire/tcp';
import { TcpError } from './errors';
import { emit } from './segment-out';
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt } from './seq';
import { N_WRITABLE, SACK_BLOCK_BYTES, SACK_OPTION_BASE_BYTES, T_RTX, type Tcb } from './tcb';
import { armPersist, armRtx } from './timers';


/**
 * Payload bytes the next segment may carry: the MSS less every option it will
 * carry, SACK blocks included, so that no segment outgrows the path MTU
 * (RFC 9293 3.7.1: the MSS counts data only; Linux tcp_current_mss).
 */
export function segmentMss(c: Tcb): number {
  const r = c.reassembly;
  if (!c.sackOk || r === null || r.count === 0) return c.effectiveMss();
  const blocks = Math.min(r.rangeCount(), c.sackBlockLimit());
  return blocks === 0 ? c.effectiveMss() : c.effectiveMss() - SACK_OPTION_BASE_BYTES - SACK_BLOCK_BYTES * blocks;
}

/**
 * Send new data (and the FIN) from SND.NXT as the windows allow: the smaller
 * of the peer's window and cwnd, or `cwndOverride` bytes of flight when given
 * (limited transmit, SACK recovery).
 */
export function sendData(c: Tcb, cwndOverride = -1): void {
  const mss = segmentMss(c);
  const cwnd = cwndOverride >= 0 ? cwndOverride : c.cc !== null ? c.cc.cwnd : Infinity;
  for (;;) {
    if (c.scoreboard !== null && seqLt(c.sndNxt, c.sndMax)) {
      // Going back after a timeout: what the peer SACKed need not be sent again.
      const covered = c.scoreboard.coveredUntil(c.sndNxt);
      if (covered >= 0) {
        c.sndNxt = covered;
        continue;
      }
    }
    const sentData = Math.max(0, seqDiff(c.sndNxt, c.sndUna));
    const queued = c.sendQueue.length;
    const unsent = queued - Math.min(sentData, queued);
    const finPending = c.finQueued && seqLe(c.sndNxt, c.sndQueuedEnd);
    if (unsent === 0 && !finPending) break;
    const window = Math.min(c.sndWnd, cwnd);
    const inFlight = seqDiff(c.sndNxt, c.sndUna);
    const usable = window - inFlight;
    const len = Math.min(unsent, mss, Math.max(0, usable));
    if (unsent > 0 && len < unsent && len < mss && !c.persistForce) {
      // Sender-side silly window avoidance (RFC 9293 3.8.6.2.1): send only a full
      // segment, all remaining data, or at least half the largest window offered.
      if (len === 0 || len < c.maxSndWnd / 2) {
        if (c.sndWnd === 0 || (inFlight === 0 && usable < mss)) armPersist(c);
        break;
      }
    }
    const withFin = finPending && len === unsent;
    if (len === 0 && !withFin) break;
    // Nagle (RFC 896, RFC 1122 4.2.3.4) as Linux applies it (Minshall's variant,
    // tcp_nagle_check): a partial segment waits while an earlier small segment is
    // unacknowledged. Full segments, the FIN, and retransmissions never wait.
    if (len < mss && !withFin && !finPending && !c.config.noDelay && inFlight > 0
      && seqGe(c.sndNxt, c.sndMax) && seqGt(c.sndSml, c.sndUna) && seqLe(c.sndSml, c.sndNxt)) {
      c.layer.trace.nagle(c, len, inFlight);
      break;
    }
    c.persistForce = false;
    if (c.unackedSince < 0) c.unackedSince = c.layer.clock.now();
    const err = sendSegment(c, c.sndNxt, len, withFin, false);
    if (err !== null) {
      // Nothing left: SND.NXT stays. Too large for a smaller MTU: segment again at the
      // new size; no route: the retransmission timer tries again (Linux tcp_write_xmit).
      if (err === 'EMSGSIZE' && mtuShrank(c)) continue;
      if (c.timerKind !== T_RTX) armRtx(c);
      break;
    }
    c.sndNxt = seqAdd(c.sndNxt, len + (withFin ? 1 : 0));
    if (len < mss) c.sndSml = c.sndNxt;
    if (seqGt(c.sndNxt, c.sndMax)) c.sndMax = c.sndNxt;
    if (c.timerKind !== T_RTX) armRtx(c);
    if (withFin) break;
  }
}

/** Data (and maybe FIN) from `seq`; marks retransmissions for Karn's rule and the trace. */
function sendSegment(c: Tcb, seq: number, len: number, fin: boolean, retransmit: boolean): SendError {
  if (retransmit || seqLt(seq, c.sndMax)) {
    c.retransmissions++;
    c.tsRetransmitMark = c.tsNow();
    if (c.rttStart >= 0) c.rttStart = -1; // Karn: no sample from a retransmitted segment
  } else if (c.rttStart < 0 && !c.tsOn) {
    c.rttSeq = seqAdd(seq, len);
    c.rttStart = c.layer.clock.now();
  }
  let flags = TCP_ACK;
  if (fin) flags |= TCP_FIN;
  if (len > 0 && seqAdd(seq, len) === c.sndQueuedEnd) flags |= TCP_PSH;
  const err = emit(c, flags, seq, len, seqDiff(seq, c.sndUna));
  // Linux's ip_queue_xmit answers EHOSTUNREACH without a route; a later timeout names it.
  if (err === 'EHOSTUNREACH' && c.softError === null) c.softError = new TcpError('EHOSTUNREACH', 'no route to host');
  return err;
}

/**
 * Our own segment did not fit the interface's MTU (it shrank after the
 * handshake): take the MSS from the route again, as Linux's tcp_mtu_reduced
 * does on the local "fragmentation needed". Returns whether the MSS shrank.
 */
function mtuShrank(c: Tcb): boolean {
  const mss = Math.min(c.sndMss, c.layer.mssFor(c.net, c.remoteAddr));
  if (mss >= c.sndMss) return false;
  setSendMss(c, mss);
  c.layer.countDrop('tcp-mss-reduced', c);
  return true;
}

/**
 * A smaller MSS (the path shrank): the congestion window keeps its count of
 * segments, as Linux's does in packets, so smaller segments never mean more
 * of them in flight.
 */
export function setSendMss(c: Tcb, mss: number): void {
  const before = c.effectiveMss();
  c.sndMss = mss;
  c.cc?.onMssChange(before, c.effectiveMss());
}

/**
 * Retransmit one segment's worth from `seq` (at most `maxLen`, to the next
 * SACKed range) without moving SND.NXT; returns the payload bytes sent.
 */
export function retransmitAt(c: Tcb, seq: number, reason: string, maxLen = segmentMss(c)): number {
  const offset = seqDiff(seq, c.sndUna);
  const queuedData = c.sendQueue.length - offset;
  const len = Math.max(0, Math.min(maxLen, queuedData));
  const fin = c.finQueued && len === queuedData && seqGt(c.sndMax, c.sndQueuedEnd);
  if (len === 0 && !fin) return 0;
  c.layer.trace.retransmit(c, seq, len, reason);
  if (sendSegment(c, seq, len, fin, true) === 'EMSGSIZE' && mtuShrank(c)) return retransmitAt(c, seq, reason, Math.min(maxLen, segmentMss(c)));
  return len;
}

/**
 * After a retransmission timeout, the first unacknowledged segment goes
 * whatever the windows say (Linux tcp_retransmit_skb): at most what the
 * peer's window still allows, and a full segment when it allows nothing, so
 * that at a zero or small window the retransmission is the probe.
 * SND.NXT moves past it. Returns the payload bytes sent.
 */
export function resendHead(c: Tcb, reason: string): number {
  const mss = segmentMss(c);
  const avail = seqDiff(seqAdd(c.sndUna, c.sndWnd), c.sndUna);
  // Only what was sent before: the head segment as it went, never new data beyond SND.MAX.
  const sent = seqDiff(c.sndMax, c.sndUna);
  const len = retransmitAt(c, c.sndUna, reason, Math.min(avail > 0 ? Math.min(mss, avail) : mss, sent));
  const finSent = c.finQueued && len === c.sendQueue.length && seqGt(c.sndMax, c.sndQueuedEnd);
  c.sndNxt = seqAdd(c.sndUna, len + (finSent ? 1 : 0));
  return len;
}

/** An ACK that advances SND.UNA: take an RTT sample, from the echoed timestamp (RFC 7323 4.1), else from the timed segment (RFC 6298 3). */
export function sampleRtt(c: Tcb, seg: TcpSegment, ack: number): void {
  if (c.tsOn && seg.hasTimestamps && seg.tsEcr !== 0) {
    // Karn's rule for timestamps: an echo older than our latest retransmission may be the
    // original's, whose ACK was lost (the peer drops the duplicate before recording its
    // TSval, RFC 7323 5.3 R2/R3), and would count the whole backoff as round-trip time.
    const rtt = ((c.tsNow() - seg.tsEcr) >>> 0);
    if (rtt < 0x7fffffff && seqGe(seg.tsEcr, c.tsRetransmitMark)) rttSample(c, rtt);
  } else if (c.rttStart >= 0 && seqGe(ack, c.rttSeq)) {
    rttSample(c, c.layer.clock.now() - c.rttStart);
    c.rttStart = -1;
  }
}

/** One RTT measurement for the estimator (and the congestion controller). */
export function rttSample(c: Tcb, rtt: number): void {
  c.rto.sample(rtt);
  // Karn: the backed-off timeout stays until a valid sample (RFC 6298 5.7 note; Linux tcp_ack_update_rtt).
  c.rto.backoff = 0;
  c.cc?.onRttSample(rtt, c.layer.clock.now());
  c.layer.trace.rtt(c, rtt);
}

/**
 * SND.UNA moves to `ack`: acknowledged data leaves the send queue, the retry
 * count and duplicate ACKs reset. Returns the data bytes acknowledged (a SYN
 * or FIN occupies a sequence number but no queue byte).
 */
export function takeAcknowledged(c: Tcb, ack: number): number {
  const dataStart = c.sndUna === c.iss ? seqAdd(c.iss, 1) : c.sndUna;
  const dataAcked = Math.max(0, seqDiff(seqLt(ack, c.sndQueuedEnd) ? ack : c.sndQueuedEnd, dataStart));
  if (dataAcked > 0) c.sendQueue.shift(dataAcked);
  c.sndUna = ack;
  if (seqLt(c.sndNxt, ack)) c.sndNxt = ack; // after go-back-N, the receiver had more than we resent
  c.scoreboard?.advance(ack);
  c.retries = 0;
  c.dupAcks = 0;
  c.unackedSince = c.flightSize > 0 ? c.layer.clock.now() : -1;
  return dataAcked;
}

/** Space opened in the send queue: tell a user whose send() was short. */
export function notifyWritable(c: Tcb): void {
  if (c.wantWritable && c.sendSpace > 0) {
    c.wantWritable = false;
    c.pending |= N_WRITABLE;
    c.layer.schedule(c);
  }
}
