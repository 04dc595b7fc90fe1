// The receiver: in-order data into the receive queue, out-of-order data held
// for reassembly (RFC 9293 3.10.7.4 seventh), and the peer's FIN (eighth),
// with the ACK each deserves (ack-policy.ts).

import { ackInOrderData, requestAck } from './ack-policy';
import { copyBytes } from '../buffers';
import { Reassembly } from './reassembly';
import { seqAdd, seqGt } from './seq';
import { setState, startTimeWait } from './state';
import { ACK_DELAYED, ACK_NOW, N_END, N_READABLE, type Tcb } from './tcb';

/**
 * Out-of-order pieces smaller than this are copied rather than kept as views
 * of their frames: the reassembly limit counts payload bytes, and a flood of
 * tiny pieces must not pin a slab each. Full-sized segments stay zero-copy.
 */
const COPY_OUT_OF_ORDER_BELOW = 512;

/** Segment text starting at `seq` (already trimmed to the window). */
export function receiveText(c: Tcb, seq: number, data: Uint8Array): void {
  if (seq !== c.rcvNxt) {
    if (c.reassembly === null) c.reassembly = new Reassembly(c.config.reassemblyLimitBytes);
    // A small piece held for long would keep its whole frame slab alive: hold a copy of it.
    const held = data.length < COPY_OUT_OF_ORDER_BELOW ? copyBytes(data) : data;
    if (!c.reassembly.insert(seq, held)) c.layer.countDrop('tcp-reassembly-full', c);
    c.lastOooSeq = seq;
    // Out-of-order: a duplicate ACK at once, so the sender can fast-retransmit (RFC 5681 4.2).
    requestAck(c, ACK_NOW, 'out-of-order segment');
    return;
  }
  c.receiveQueue.push(data);
  c.rcvNxt = seqAdd(c.rcvNxt, data.length);
  const r = c.reassembly;
  const filledHole = r !== null && r.count > 0;
  if (r !== null && filledHole) {
    let piece: Uint8Array | null;
    while ((piece = r.take(c.rcvNxt)) !== null) {
      c.receiveQueue.push(piece);
      c.rcvNxt = seqAdd(c.rcvNxt, piece.length);
    }
    if (c.oooFin >= 0 && c.oooFin === c.rcvNxt) {
      c.oooFin = -1;
      finArrives(c);
    }
  }
  c.pending |= N_READABLE;
  c.layer.schedule(c);
  if (data.length > c.rcvMssSeen) c.rcvMssSeen = Math.min(data.length, c.rcvMss);
  ackInOrderData(c, filledHole);
}

/** The peer's FIN at `finSeq`: now if nothing is missing before it, else once the hole fills. */
export function finSegment(c: Tcb, finSeq: number): void {
  if (finSeq === c.rcvNxt) finArrives(c);
  else if (seqGt(finSeq, c.rcvNxt)) c.oooFin = finSeq;
}

/** Eighth, check the FIN bit (RFC 9293 3.10.7.4). */
function finArrives(c: Tcb): void {
  c.finReceived = true;
  c.rcvNxt = seqAdd(c.rcvNxt, 1);
  // In ESTABLISHED the ACK of a FIN is delayed, so the application's own FIN can ride
  // with it (Linux enters pingpong mode here); in the closing states it goes at once.
  requestAck(c, c.state === 'ESTABLISHED' && c.config.delayedAck ? ACK_DELAYED : ACK_NOW, 'FIN');
  c.pending |= N_END;
  c.layer.schedule(c);
  switch (c.state) {
    case 'SYN-RECEIVED':
    case 'ESTABLISHED':
      setState(c, 'CLOSE-WAIT', 'FIN received');
      break;
    case 'FIN-WAIT-1':
      // Had our FIN been acknowledged by this segment, the ACK check moved us to FIN-WAIT-2.
      setState(c, 'CLOSING', 'FIN received');
      break;
    case 'FIN-WAIT-2':
      startTimeWait(c, 'FIN received');
      break;
    case 'TIME-WAIT':
      startTimeWait(c);
      break;
    default:
      break;
  }
}
