// IPv4 as a NetworkLayer (network.ts): what TCP sees of the IPv4 layer.

import { pseudoHeaderSum } from '../wire/checksum';
import { IPV4_HEADER_LENGTH, IPV4_MAX_LENGTH, formatIpv4 } from '../wire/ipv4';
import { IpAddress } from './address';
import type { Ipv4Layer } from './ipv4';
import type { NetworkLayer, NetworkRoute, SendError } from './network';

export class Ipv4Network implements NetworkLayer {
  readonly family = 4;
  readonly headerLength = IPV4_HEADER_LENGTH;
  readonly maxPayload = IPV4_MAX_LENGTH - IPV4_HEADER_LENGTH;

  constructor(private readonly ip: Ipv4Layer) {}

  route(dst: IpAddress): NetworkRoute | null {
    if (dst.family !== 4) return null;
    const r = this.ip.routeTo(dst.v4);
    if (r === null) return null;
    return { src: IpAddress.v4(r.src), mtu: r.mtu, checksumOffload: this.ip.checksumOffloadTo(dst.v4) };
  }

  isLocalAddress(addr: IpAddress): boolean {
    return addr.family === 4 && this.ip.isLocalAddress(addr.v4);
  }

  pseudoHeaderSum(src: IpAddress, dst: IpAddress, protocol: number, length: number): number {
    return pseudoHeaderSum(src.v4, dst.v4, protocol, length);
  }

  send(frame: Uint8Array, transportLength: number, protocol: number, src: IpAddress, dst: IpAddress): SendError {
    return this.ip.send(frame, IPV4_HEADER_LENGTH + transportLength, protocol, src.v4, dst.v4);
  }

  format(addr: IpAddress): string {
    return formatIpv4(addr.v4);
  }
}
