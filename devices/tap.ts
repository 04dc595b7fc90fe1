// Linux TAP devices: Ethernet II frames between the kernel and a tcplab
// stack through /dev/net/tun (IFF_TAP | IFF_NO_PI). Everything about
// batching, ref/unref, close and errors is as for TUN (devices/tun.ts).
//
// Two hardware addresses are involved: the kernel's own for its side of the
// interface (`kernelMac`, what `ip link` shows), and OURS, the MAC the stack
// answers ARP for and puts in the source of its frames (`mac`). Ours is a
// random locally administered unicast address (RFC 7042 2.1: the U/L bit
// set, the I/G bit clear), never equal to the kernel's.

import type { LinkType } from '../stack/device';
import { ETHERNET_HEADER_LENGTH, MAC_LENGTH, isMulticastMac, macEquals, makeLocalUnicastMac } from '../stack/wire/ethernet';
import { randomFillSync } from 'node:crypto';
import { TuntapDevice, type TuntapOptions } from './tun';

export interface TapOptions extends TuntapOptions {
  /** Our MAC (6 bytes, unicast); default: random, locally administered. */
  mac?: Uint8Array;
}

export class TapDevice extends TuntapDevice {
  readonly linkType: LinkType = 'ethernet';
  readonly mac: Uint8Array;

  constructor(options: TapOptions = {}) {
    super('tap', options, ETHERNET_HEADER_LENGTH);
    const kernel = this.kernelMac;
    if (options.mac !== undefined) {
      if (options.mac.length !== MAC_LENGTH || isMulticastMac(options.mac)) {
        this.close();
        throw new RangeError('mac must be 6 bytes and unicast');
      }
      this.mac = Uint8Array.from(options.mac);
    } else {
      let mac: Uint8Array;
      do mac = randomLocalMac();
      while (kernel !== null && macEquals(mac, kernel));
      this.mac = mac;
    }
  }

  /** The kernel side's MAC address (what its ARP requests and frames carry as source), or null once closed. */
  get kernelMac(): Uint8Array | null {
    if (this.isClosed) return null;
    const m = this.handle.kernelMac();
    return m === null ? null : new Uint8Array(m);
  }
}

/** A random unicast, locally administered MAC. */
export function randomLocalMac(): Uint8Array {
  return makeLocalUnicastMac(randomFillSync(new Uint8Array(MAC_LENGTH)));
}
