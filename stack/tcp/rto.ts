// The retransmission timer's estimator, RFC 6298 section 2, with Linux's RTO
// bounds (see config.ts). Times are milliseconds.

export class RtoEstimator {
  /** Smoothed round-trip time (RFC 6298 SRTT); NaN before the first sample. */
  srtt = NaN;
  /** Round-trip time variation (RFC 6298 RTTVAR). */
  rttvar = NaN;
  /** The current retransmission timeout before backoff. */
  rto: number;
  /** Consecutive expirations; the armed timeout is rto * 2^backoff (RFC 6298 5.5). */
  backoff = 0;

  constructor(
    initialRto: number,
    private minRto: number,
    private maxRto: number,
    /** Clock granularity G of RFC 6298 2.2 (1 ms: our timestamp tick). */
    private granularity = 1,
  ) {
    this.rto = initialRto;
  }

  /** Feed one RTT measurement R (RFC 6298 2.2 and 2.3, alpha = 1/8, beta = 1/4, K = 4). */
  sample(r: number): void {
    if (r < 0) return;
    if (Number.isNaN(this.srtt)) {
      this.srtt = r;
      this.rttvar = r / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    this.rto = this.clamp(this.srtt + Math.max(this.granularity, 4 * this.rttvar));
  }

  /** The timeout to arm now, with exponential backoff (RFC 6298 5.5), capped at the maximum. */
  current(): number {
    return Math.min(this.rto * 2 ** this.backoff, this.maxRto);
  }

  private clamp(v: number): number {
    // RFC 6298 2.4 (lower bound) and 2.5 (upper bound).
    return Math.min(Math.max(v, this.minRto), this.maxRto);
  }
}
