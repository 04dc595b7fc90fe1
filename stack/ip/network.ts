// The network layer as a transport protocol sees it, the same for either
// family: header length, pseudo-header sum, routes, sending, and the ICMP
// errors that come back about what a transport sent. TCP uses only this, so
// IPv6 plugs in beside IPv4 by implementing it.

import type { AddressFamily, IpAddress } from './address';

/** Why a packet a transport originated could not leave (the errno Linux's ip_queue_xmit returns), or null when it was queued. */
export type SendError = 'EMSGSIZE' | 'EHOSTUNREACH' | null;

export interface NetworkRoute {
  /** The source address to use toward the destination. */
  readonly src: IpAddress;
  /** The path MTU: the largest datagram, network header included. */
  readonly mtu: number;
  /** The packets leave through a device that cannot damage them (a loopback): no transport checksum needed (Linux lo). */
  readonly checksumOffload: boolean;
}

/**
 * An ICMP error about a datagram a transport sent (RFC 792, RFC 1122 3.2.2),
 * parsed by the network layer: what kind, the quoted datagram's addresses,
 * and the quoted transport header (at least its first 8 bytes).
 */
export interface IcmpErrorReport {
  readonly kind: 'unreachable' | 'fragmentation-needed' | 'time-exceeded' | 'parameter-problem' | 'other';
  /** The ICMP type and code as received. */
  readonly type: number;
  readonly code: number;
  /** For 'fragmentation-needed': the next-hop MTU the router reported (RFC 1191), or 0 if it gave none. */
  readonly mtu: number;
  /** The quoted datagram's source (one of ours) and destination. */
  readonly src: IpAddress;
  readonly dst: IpAddress;
  /** The quoted transport header and what follows of it. */
  readonly transport: Uint8Array;
}

export interface NetworkLayer {
  readonly family: AddressFamily;
  /** Bytes of this family's header (without options) before the transport's. */
  readonly headerLength: number;
  /** The largest transport segment one datagram can carry. */
  readonly maxPayload: number;
  /** How to reach `dst`, or null without a route. */
  route(dst: IpAddress): NetworkRoute | null;
  isLocalAddress(addr: IpAddress): boolean;
  /** The transport checksum's pseudo-header sum (RFC 9293 3.1; RFC 8200 8.1), unfolded. */
  pseudoHeaderSum(src: IpAddress, dst: IpAddress, protocol: number, length: number): number;
  /**
   * Send a datagram whose transport part (`transportLength` bytes) is already
   * written at frame[headroom + headerLength]: the layer writes its header in
   * front, routes and queues it. Says why it could not leave.
   */
  send(frame: Uint8Array, transportLength: number, protocol: number, src: IpAddress, dst: IpAddress): SendError;
  format(addr: IpAddress): string;
}
