// The one interface between the stack and whatever moves its frames: loopback,
// in-memory links, fault injectors, capture, Linux TUN and TAP.

import { ETHERNET_HEADER_LENGTH } from './wire/ethernet';

/** 'ip': each frame is one IPv4 packet (TUN, loopback, in-memory links). 'ethernet': Ethernet II frames (TAP). */
export type LinkType = 'ip' | 'ethernet';

/** Bytes a frame of this link type carries before its IP packet (beyond the MTU). */
export function linkHeaderLength(linkType: LinkType): number {
  return linkType === 'ethernet' ? ETHERNET_HEADER_LENGTH : 0;
}

/** Receives a batch of frames. The array belongs to the device and may be reused after the call returns; the frames themselves are the receiver's to keep, and nobody writes into them afterwards. */
export type FrameReceiver = (frames: readonly Uint8Array[]) => void;

export interface Device {
  readonly name: string;
  readonly linkType: LinkType;
  /** Largest IP packet the device carries (the Ethernet payload for 'ethernet'). */
  readonly mtu: number;
  /** The hardware address for 'ethernet' devices, else null. */
  readonly mac: Uint8Array | null;
  /**
   * True when frames cannot be damaged on their way (a loopback): the stack then
   * neither computes nor verifies TCP checksums on this device, as Linux does on lo
   * (the checksum field carries only the pseudo-header sum, CHECKSUM_PARTIAL).
   */
  readonly checksumOffload?: boolean;
  /** Set where received frames go. One receiver per device; a later call replaces it. */
  attach(receiver: FrameReceiver): void;
  /**
   * Send a batch of frames. Ownership of each frame passes to the device (the
   * sender never writes into it again); the array itself may be reused by the
   * caller once send returns. Never throws for a frame the device cannot carry:
   * it counts and drops it.
   */
  send(frames: readonly Uint8Array[]): void;
  /** Release whatever the device holds; later sends are dropped. */
  close(): void;
}
