// The SACK scoreboard of a sender (RFC 2018, RFC 6675): which ranges above
// SND.UNA the receiver has reported holding. Ranges are kept sorted and
// merged; sequence numbers are unsigned 32-bit with modular comparisons.

import { seqDiff, seqGe, seqGt, seqLe, seqLt, seqMax } from '../seq';

export class SackScoreboard {
  /** [left, right) pairs, sorted, disjoint, all above SND.UNA. */
  private ranges: number[] = [];
  /** Bytes covered by the ranges. */
  sacked = 0;

  get empty(): boolean {
    return this.ranges.length === 0;
  }

  /** The highest sequence number SACKed (RFC 6675 HighSACK's end), or `fallback` with none. */
  highest(fallback: number): number {
    const n = this.ranges.length;
    return n === 0 ? fallback : this.ranges[n - 1];
  }

  /**
   * Add one reported block if it is plausible (within SND.UNA..SND.MAX, RFC 2018
   * 4 and RFC 6675 5); returns the bytes newly covered.
   */
  add(left: number, right: number, sndUna: number, sndMax: number): number {
    if (!seqLt(left, right) || seqLe(right, sndUna) || seqGt(right, sndMax)) return 0;
    if (seqLt(left, sndUna)) left = sndUna;
    const before = this.sacked;
    const r = this.ranges;
    const out: number[] = [];
    let placed = false;
    for (let i = 0; i < r.length; i += 2) {
      const l = r[i];
      const h = r[i + 1];
      if (seqLt(h, left)) {
        out.push(l, h);
      } else if (seqLt(right, l)) {
        if (!placed) {
          out.push(left, right);
          placed = true;
        }
        out.push(l, h);
      } else {
        // Overlapping or touching: merge into the new block.
        if (seqLt(l, left)) left = l;
        if (seqGt(h, right)) right = h;
      }
    }
    if (!placed) out.push(left, right);
    this.ranges = out;
    this.recount();
    return this.sacked - before;
  }

  /** SND.UNA moved to `una`: forget what lies below it. */
  advance(una: number): void {
    const r = this.ranges;
    let i = 0;
    while (i < r.length && seqLe(r[i + 1], una)) i += 2;
    if (i > 0) r.splice(0, i);
    if (r.length > 0 && seqLt(r[0], una)) r[0] = una;
    this.recount();
  }

  /** Is `seq` inside a SACKed range? Returns the range's right edge, or -1. */
  coveredUntil(seq: number): number {
    const r = this.ranges;
    for (let i = 0; i < r.length; i += 2) {
      if (seqGe(seq, r[i]) && seqLt(seq, r[i + 1])) return r[i + 1];
      if (seqLt(seq, r[i])) break;
    }
    return -1;
  }

  /**
   * The first hole at or after `from` and below the highest SACKed byte:
   * [start, end) of bytes the receiver does not have, or null.
   */
  nextHole(from: number, out: { start: number; end: number }): boolean {
    const r = this.ranges;
    let start = from;
    for (let i = 0; i < r.length; i += 2) {
      if (seqLt(start, r[i])) {
        out.start = start;
        out.end = r[i];
        return true;
      }
      start = seqMax(start, r[i + 1]);
    }
    return false;
  }

  /** Bytes below the highest SACKed byte that are not SACKed, from `from` on. */
  holeBytes(from: number): number {
    const r = this.ranges;
    if (r.length === 0) return 0;
    let bytes = 0;
    let start = from;
    for (let i = 0; i < r.length; i += 2) {
      if (seqLt(start, r[i])) bytes += seqDiff(r[i], start);
      start = seqMax(start, r[i + 1]);
    }
    return bytes;
  }

  clear(): void {
    this.ranges.length = 0;
    this.sacked = 0;
  }

  private recount(): void {
    let s = 0;
    const r = this.ranges;
    for (let i = 0; i < r.length; i += 2) s += seqDiff(r[i + 1], r[i]);
    this.sacked = s;
  }
}
