// A SYN we answered and whose handshake is not complete (Linux's
// request_sock): the small record a listener keeps in its SYN queue instead of
// a connection. The connection is made when the ACK of our SYN-ACK arrives.

import type { IpAddress } from '../ip/address';
import type { NetworkLayer } from '../ip/network';
import type { Timer } from '../time/clock';
import type { SynState } from './syn-options';
import { DEFAULT_MSS } from './tcb';

export class SynRequest implements SynState {
  nextInBucket: this | null = null;
  /** The peer's initial sequence number and ours. */
  irs = 0;
  iss = 0;
  /** The window of the peer's SYN (never scaled, RFC 7323 2.2). */
  sndWnd = 0;
  /** Right edge of the window our SYN-ACK offered. */
  rcvAdvertised = 0;
  sndMss = DEFAULT_MSS;
  rcvMss = DEFAULT_MSS;
  wscaleOn = false;
  sndWscale = 0;
  rcvWscale = 0;
  tsOn = false;
  tsRecent = 0;
  tsRecentAt = 0;
  tsRetransmitMark = 0;
  tsOffset = 0;
  sackOk = false;
  /** SYN-ACK retransmissions so far (RFC 6298 5.5 backoff; tcp_synack_retries). */
  retries = 0;
  /** When the first SYN-ACK left, for the first RTT sample; -1 once one was retransmitted (Karn). */
  rttStart = -1;
  checksumOffload = false;
  /** The SYN-ACK retransmission timer. */
  timer: Timer | null = null;
  private idString: string | null = null;

  constructor(
    /** The network layer of the request's address family. */
    readonly net: NetworkLayer,
    readonly localAddr: IpAddress,
    readonly localPort: number,
    readonly remoteAddr: IpAddress,
    readonly remotePort: number,
  ) {}

  /** RCV.NXT: just past the peer's SYN. */
  get rcvNxt(): number {
    return (this.irs + 1) >>> 0;
  }

  /** "local:port-remote:port", as the connection it becomes will be named in traces. */
  get id(): string {
    if (this.idString === null) this.idString = `${this.localAddr}:${this.localPort}-${this.remoteAddr}:${this.remotePort}`;
    return this.idString;
  }

  /** Our timestamp clock at `now` (as Tcb.tsNow). */
  tsNow(now: number): number {
    return (Math.floor(now) + this.tsOffset) >>> 0;
  }
}
