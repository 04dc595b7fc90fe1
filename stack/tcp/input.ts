// Segment arrival for a connection (RFC 9293 3.10.7.3 and 3.10.7.4), in the
// RFC's order: PAWS (RFC 7323 5.3), first the sequence number, second the RST
// bit (with RFC 5961 3.2 against blind resets), fourth the SYN bit (RFC 5961
// 4.2), fifth the ACK field, seventh the segment text, eighth the FIN bit. ICMP
// errors about our segments arrive here too (RFC 5927).

import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type TcpSegment } from '../wire/tcp';
import { answerInvalid } from './ack-policy';
import { TcpError } from './errors';
import { synReceivedAck, synSentArrives } from './handshake';
import { output } from './output';
import { receiveText, finSegment } from './receiver';
import { duplicateAck, isDuplicateAck, newAck } from './recovery/fast-recovery';
import { sackBlocksArrive } from './recovery/sack-recovery';
import { acceptableSeq, sendControl, sendSyn } from './segment-out';
import { notifyWritable, retransmitAt, sampleRtt, setSendMss, takeAcknowledged } from './sender';
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt } from './seq';
import { enterClosed, setState, startTimeWait } from './state';
import { T_RTX, type Tcb, type TcpState } from './tcb';
import { armRtx, stopTimer } from './timers';
import { updateSendWindow } from './window';

/** RFC 7323 5.5: TS.Recent older than 24 days is no longer valid for PAWS. */
const PAWS_IDLE_MS = 24 * 24 * 3600 * 1000;

/** A segment for this connection; `buf` holds its payload at seg.payloadOffset. */
export function segmentArrives(c: Tcb, seg: TcpSegment, buf: Uint8Array): void {
  if (c.state === 'SYN-SENT') {
    synSentArrives(c, seg);
    output(c);
    return;
  }
  if (c.state === 'CLOSED') return;

  let seq = seg.seq;
  let len = seg.payloadLength;
  let flags = seg.flags;
  let payloadOffset = seg.payloadOffset;
  const segLen = len + (flags & TCP_SYN ? 1 : 0) + (flags & TCP_FIN ? 1 : 0);

  c.lastReceiveAt = c.layer.clock.now();
  // PAWS (RFC 7323 5.3 R1): a segment whose timestamp is older than TS.Recent is a
  // duplicate from an earlier incarnation of the sequence space: ACK it and drop it.
  if (c.tsOn && seg.hasTimestamps && !(flags & TCP_RST) && c.isSynchronized && seqLt(seg.tsVal, c.tsRecent)) {
    if (c.lastReceiveAt - c.tsRecentAt <= PAWS_IDLE_MS) {
      if (answerInvalid(c, 'PAWS: old timestamp', false, len > 0)) output(c);
      c.layer.countDrop('tcp-paws', c);
      return;
    }
    c.tsRecent = seg.tsVal; // RFC 7323 5.5: TS.Recent too old to judge by
  }

  // First, check the sequence number (3.10.7.4, the four acceptability cases).
  const rcvWnd = Math.max(seqDiff(c.rcvAdvertised, c.rcvNxt), 0);
  if (c.state === 'SYN-RECEIVED' && (flags & TCP_SYN) && !(flags & TCP_ACK) && seq === c.irs) {
    // A retransmitted SYN (simultaneous open): our SYN-ACK was lost; send it again.
    sendSyn(c);
    return;
  }
  if (!segmentAcceptable(c.rcvNxt, rcvWnd, seq, segLen)) {
    if (!(flags & TCP_RST)) {
      if (c.state === 'TIME-WAIT' && (flags & TCP_FIN)) startTimeWait(c); // retransmitted FIN
      // Unacceptable: answer with an ACK at once (3.10.7.4); this is also how keepalive
      // and zero-window probes (SEG.SEQ = RCV.NXT - 1) get their answer.
      const why = segLen === 0 || seqLt(seq, c.rcvNxt) ? 'duplicate or probe' : 'outside the window';
      if (answerInvalid(c, why, (flags & TCP_SYN) !== 0, segLen > 0 && !(flags & TCP_SYN))) output(c);
    }
    c.layer.countDrop('tcp-out-of-window', c);
    return;
  }
  // Trim to the window: drop what is before RCV.NXT ...
  if (seqLt(seq, c.rcvNxt)) {
    let over = seqDiff(c.rcvNxt, seq);
    if (flags & TCP_SYN) {
      flags &= ~TCP_SYN;
      over--;
      seq = seqAdd(seq, 1);
    }
    const cut = Math.min(over, len);
    payloadOffset += cut;
    len -= cut;
    seq = seqAdd(seq, cut);
    if (over > cut && (flags & TCP_FIN)) flags &= ~TCP_FIN; // FIN already received
  }
  // ... and what lies beyond its right edge (with the FIN, if it is cut).
  const beyond = seqDiff(seqAdd(seq, len), seqAdd(c.rcvNxt, rcvWnd));
  if (beyond > 0) {
    len = Math.max(0, len - beyond);
    flags &= ~TCP_FIN;
  }

  // Second, the RST bit (3.10.7.4 second; RFC 5961 3.2 against blind resets).
  if (flags & TCP_RST) {
    if (seq !== c.rcvNxt) {
      if (answerInvalid(c, 'challenge ACK (RFC 5961)', true)) output(c);
      return;
    }
    resetArrives(c);
    return;
  }

  // Fourth, the SYN bit: in a synchronized state answer with a challenge ACK (RFC 5961 4.2).
  if (flags & TCP_SYN) {
    if (answerInvalid(c, 'challenge ACK for SYN (RFC 5961)', true)) output(c);
    return;
  }

  // Fifth, the ACK field.
  if (!(flags & TCP_ACK)) return;
  if (c.state === 'SYN-RECEIVED' && !synReceivedAck(c, seg)) return;
  if (!ackArrives(c, seg, seq, flags)) return;
  if ((c.state as TcpState) === 'CLOSED') return;

  // Seventh, the segment text.
  if (len > 0) {
    if (c.state === 'ESTABLISHED' || c.state === 'FIN-WAIT-1' || c.state === 'FIN-WAIT-2') {
      if (c.readClosed) {
        // Data for a socket the user has closed: Linux answers with RST (tcp_rcv_state_process).
        sendControl(c, TCP_RST | TCP_ACK, acceptableSeq(c));
        enterClosed(c, 'data after close', null);
        return;
      }
      receiveText(c, seq, buf.subarray(payloadOffset, payloadOffset + len));
    }
    // CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT: the peer already sent FIN; ignore the text.
  }

  // Eighth, the FIN bit.
  if (flags & TCP_FIN) finSegment(c, seqAdd(seq, len));
  output(c);
}

/**
 * The four acceptability cases of RFC 9293 3.10.7.4 (segment length and
 * receive window, zero or not). One difference, as Linux's tcp_sequence: a
 * segment without data exactly at the right edge (RCV.NXT + RCV.WND) is
 * acceptable, since that is where a peer that has sent our whole window puts
 * its ACKs (its SND.NXT); refusing them leaves both ends unable to read the
 * other's ACK field.
 */
export function segmentAcceptable(nxt: number, rcvWnd: number, seq: number, segLen: number): boolean {
  if (segLen === 0) {
    if (rcvWnd === 0) return seq === nxt;
    return seqGe(seq, nxt) && seqLe(seq, seqAdd(nxt, rcvWnd));
  }
  if (rcvWnd === 0) return false;
  const last = seqAdd(seq, segLen - 1);
  const end = seqAdd(nxt, rcvWnd);
  return (seqGe(seq, nxt) && seqLt(seq, end)) || (seqGe(last, nxt) && seqLt(last, end));
}

/** An acceptable RST (3.10.7.4 second). */
function resetArrives(c: Tcb): void {
  switch (c.state) {
    case 'SYN-RECEIVED':
      // Passive open goes back to LISTEN quietly; an active one was refused (3.10.7.4 second).
      enterClosed(c, 'RST in SYN-RECEIVED', c.active ? new TcpError('ECONNREFUSED', 'connection refused') : null);
      return;
    case 'ESTABLISHED':
    case 'FIN-WAIT-1':
    case 'FIN-WAIT-2':
    case 'CLOSE-WAIT':
      c.receiveQueue.clear();
      enterClosed(c, 'RST received', new TcpError('ECONNRESET', 'connection reset by peer'));
      return;
    default:
      enterClosed(c, 'RST received', null);
  }
}

/** Fifth check (3.10.7.4): the ACK field. Returns false when the segment is to be dropped. */
function ackArrives(c: Tcb, seg: TcpSegment, seq: number, flags: number): boolean {
  const ack = seg.ack;
  if (seqGt(ack, c.sndMax)) {
    // Acknowledges something not yet sent: dropped without a word, as Linux does (an ACK
    // back could start an ACK loop with a peer that lost track; RFC 9293 would answer).
    c.layer.countDrop('tcp-ack-unsent', c);
    return false;
  }
  if (seqLt(ack, seqAdd(c.sndUna, -c.maxSndWnd))) {
    // RFC 5961 5.2: an ACK older than the largest window the peer ever offered is not
    // from the peer's side of this connection (a blind injection): challenge it, drop it.
    if (answerInvalid(c, 'challenge ACK: ACK too old (RFC 5961 5.2)', true)) output(c);
    c.layer.countDrop('tcp-ack-too-old', c);
    return false;
  }
  const acked = seqDiff(ack, c.sndUna);
  const newlySacked = sackBlocksArrive(c, seg);
  if (acked > 0) ackAdvances(c, ack, acked, seg);
  else if (acked === 0 && isDuplicateAck(c, seg, flags, newlySacked)) duplicateAck(c);
  updateSendWindow(c, seg, seq, ack);
  if (c.tsOn && seg.hasTimestamps && seqLe(seq, c.lastAckRcvNxt) && seqGe(seg.tsVal, c.tsRecent)) {
    c.tsRecent = seg.tsVal; // RFC 7323 4.3 (SEG.SEQ <= Last.ACK.sent)
    c.tsRecentAt = c.lastReceiveAt;
  }
  c.probesOut = 0; // any ACK answers our probes (Linux tcp_ack)

  // State-specific parts of the fifth check.
  const finAcked = c.finQueued && c.sndUna === seqAdd(c.sndQueuedEnd, 1);
  switch (c.state) {
    case 'FIN-WAIT-1':
      if (finAcked) setState(c, 'FIN-WAIT-2', 'ACK of FIN');
      break;
    case 'CLOSING':
      if (finAcked) startTimeWait(c, 'ACK of FIN');
      else output(c); // data queued before our FIN may still be waiting for this window
      return false;
    case 'LAST-ACK':
      if (finAcked) enterClosed(c, 'ACK of FIN', null);
      else output(c);
      return false;
    default:
      break;
  }
  return true;
}

/** An ACK that advances SND.UNA: RTT, the send queue, recovery or growth, the timer (RFC 6298 5.2, 5.3), the writer. */
function ackAdvances(c: Tcb, ack: number, acked: number, seg: TcpSegment): void {
  sampleRtt(c, seg, ack);
  const dataAcked = takeAcknowledged(c, ack);
  newAck(c, ack, acked, dataAcked);
  // Restart the retransmission timer while data is outstanding (RFC 6298 5.3), else stop it (5.2).
  if (c.flightSize > 0) armRtx(c);
  else if (c.timerKind === T_RTX) stopTimer(c);
  notifyWritable(c);
}

/**
 * ICMP destination unreachable about a segment we sent (RFC 5927 4.1: only for
 * a sequence number we have sent and not had acknowledged). In the handshake it
 * ends the connection; later it is a soft error named if the connection then
 * times out (as Linux tcp_v4_err).
 */
export function icmpUnreachable(c: Tcb, code: number, seq: number): void {
  if (!(seqGe(seq, c.sndUna) && seqLt(seq, c.sndMax)) && !(c.state === 'SYN-SENT' && seq === c.iss)) return;
  // Linux icmp_err_convert: net -> ENETUNREACH, host -> EHOSTUNREACH, protocol -> ENOPROTOOPT, port -> ECONNREFUSED.
  const codeName = code === 0 ? 'ENETUNREACH' : code === 2 ? 'ENOPROTOOPT' : code === 3 ? 'ECONNREFUSED' : 'EHOSTUNREACH';
  const err = new TcpError(codeName, codeName === 'ECONNREFUSED' ? 'connection refused' : codeName === 'ENETUNREACH' ? 'network is unreachable' : 'no route to host');
  if (c.state === 'SYN-SENT' || c.state === 'SYN-RECEIVED') {
    enterClosed(c, 'ICMP destination unreachable', c.active ? err : null);
    c.layer.afterTimer(c);
    return;
  }
  c.softError = err;
}

/**
 * The smallest path MTU an ICMP message can make us use (Linux ip_rt_min_pmtu):
 * a forged "fragmentation needed" cannot shrink segments to a few bytes each.
 */
const MIN_PATH_MTU = 552;

/**
 * ICMP "fragmentation needed" about a segment we sent (RFC 1191, RFC 5927 4.1:
 * only for a sequence number outstanding): the path carries smaller datagrams
 * than our segments. The MSS shrinks to fit and the first unacknowledged
 * segment is sent again at the new size (as Linux tcp_v4_mtu_reduced).
 * It never ends a connection, not even in SYN-SENT.
 */
export function pathMtuReduced(c: Tcb, mtu: number, seq: number): void {
  if (!c.isSynchronized || !(seqGe(seq, c.sndUna) && seqLt(seq, c.sndMax))) return;
  if (mtu === 0) return; // an old router gave no MTU (RFC 1191 plateaus are not guessed)
  const mss = c.layer.mssForMtu(c.net, Math.max(mtu, MIN_PATH_MTU));
  if (mss >= c.sndMss) return;
  setSendMss(c, mss);
  c.layer.countDrop('tcp-pmtu-reduced', c);
  // The head again at once, in pieces that fit; the rest as loss recovery finds it lost
  // (one packet never releases a burst, whoever sent it).
  retransmitAt(c, c.sndUna, 'path MTU reduced');
}
