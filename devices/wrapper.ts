// A device in front of another (capture, fault injection, scripted drops): it
// reports the inner device's name, link type, MTU and MAC; the subclass
// decides what happens to frames on the way through.

import type { Device, FrameReceiver, LinkType } from '../stack/device';

export abstract class WrapperDevice implements Device {
  constructor(readonly inner: Device) {}

  get name(): string {
    return this.inner.name;
  }
  get linkType(): LinkType {
    return this.inner.linkType;
  }
  get mtu(): number {
    return this.inner.mtu;
  }
  get mac(): Uint8Array | null {
    return this.inner.mac;
  }
  /** As the inner device; a wrapper that may damage frames says false. */
  get checksumOffload(): boolean {
    return this.inner.checksumOffload === true;
  }

  abstract attach(receiver: FrameReceiver): void;
  abstract send(frames: readonly Uint8Array[]): void;
  abstract close(): void;
}
