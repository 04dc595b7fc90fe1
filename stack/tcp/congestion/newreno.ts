// NewReno: RFC 5681 slow start and congestion avoidance (with RFC 3465
// appropriate byte counting) and the window rules of RFC 6582 fast recovery.

import type { CongestionControl } from './congestion';

export class NewReno implements CongestionControl {
  readonly name = 'newreno';
  cwnd: number;
  ssthresh = 0x7fffffff;
  /** Bytes acknowledged since cwnd last grew in congestion avoidance. */
  private bytesAcked = 0;

  constructor(initialWindowSegments: number, mss: number) {
    // RFC 6928: IW = min(10*MSS, max(2*MSS, 14600)) with 10 segments.
    this.cwnd = initialWindowSegments * mss;
  }

  onAck(acked: number, mss: number, _now: number): void {
    if (this.cwnd < this.ssthresh) {
      // Slow start, RFC 5681 3.1 equation (2), with RFC 3465 L = 2*SMSS.
      this.cwnd += Math.min(acked, 2 * mss);
    } else {
      // Congestion avoidance: one segment per cwnd acknowledged (RFC 5681 3.1, RFC 3465 2.1).
      this.bytesAcked += acked;
      if (this.bytesAcked >= this.cwnd) {
        this.bytesAcked -= this.cwnd;
        this.cwnd += mss;
      }
    }
  }

  onRttSample(_rtt: number, _now: number): void {
    // NewReno does not use delay.
  }

  onRto(flight: number, mss: number, _now: number): void {
    this.ssthresh = Math.max(Math.floor(flight / 2), 2 * mss);
    this.cwnd = mss;
    this.bytesAcked = 0;
  }

  onEnterRecovery(flight: number, mss: number, _now: number, sack: boolean): void {
    this.ssthresh = Math.max(Math.floor(flight / 2), 2 * mss);
    // RFC 5681 3.2 step 3 inflates by the three segments that left the network;
    // with SACK the pipe counts them instead (RFC 6675 5 step 4).
    this.cwnd = sack ? this.ssthresh : this.ssthresh + 3 * mss;
    this.bytesAcked = 0;
  }

  onMssChange(oldMss: number, newMss: number): void {
    if (oldMss <= 0 || newMss === oldMss) return;
    this.cwnd = Math.max(Math.floor(this.cwnd * newMss / oldMss), newMss);
    if (this.ssthresh < 0x7fffffff) this.ssthresh = Math.max(Math.floor(this.ssthresh * newMss / oldMss), 2 * newMss);
    this.bytesAcked = Math.floor(this.bytesAcked * newMss / oldMss);
  }

  onDupAckInRecovery(mss: number): void {
    this.cwnd += mss;
  }

  onPartialAck(acked: number, mss: number): void {
    this.cwnd = Math.max(this.cwnd - acked + mss, mss);
  }

  onExitRecovery(flight: number, mss: number, _now: number): void {
    // RFC 6582 3.2 step 6, option 1 as Linux: cwnd = min(ssthresh, flight + mss).
    this.cwnd = Math.max(Math.min(this.ssthresh, flight + mss), mss);
  }
}
