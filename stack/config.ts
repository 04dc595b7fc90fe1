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
  /** Send buffer, bytes (net.ipv4.tcp_wmem default 16 KiB; larger here so a lab link fills). */
  sendBufferBytes: number;
  /** Receive buffer, bytes; bounds the advertised window (net.ipv4.tcp_rmem default 128 KiB). */
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
  sendBufferBytes: 256 * 1024,
  receiveBufferBytes: 256 * 1024,
  reassemblyLimitBytes: 1024 * 1024,
  windowScaling: true,
  timestamps: true,
  sack: true,
  defaultBacklog: 4096,
  ephemeralPortMin: 32768,
  ephemeralPortMax: 60999,
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
