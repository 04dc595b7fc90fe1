// A network interface: a device with an IPv4 address, a prefix and an MTU,
// plus the batch of frames waiting to go out through it.

import type { Device } from '../device';
import type { EthernetLink } from '../link/ethernet';
import { prefixMask } from '../wire/ipv4';

export class Interface {
  up = true;
  /** Frames queued for the next flush. */
  readonly out: Uint8Array[] = [];
  readonly netmask: number;
  /** The device cannot damage frames: TCP checksums are neither computed nor verified (Linux lo). */
  readonly checksumOffload: boolean;
  /** Framing and the neighbour cache, for Ethernet devices; null where frames are bare IP packets. */
  ethernet: EthernetLink | null = null;

  constructor(
    readonly name: string,
    readonly device: Device,
    readonly address: number,
    readonly prefixLength: number,
    /** Settable while running, as `ip link set dev X mtu N`: connections take the new size when their segments no longer fit. */
    public mtu: number,
  ) {
    this.netmask = prefixMask(prefixLength);
    this.checksumOffload = device.checksumOffload === true;
  }

  /** The subnet's directed broadcast address. */
  get broadcast(): number {
    return (this.address | ~this.netmask) >>> 0;
  }

  /** True for a loopback network (127.0.0.0/8): every address in it is ours. */
  get isLoopback(): boolean {
    return (this.address >>> 24) === 127;
  }

  contains(addr: number): boolean {
    return ((addr & this.netmask) >>> 0) === ((this.address & this.netmask) >>> 0);
  }
}
