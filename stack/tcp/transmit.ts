// From a segment record to a datagram: the TCP header and options, the
// payload from a send queue, the checksum over the network layer's
// pseudo-header (RFC 9293 3.1), and the hand-over to the network layer.

import type { NetworkLayer, SendError } from '../ip/network';
import type { IpAddress } from '../ip/address';
import { checksumFoldSum } from '../wire/checksum';
import { IPPROTO_TCP } from '../wire/ipv4';
import { TCP_HEADER_LENGTH, type TcpSegment, tcpOptionsLength, writeTcpChecksum, writeTcpHeader } from '../wire/tcp';
import type { SendQueue } from './send-queue';
import type { TcpTrace, Traced } from './trace';

export interface TransmitHost {
  /** Offset in a frame where the network header starts (room for a link header before it). */
  readonly headroom: number;
  allocFrame(length: number): Uint8Array;
}

export class SegmentTransmitter {
  /** Segments handed to the network layer. */
  segmentsOut = 0;
  resetsSent = 0;

  constructor(private readonly host: TransmitHost, private readonly trace: TcpTrace) {}

  /**
   * Build `seg` (its options decide the header length) with `len` payload bytes
   * taken from `queue` at `queueOffset`, and send it from `src` to `dst`.
   * `offload`: the path cannot damage it, so only the pseudo-header sum is
   * stored (CHECKSUM_PARTIAL, as Linux leaves it on lo). Says why it could not leave.
   */
  send(net: NetworkLayer, seg: TcpSegment, src: IpAddress, dst: IpAddress, queue: SendQueue | null, queueOffset: number,
    len: number, offload: boolean, traced: Traced | undefined): SendError {
    const host = this.host;
    const headerLength = TCP_HEADER_LENGTH + tcpOptionsLength(seg);
    seg.headerLength = headerLength;
    const tcpLength = headerLength + len;
    const tcpOffset = host.headroom + net.headerLength;
    const frame = host.allocFrame(tcpOffset + tcpLength);
    writeTcpHeader(frame, tcpOffset, seg);
    if (len > 0 && queue !== null) queue.copy(queueOffset, len, frame, tcpOffset + headerLength);
    const pseudo = net.pseudoHeaderSum(src, dst, IPPROTO_TCP, tcpLength);
    if (offload) {
      const partial = checksumFoldSum(pseudo);
      frame[tcpOffset + 16] = partial >>> 8;
      frame[tcpOffset + 17] = partial;
    } else {
      writeTcpChecksum(frame, tcpOffset, tcpLength, pseudo);
    }
    seg.payloadLength = len;
    this.segmentsOut++;
    if (this.trace.enabled) this.trace.segment('out', src, dst, seg, traced);
    return net.send(frame, tcpLength, IPPROTO_TCP, src, dst);
  }
}
