// Opening a connection (RFC 9293 3.5, 3.10.1, 3.10.7.3): the active open, the
// passive open from a listener's SYN, the SYN-SENT state's segment handling
// (with simultaneous open), the SYN options both sides agree on (MSS, window
// scaling, timestamps, SACK), and what ESTABLISHED sets up.

import { TCP_ACK, TCP_RST, TCP_SYN, type TcpSegment } from '../wire/tcp';
import { requestAck } from './ack-policy';
import { NewReno } from './congestion/newreno';
import { TcpError } from './errors';
import { sendControl, sendSyn } from './segment-out';
import { seqAdd, seqGt, seqLe, seqLt } from './seq';
import { enterClosed, setState } from './state';
import { ACK_NOW, N_CONNECT, type ConnectionOwner, type Tcb } from './tcb';
import { armKeepalive, armRtx, stopTimer } from './timers';
import { MAX_WINDOW_FIELD, windowScaleFor } from './window';

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

/** Passive open from a listener that received `syn` (RFC 9293 3.10.7.2, LISTEN state, "third check for a SYN"). */
export function passiveOpen(c: Tcb, syn: TcpSegment, iss: number, owner: ConnectionOwner): void {
  c.listener = owner;
  c.irs = syn.seq;
  c.rcvNxt = seqAdd(syn.seq, 1);
  initSend(c, iss);
  takeSynOptions(c, syn);
  c.sndWnd = syn.window; // never scaled in a SYN (RFC 7323 2.2)
  c.maxSndWnd = c.sndWnd;
  c.sndWl1 = syn.seq;
  c.sndWl2 = iss;
  setState(c, 'SYN-RECEIVED', 'SYN received');
  sendSyn(c);
  armRtx(c);
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

/** The options of the peer's SYN: MSS (RFC 9293 3.7.1), window scaling (RFC 7323 2), timestamps (RFC 7323 3), SACK (RFC 2018). */
function takeSynOptions(c: Tcb, seg: TcpSegment): void {
  const cfg = c.config;
  const peerMss = seg.mss >= 0 ? seg.mss : cfg.defaultPeerMss; // RFC 9293 3.7.1: 536 when absent
  c.rcvMss = c.layer.mssFor(c.remoteAddr);
  c.sndMss = Math.max(Math.min(peerMss, c.rcvMss), 64);
  // Window scaling only when both sides sent the option (RFC 7323 2.2).
  if (cfg.windowScaling && seg.windowScale >= 0) {
    c.wscaleOn = true;
    c.sndWscale = Math.min(seg.windowScale, 14);
    c.rcvWscale = windowScaleFor(cfg.receiveBufferBytes);
  } else {
    c.sndWscale = 0;
    c.rcvWscale = 0;
  }
  if (cfg.timestamps && seg.hasTimestamps) {
    c.tsOn = true;
    c.tsRecent = seg.tsVal;
    c.tsRecentAt = c.layer.clock.now();
    c.tsRetransmitMark = c.tsNow();
  }
  c.sackOk = cfg.sack && seg.sackPermitted;
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
