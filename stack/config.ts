// Every tunable of the stack, sysctl-like, with Linux's defaults where Linux
// has one (ARCHITECTURE.md, "Conventions"). A Stack takes a Partial of each
// section; connections copy the TCP section so it can be changed per socket.

export interface IpConfig {
  /** Default TTL of outgoing packets (net.ipv4.ip_default_ttl). */
  defaultTtl: number;
  /** Fragment reassembly timeout, ms (net.ipv4.ipfrag_time = 30 s). */
  fragmentTimeoutMs: number;
  /** Bytes of fragments held at most (net.ipv4.ipfrag_high_thresh = 4 MiB). */
  fragmentMemoryBytes: number;
  /** Answer ICMP echo requests (net.ipv4.icmp_echo_ignore_all = 0). */
  answerPing: boolean;
}

export interface TcpConfig {
  /** Initial retransmission timeout, ms (RFC 6298 2.1: 1 s). */
  initialRtoMs: number;
  /** Lower bound of the RTO, ms (Linux TCP_RTO_MIN = 200 ms; RFC 6298 2.4 says 1 s). */
  minRtoMs: number;
  /** Upper bound of the RTO, ms (Linux TCP_RTO_MAX = 120 s; RFC 6298 2.5 allows >= 60 s). */
  maxRtoMs: number;
  /** SYN retransmissions before ETIMEDOUT (net.ipv4.tcp_syn_retries = 6). */
  synRetries: number;
  /** SYN-ACK retransmissions (net.ipv4.tcp_synack_retries = 5). */
  synAckRetries: number;
  /** Data retransmissions before the connection is dropped (net.ipv4.tcp_retries2 = 15). */
  dataRetries: number;
  /** Maximum segment lifetime, ms; TIME-WAIT lasts 2*MSL (Linux TCP_TIMEWAIT_LEN = 60 s). */
  mslMs: number;
  /** MSS announced when the route's MTU does not say otherwise (RFC 9293 3.7.1: 536 default for the peer). */
  defaultPeerMss: number;
  /**
   * Send buffer, bytes. Fixed, not autotuned: Linux starts at 16 KiB (tcp_wmem) and
   * grows to 4 MiB; we start at 1 MiB, which fills a 100 Mbit/s path with 80 ms RTT.
   * Buffers hold only what is queued, so an idle connection costs nothing for them.
   */
  sendBufferBytes: number;
  /** Receive buffer, bytes; bounds the advertised window. Fixed, not autotuned (Linux: 128 KiB growing to 6 MiB). */
  receiveBufferBytes: number;
  /** Out-of-order bytes held at most in the reassembly queue. */
  reassemblyLimitBytes: number;
  /** Negotiate window scaling (RFC 7323; net.ipv4.tcp_window_scaling = 1). */
  windowScaling: boolean;
  /** Negotiate timestamps (RFC 7323; net.ipv4.tcp_timestamps = 1). */
  timestamps: boolean;
  /** Offer SACK (RFC 2018; net.ipv4.tcp_sack = 1). */
  sack: boolean;
  /** Listen backlog when the caller gives none (net.core.somaxconn = 4096). */
  defaultBacklog: number;
  /** Ephemeral port range (net.ipv4.ip_local_port_range = 32768 60999). */
  ephemeralPortMin: number;
  ephemeralPortMax: number;
  /** Nagle's algorithm off (TCP_NODELAY). Off by default, as on Linux: Nagle is on. */
  noDelay: boolean;
  /** Delay ACKs (RFC 1122 4.2.3.2); false acknowledges every segment at once (TCP_QUICKACK forever). */
  delayedAck: boolean;
  /** The delayed-ACK timer, ms. Linux's TCP_DELACK_MIN/TCP_ATO_MIN: 40 ms (RFC 1122 allows up to 500). */
  delayedAckMs: number;
  /** Segments acknowledged at once at the start of a connection (Linux TCP_MAX_QUICKACKS = 16). */
  quickAckSegments: number;
  /** Keepalive probes (SO_KEEPALIVE); off by default (RFC 1122 4.2.3.6). */
  keepAlive: boolean;
  /** Idle time before the first probe, ms (net.ipv4.tcp_keepalive_time = 7200 s). */
  keepAliveIdleMs: number;
  /** Between unanswered probes, ms (net.ipv4.tcp_keepalive_intvl = 75 s). */
  keepAliveIntervalMs: number;
  /** Unanswered probes before the connection is dropped (net.ipv4.tcp_keepalive_probes = 9). */
  keepAliveProbes: number;
  /** Longest time data may stay unacknowledged before ETIMEDOUT, ms; 0 = off (TCP_USER_TIMEOUT, RFC 5482). */
  userTimeoutMs: number;
  /** Initial congestion window in segments (RFC 6928; Linux TCP_INIT_CWND = 10). */
  initialCwndSegments: number;
  /**
   * Least time between two ACKs a connection sends in answer to unacceptable
   * segments (out of window, PAWS, challenge ACKs), ms: what breaks ACK loops
   * (net.ipv4.tcp_invalid_ratelimit = 500).
   */
  invalidRatelimitMs: number;
  /**
   * Challenge ACKs (RFC 5961 7) a stack sends per second, over all its
   * connections; the budget each second is randomized between half and one
   * and a half times this, as Linux does (net.ipv4.tcp_challenge_ack_limit).
   */
  challengeAckLimit: number;
}

export interface StackConfig {
  ip: IpConfig;
  tcp: TcpConfig;
}

export const defaultIpConfig: Readonly<IpConfig> = Object.freeze({
  defaultTtl: 64,
  fragmentTimeoutMs: 30_000,
  fragmentMemoryBytes: 4 * 1024 * 1024,
  answerPing: true,
});

export const defaultTcpConfig: Readonly<TcpConfig> = Object.freeze({
  initialRtoMs: 1000,
  minRtoMs: 200,
  maxRtoMs: 120_000,
  synRetries: 6,
  synAckRetries: 5,
  dataRetries: 15,
  mslMs: 30_000,
  defaultPeerMss: 536,
  sendBufferBytes: 1024 * 1024,
  receiveBufferBytes: 1024 * 1024,
  reassemblyLimitBytes: 1024 * 1024,
  windowScaling: true,
  timestamps: true,
  sack: true,
  defaultBacklog: 4096,
  ephemeralPortMin: 32768,
  ephemeralPortMax: 60999,
  noDelay: false,
  delayedAck: true,
  delayedAckMs: 40,
  quickAckSegments: 16,
  keepAlive: false,
  keepAliveIdleMs: 7_200_000,
  keepAliveIntervalMs: 75_000,
  keepAliveProbes: 9,
  userTimeoutMs: 0,
  initialCwndSegments: 10,
  invalidRatelimitMs: 500,
  challengeAckLimit: 1000,
});

export interface StackConfigInput {
  ip?: Partial<IpConfig>;
  tcp?: Partial<TcpConfig>;
}

export function makeConfig(input: StackConfigInput = {}): StackConfig {
  const tcp = { ...defaultTcpConfig, ...input.tcp };
  const ip = { ...defaultIpConfig, ...input.ip };
  if (tcp.minRtoMs <= 0 || tcp.maxRtoMs < tcp.minRtoMs) throw new RangeError('tcp: need 0 < minRtoMs <= maxRtoMs');
  if (tcp.receiveBufferBytes < 1 || tcp.sendBufferBytes < 1) throw new RangeError('tcp: buffers must be positive');
  if (tcp.ephemeralPortMin < 1 || tcp.ephemeralPortMax > 65535 || tcp.ephemeralPortMin > tcp.ephemeralPortMax) {
    throw new RangeError('tcp: bad ephemeral port range');
  }
  return { ip, tcp };
}
