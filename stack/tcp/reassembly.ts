// Out-of-order segments held until the hole before them fills (RFC 9293
// 3.10.7.4, "seventh, process the segment text"). Bounded: beyond the limit,
// new out-of-order data is dropped (the sender will retransmit it).

import { seqAdd, seqDiff, seqGe, seqLe } from './seq';

interface Piece {
  seq: number;
  data: Uint8Array;
}

export class Reassembly {
  /** Bytes held. */
  bytes = 0;
  /** Pieces sorted by sequence number, never overlapping. */
  private pieces: Piece[] = [];

  constructor(private limit: number) {}

  get count(): number {
    return this.pieces.length;
  }

  /**
   * Hold `data` starting at `seq` (which is beyond RCV.NXT). Parts already held
   * are not stored twice. Returns false when the limit forced a drop.
   */
  insert(seq: number, data: Uint8Array): boolean {
    let end = seqAdd(seq, data.length);
    const pieces = this.pieces;
    let i = 0;
    while (i < pieces.length && seqLe(seqAdd(pieces[i].seq, pieces[i].data.length), seq)) i++;
    // Trim against the piece before or overlapping our start.
    let stored = true;
    while (data.length > 0) {
      if (i < pieces.length && seqLe(pieces[i].seq, seq)) {
        const pEnd = seqAdd(pieces[i].seq, pieces[i].data.length);
        if (seqGe(pEnd, end)) return true; // fully covered
        data = data.subarray(seqDiff(pEnd, seq));
        seq = pEnd;
        i++;
        continue;
      }
      // Gap before pieces[i] (or to the end): store up to its start.
      const gapEnd = i < pieces.length ? pieces[i].seq : end;
      const take = Math.min(data.length, seqDiff(gapEnd, seq));
      if (take > 0) {
        if (this.bytes + take > this.limit) {
          stored = false;
          break;
        }
        pieces.splice(i, 0, { seq, data: take === data.length ? data : data.subarray(0, take) });
        this.bytes += take;
        i++;
        data = data.subarray(take);
        seq = seqAdd(seq, take);
      }
      end = seqAdd(seq, data.length);
    }
    return stored;
  }

  /** Remove and return the piece that starts at or before `rcvNxt` and reaches past it, trimmed to start at rcvNxt. */
  take(rcvNxt: number): Uint8Array | null {
    const pieces = this.pieces;
    while (pieces.length > 0) {
      const p = pieces[0];
      if (seqDiff(p.seq, rcvNxt) > 0) return null;
      pieces.shift();
      this.bytes -= p.data.length;
      const over = seqDiff(rcvNxt, p.seq);
      if (over < p.data.length) return over === 0 ? p.data : p.data.subarray(over);
    }
    return null;
  }

  /** How many contiguous ranges are held (what ranges().length would be, without allocating). */
  rangeCount(): number {
    const pieces = this.pieces;
    let n = 0;
    for (let i = 0; i < pieces.length; i++) {
      if (i === 0 || seqAdd(pieces[i - 1].seq, pieces[i - 1].data.length) !== pieces[i].seq) n++;
    }
    return n;
  }

  /** The held ranges as [left, right) pairs, newest-first order is the caller's business (for SACK). */
  ranges(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (const p of this.pieces) {
      const right = seqAdd(p.seq, p.data.length);
      const last = out[out.length - 1];
      if (last !== undefined && last[1] === p.seq) last[1] = right;
      else out.push([p.seq, right]);
    }
    return out;
  }

  clear(): void {
    this.pieces.length = 0;
    this.bytes = 0;
  }
}
