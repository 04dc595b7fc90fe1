// A device that passes on only the frames a predicate accepts, on their way
// out (stack -> inner device) and on their way in: scripted drops for tests and
// scenarios ("lose the third data segment", "nothing leaves for a second").

import { WrapperDevice } from './wrapper';
import type { Device, FrameReceiver } from '../stack/device';

/** 'tx': the stack sends it; 'rx': it arrives for the stack. Return false to drop the frame. */
export type FrameFilter = (frame: Uint8Array, direction: 'tx' | 'rx') => boolean;

export class FilterDevice extends WrapperDevice {
  /** Frames dropped so far, by direction. */
  readonly dropped = { tx: 0, rx: 0 };

  constructor(inner: Device, private readonly keep: FrameFilter) {
    super(inner);
  }

  attach(receiver: FrameReceiver): void {
    this.inner.attach((frames) => receiver(this.pass(frames, 'rx')));
  }

  send(frames: readonly Uint8Array[]): void {
    const out = this.pass(frames, 'tx');
    if (out.length > 0) this.inner.send(out);
  }

  close(): void {
    this.inner.close();
  }

  /** The batch itself when every frame passes; a new array only when something is dropped. */
  private pass(frames: readonly Uint8Array[], direction: 'tx' | 'rx'): readonly Uint8Array[] {
    let kept: Uint8Array[] | null = null;
    for (let i = 0; i < frames.length; i++) {
      if (this.keep(frames[i], direction)) {
        kept?.push(frames[i]);
      } else {
        this.dropped[direction]++;
        if (kept === null) kept = frames.slice(0, i);
      }
    }
    return kept ?? frames;
  }
}
