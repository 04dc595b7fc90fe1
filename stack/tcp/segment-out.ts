// One outgoing segment built from the TCB: sequence and acknowledgment
// numbers, the window field, the options (SYN options as Linux orders them,
// timestamps, SACK blocks), and the bookkeeping every ACK we send does.
// Data segments come from sender.ts; this file also sends SYNs and segments
// without data (ACK, RST, probes).

import type { SendError } from '../ip/network';
import { TCP_ACK, TCP_RST, TCP_SYN, type TcpSegment } from '../wire/tcp';
import { seqAdd, seqDiff, seqGe, seqLt } from './seq';
import { ACK_NONE, type Tcb } from './tcb';
import { stopDelayedAck } from './timers';
import { writeSynOptions } from './syn-options';
import { advertiseWindow, windowScaleFor } from './window';

/** Build one segment into the layer's shared record and hand it over; says why it could not leave. */
export function emit(c: Tcb, flags: number, seq: number, len: number, queueOffset: number): SendError {
  const seg = c.layer.outSegment;
  seg.clear();
  seg.srcPort = c.localPort;
  seg.dstPort = c.remotePort;
  seg.seq = seq;
  seg.flags = flags;
  const syn = (flags & TCP_SYN) !== 0;
  if (flags & TCP_ACK) seg.ack = c.rcvNxt;
  seg.window = flags & TCP_RST && !(flags & TCP_ACK) ? 0 : advertiseWindow(c, syn);
  if (syn) {
    synOptions(c, seg);
  } else if (c.tsOn && !(flags & TCP_RST)) {
    seg.hasTimestamps = true;
    seg.tsVal = c.tsNow();
    seg.tsEcr = c.tsRecent;
  }
  if (c.sackOk && !syn && (flags & TCP_ACK) && !(flags & TCP_RST) && c.reassembly !== null && c.reassembly.count > 0
    && c.sackBlockLimit() > 0) {
    addSackBlocks(c, seg);
  }
  if (flags & TCP_ACK) {
    // This ACK is the one that was owed (RFC 1122 4.2.3.2: every ACK resets the delay).
    c.ackPending = ACK_NONE;
    c.lastAckRcvNxt = c.rcvNxt;
    if (c.quickAcks > 0 && c.isSynchronized) c.quickAcks--;
    stopDelayedAck(c);
  }
  return c.layer.transmit(c, seg, queueOffset, len);
}

/** The options of our SYN or SYN-ACK. */
function synOptions(c: Tcb, seg: TcpSegment): void {
  const cfg = c.config;
  const answering = c.state !== 'SYN-SENT';
  if (!answering && cfg.windowScaling) c.rcvWscale = windowScaleFor(cfg.receiveBufferBytes);
  writeSynOptions(seg, cfg, c.layer.mssFor(c.net, c.remoteAddr), c, answering, c.tsNow());
}

/**
 * SACK blocks for what we hold out of order (RFC 2018 4): the block with the most
 * recent segment first, then the others from the highest; 3 fit beside timestamps.
 */
function addSackBlocks(c: Tcb, seg: TcpSegment): void {
  const ranges = (c.reassembly as NonNullable<Tcb['reassembly']>).ranges();
  const max = c.sackBlockLimit();
  let n = 0;
  const first = ranges.findIndex(([l, r]) => seqGe(c.lastOooSeq, l) && seqLt(c.lastOooSeq, r));
  if (first >= 0) {
    seg.sackBlocks[0] = ranges[first][0];
    seg.sackBlocks[1] = ranges[first][1];
    n = 1;
  }
  for (let i = ranges.length - 1; i >= 0 && n < max; i--) {
    if (i === first) continue;
    seg.sackBlocks[2 * n] = ranges[i][0];
    seg.sackBlocks[2 * n + 1] = ranges[i][1];
    n++;
  }
  seg.sackCount = n;
}

/** Our SYN (SYN-SENT) or SYN-ACK (SYN-RECEIVED), timed for the first RTT sample unless it is a retransmission. */
export function sendSyn(c: Tcb): void {
  const flags = c.state === 'SYN-SENT' ? TCP_SYN : TCP_SYN | TCP_ACK;
  emit(c, flags, c.iss, 0, 0);
  if (c.rttStart < 0 && c.retries === 0) {
    c.rttStart = c.layer.clock.now();
    c.rttSeq = seqAdd(c.iss, 1);
  }
}

/** A segment without data: ACK, RST, or RST+ACK. */
export function sendControl(c: Tcb, flags: number, seq: number): SendError {
  return emit(c, flags, seq, 0, 0);
}

/** A pure ACK, with an acceptable sequence number. */
export function sendAck(c: Tcb): SendError {
  return emit(c, TCP_ACK, acceptableSeq(c), 0, 0);
}

/**
 * The sequence number for a segment without data (Linux tcp_acceptable_seq):
 * SND.MAX, the highest we have sent, so that after a timeout has moved SND.NXT
 * back the peer, which may hold everything up to SND.MAX, still finds our ACKs
 * acceptable (RFC 9293 3.10.7.4) and reads their ACK field. Only when the
 * peer's window ends before SND.MAX (it shrank) is its right edge used.
 */
export function acceptableSeq(c: Tcb): number {
  if (!c.isSynchronized) return c.sndNxt;
  const wndEnd = seqAdd(c.sndUna, c.sndWnd);
  if (seqGe(wndEnd, c.sndMax) || seqDiff(c.sndMax, wndEnd) < (1 << c.sndWscale)) return c.sndMax;
  return wndEnd;
}
