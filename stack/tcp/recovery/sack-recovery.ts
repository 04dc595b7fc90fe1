// Loss recovery with SACK (RFC 6675, simplified): the scoreboard of what the
// peer holds (RFC 2018), the pipe, and sending during recovery: while cwnd -
// pipe allows a segment, retransmit the next hole below the highest SACKed
// byte, else send new data. Also notices a lost retransmission of the first
// hole (the idea of RACK, RFC 8985) instead of waiting for the timer.

import type { TcpSegment } from '../../wire/tcp';
import { retransmitAt, segmentMss, sendData } from '../sender';
import { seqAdd, seqDiff, seqGt } from '../seq';
import type { Tcb } from '../tcb';
import { SackScoreboard } from './scoreboard';

const hole = { start: 0, end: 0 };

/** Record the SACK blocks of an arriving ACK; returns the bytes newly SACKed. */
export function sackBlocksArrive(c: Tcb, seg: TcpSegment): number {
  let newlySacked = 0;
  if (c.sackOk && seg.sackCount > 0 && c.flightSize > 0) {
    if (c.scoreboard === null) c.scoreboard = new SackScoreboard();
    for (let i = 0; i < seg.sackCount; i++) {
      newlySacked += c.scoreboard.add(seg.sackBlocks[2 * i], seg.sackBlocks[2 * i + 1], c.sndUna, c.sndMax);
    }
  }
  if (newlySacked > 0 && c.inRecovery && c.scoreboard !== null && c.headRtxSeq === c.sndUna
    && seqGt(c.scoreboard.highest(c.sndUna), c.headRtxSndMax) && seqGt(c.highRxt, c.sndUna)) {
    // Data sent after our retransmission of the first hole has arrived, but the hole
    // has not: the retransmission was lost too (the idea of RACK, RFC 8985). Repair
    // the holes again instead of waiting for the retransmission timer.
    c.highRxt = c.sndUna;
    c.headRtxSndMax = c.sndMax;
    c.layer.countDrop('tcp-lost-retransmission', c);
  }
  return newlySacked;
}

/** Send during SACK recovery: holes first, then new data, while cwnd - pipe allows (RFC 6675 5, NextSeg). */
export function sackRecoverySend(c: Tcb): void {
  const cc = c.cc;
  if (cc === null) return;
  const sb = c.scoreboard;
  const mss = c.effectiveMss();
  for (let guard = 0; guard < 4096; guard++) {
    const p = pipe(c);
    if (cc.cwnd - p < mss) return;
    const from = seqGt(c.highRxt, c.sndUna) ? c.highRxt : c.sndUna;
    if (sb !== null && sb.nextHole(from, hole)) {
      const len = retransmitAt(c, hole.start, 'SACK hole', Math.min(segmentMss(c), seqDiff(hole.end, hole.start)));
      if (len === 0) return;
      if (hole.start === c.sndUna) {
        c.headRtxSeq = c.sndUna;
        c.headRtxSndMax = c.sndMax;
      }
      c.highRxt = seqAdd(hole.start, len);
      continue;
    }
    // No hole left to repair: new data, as much as cwnd - pipe allows (rule 2).
    const before = c.sndNxt;
    sendData(c, seqDiff(c.sndNxt, c.sndUna) + (cc.cwnd - p));
    if (c.sndNxt === before) return;
  }
}

/** RFC 6675 "pipe": bytes in the network: above the highest SACKed byte, plus holes retransmitted. */
export function pipe(c: Tcb): number {
  const sb = c.scoreboard;
  if (sb === null || sb.empty) return c.flightSize;
  const high = sb.highest(c.sndUna);
  const retransmitted = seqGt(c.highRxt, c.sndUna) ? sb.holeBytes(c.sndUna) - sb.holeBytes(c.highRxt) : 0;
  return Math.max(0, seqDiff(c.sndMax, high)) + retransmitted;
}
