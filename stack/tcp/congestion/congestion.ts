// Congestion control behind one interface (RFC 5681 and what builds on it).
// The algorithm owns cwnd and ssthresh: nothing else writes them. Loss
// detection and what to retransmit are recovery's business (recovery/); it
// tells the algorithm what happened through these hooks. Windows are in bytes,
// times in milliseconds.

export interface CongestionControl {
  readonly name: string;
  /** The congestion window (RFC 5681 cwnd). */
  readonly cwnd: number;
  /** The slow start threshold (RFC 5681 ssthresh). */
  readonly ssthresh: number;
  /** New data acknowledged (`acked` bytes) outside loss recovery: grow. */
  onAck(acked: number, mss: number, now: number): void;
  /** A round-trip time sample (ms), for algorithms that use delay. */
  onRttSample(rtt: number, now: number): void;
  /**
   * Loss detected by duplicate ACKs or SACK: fast recovery begins (RFC 5681 3.2
   * steps 2 and 3; with SACK, RFC 6675 5 step 4: cwnd = ssthresh and the pipe
   * decides what is sent).
   */
  onEnterRecovery(flight: number, mss: number, now: number, sack: boolean): void;
  /** A further duplicate ACK in recovery without SACK: inflate (RFC 5681 3.2 step 4). */
  onDupAckInRecovery(mss: number): void;
  /** Partial ACK in recovery without SACK (RFC 6582 3.2 step 5): deflate by the amount acked, add back one segment. */
  onPartialAck(acked: number, mss: number): void;
  /** Full ACK ends recovery (RFC 6582 3.2 step 6). */
  onExitRecovery(flight: number, mss: number, now: number): void;
  /** Retransmission timeout (RFC 5681 3.1 equation (4); cwnd to one segment). */
  onRto(flight: number, mss: number, now: number): void;
  /** The segment size changed (path MTU): windows keep their count of segments. */
  onMssChange(oldMss: number, newMss: number): void;
}
