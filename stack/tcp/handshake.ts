// Opening a connection (RFC 9293 3.5, 3.10.1, 3.10.7.3): the active open, the
// passive open from a listener's completed SYN request, the SYN-SENT state's segment handling
// (with simultaneous open), the SYN options both sides agree on (MSS, window
// scaling, timestamps, SACK), and what ESTABLISHED sets up.

import { TCP_ACK, TCP_RST, TCP_SYN, type TcpSegment } from '../wire/tcp';
import { requestAck } from './ack-policy';
import { NewReno } from './congestion/newreno';
import { TcpError } from './errors';
import { sendControl, sendSyn } from './segment-out';
import { seqAdd, seqGt, seqLe, seqLt } from './seq';
import { enterClosed, setState } from './state';
import type { SynRequest } from './syn-request';
import { ACK_NOW, N_CONNECT, type ConnectionOwner, type Tcb } from './tcb';
import { armKeepalive, armRtx, stopTimer } from './timers';
import { takeSynOptions as takeSyn } from './syn-options';
import { MAX_WINDOW_FIELD } from './window';

/** Both sequence spaces start: ours at `iss` (RFC 6582 3.2 step 1: recover = ISS). */
function initSend(c: Tcb, iss: number): void {
  c.iss = iss;
  c.sndUna = iss;
  c.sndNxt = seqAdd(iss, 1);
  c.sndMax = c.sndNxt;
  c.sndQueuedEnd = c.sndNxt;
  c.recover = iss;
}

/** Active open (RFC 9293 3.10.1, OPEN call in CLOSED state). */
export function activeOpen(c: Tcb, iss: number): void {
  initSend(c, iss);
  setState(c, 'SYN-SENT', 'connect');
  sendSyn(c);
  armRtx(c);
}

/**
 * Passive open, once the ACK of our SYN-ACK arrived for the listener's request
 * `r` (RFC 9293 3.10.7.2 and 3.10.7.4): the connection starts in SYN-RECEIVED
 * with everything the SYN and our SYN-ACK settled; the ACK itself is then
 * processed as for any connection.
 */
export function openFromRequest(c: Tcb, r: SynRequest, owner: ConnectionOwner): void {
  c.listener = owner;
  c.irs = r.irs;
  c.rcvNxt = r.rcvNxt;
  initSend(c, r.iss);
  c.sndMss = r.sndMss;
  c.rcvMss = r.rcvMss;
  c.wscaleOn = r.wscaleOn;
  c.sndWscale = r.sndWscale;
  c.rcvWscale = r.rcvWscale;
  c.tsOn = r.tsOn;
  c.tsRecent = r.tsRecent;
  c.tsRecentAt = r.tsRecentAt;
  c.tsRetransmitMark = r.tsRetransmitMark;
  c.tsOffset = r.tsOffset;
  c.sackOk = r.sackOk;
  c.checksumOffload = r.checksumOffload;
  c.sndWnd = r.sndWnd; // never scaled in a SYN (RFC 7323 2.2)
  c.maxSndWnd = r.sndWnd;
  c.sndWl1 = r.irs;
  c.sndWl2 = r.iss;
  c.rcvAdvertised = r.rcvAdvertised;
  c.lastAckRcvNxt = r.rcvNxt; // the SYN-ACK acknowledged the SYN
  // The SYN-ACK's timing (for the first RTT sample) and its retransmissions.
  c.rttStart = r.rttStart;
  c.rttSeq = seqAdd(r.iss, 1);
  c.retries = r.retries;
  c.retransmissions = r.retries;
  c.rto.backoff = r.retries;
  c.state = 'SYN-RECEIVED'; // the listener traced the request's transitions
}

/** A segment in SYN-SENT (RFC 9293 3.10.7.3). */
export function synSentArrives(c: Tcb, seg: TcpSegment): void {
  const flags = seg.flags;
  // First, the ACK bit.
  if (flags & TCP_ACK) {
    if (seqLe(seg.ack, c.iss) || seqGt(seg.ack, c.sndMax)) {
      if (!(flags & TCP_RST)) sendControl(c, TCP_RST, seg.ack);
      c.layer.countDrop('tcp-bad-ack-in-syn-sent', c);
      return;
    }
  }
  // Second, the RST bit: with an acceptable ACK the peer refused us.
  if (flags & TCP_RST) {
    if (flags & TCP_ACK) enterClosed(c, 'RST in SYN-SENT', new TcpError('ECONNREFUSED', 'connection refused'));
    return;
  }
  // Fourth, the SYN bit.
  if (!(flags & TCP_SYN)) return;
  c.irs = seg.seq;
  c.rcvNxt = seqAdd(seg.seq, 1);
  // Our SYN's window was unscaled and counted from an unknown RCV.NXT: restart the edge here.
  c.rcvAdvertised = seqAdd(c.rcvNxt, Math.min(MAX_WINDOW_FIELD, c.config.receiveBufferBytes));
  takeSynOptions(c, seg);
  c.sndWnd = seg.window;
  c.maxSndWnd = c.sndWnd;
  c.sndWl1 = seg.seq;
  c.sndWl2 = seg.ack;
  if (flags & TCP_ACK) {
    c.sndUna = seg.ack;
    if (c.rttStart >= 0 && c.retries === 0) c.rto.sample(c.layer.clock.now() - c.rttStart);
    c.rttStart = -1;
    c.retries = 0;
    c.rto.backoff = 0;
    stopTimer(c);
    requestAck(c, ACK_NOW, 'SYN-ACK');
    establish(c, 'SYN-ACK received');
    if (c.finQueued) setState(c, 'FIN-WAIT-1', 'queued shutdown');
  } else {
    // Simultaneous open (3.10.7.3, "Otherwise enter SYN-RECEIVED").
    setState(c, 'SYN-RECEIVED', 'SYN received in SYN-SENT');
    sendSyn(c);
    armRtx(c);
  }
}

/**
 * The ACK field in SYN-RECEIVED (RFC 9293 3.10.7.4 fifth): an ACK of our SYN
 * establishes the connection; any other is answered with RST. Returns false
 * when the segment is to be dropped.
 */
export function synReceivedAck(c: Tcb, seg: TcpSegment): boolean {
  if (seqLt(c.sndUna, seg.ack) && seqLe(seg.ack, c.sndMax)) {
    c.sndWnd = seg.window << c.sndWscale;
    c.maxSndWnd = Math.max(c.maxSndWnd, c.sndWnd);
    c.sndWl1 = seg.seq;
    c.sndWl2 = seg.ack;
    establish(c, 'ACK of SYN-ACK');
    return true;
  }
  sendControl(c, TCP_RST, seg.ack);
  return false;
}

/** The options of the peer's SYN, into the TCB. */
function takeSynOptions(c: Tcb, seg: TcpSegment): void {
  takeSyn(c, c.config, c.layer.mssFor(c.net, c.remoteAddr), seg, c.layer.clock.now(), c.tsNow());
}

/** Into ESTABLISHED: congestion control starts (RFC 6928 initial window), quick ACKs, keepalive; the user hears. */
export function establish(c: Tcb, cause: string): void {
  c.cc = new NewReno(c.config.initialCwndSegments, c.effectiveMss());
  c.quickAcks = c.config.quickAckSegments;
  c.lastReceiveAt = c.layer.clock.now();
  setState(c, 'ESTABLISHED', cause);
  if (c.config.keepAlive) armKeepalive(c);
  if (c.active) c.pending |= N_CONNECT;
  else if (c.listener !== null) c.listener.established(c);
  c.layer.schedule(c);
}
