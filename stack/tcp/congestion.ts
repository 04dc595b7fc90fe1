// Congestion control behind one small interface, so other algorithms can be
// added beside NewReno. Windows are in bytes.

export interface CongestionControl {
  readonly name: string;
  cwnd: number;
  ssthresh: number;
  /** New data acknowledged (`acked` bytes) outside fast recovery. */
  onAck(acked: number, mss: number): void;
  /** Retransmission timeout: RFC 5681 3.1, equation (4), and cwnd to one segment. */
  onRto(flight: number, mss: number): void;
  /** Third duplicate ACK: enter fast recovery (RFC 5681 3.2 step 2 and 3). */
  onEnterRecovery(flight: number, mss: number): void;
  /** Further duplicate ACK in recovery: inflate (RFC 5681 3.2 step 4). */
  onDupAckInRecovery(mss: number): void;
  /** Partial ACK in recovery (RFC 6582 3.2 step 5): deflate by the amount acked, add back one segment. */
  onPartialAck(acked: number, mss: number): void;
  /** Full ACK ends recovery (RFC 6582 3.2 step 6, option 1 as Linux: cwnd = min(ssthresh, flight + mss)). */
  onExitRecovery(flight: number, mss: number): void;
}

/** RFC 5681 slow start and congestion avoidance with RFC 6582 NewReno recovery. */
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

  onAck(acked: number, mss: number): void {
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

  onRto(flight: number, mss: number): void {
    this.ssthresh = Math.max(Math.floor(flight / 2), 2 * mss);
    this.cwnd = mss;
    this.bytesAcked = 0;
  }

  onEnterRecovery(flight: number, mss: number): void {
    this.ssthresh = Math.max(Math.floor(flight / 2), 2 * mss);
    this.cwnd = this.ssthresh + 3 * mss;
    this.bytesAcked = 0;
  }

  onDupAckInRecovery(mss: number): void {
    this.cwnd += mss;
  }

  onPartialAck(acked: number, mss: number): void {
    this.cwnd = Math.max(this.cwnd - acked + mss, mss);
  }

  onExitRecovery(flight: number, mss: number): void {
    this.cwnd = Math.max(Math.min(this.ssthresh, flight + mss), mss);
  }
}
