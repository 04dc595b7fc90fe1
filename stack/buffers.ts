// Frame memory. Outgoing frames are carved from large slabs, so building a
// segment costs a subarray, not an allocation of its own. A frame's slab stays
// alive while anyone holds the frame (the device, a link queue, a receiver).

const SLAB_SIZE = 256 * 1024;

/**
 * Memory for frames, not zero-filled: every writer (IPv4, TCP, ICMP, ARP, Ethernet)
 * writes every byte of the frame it builds. Under Node the frames are Buffers, so
 * the payload slices handed to net-api need no wrapping.
 */
const uninitialized: (n: number) => Uint8Array =
  typeof Buffer === 'function' ? (n) => Buffer.allocUnsafeSlow(n) : (n) => new Uint8Array(n);

export class FrameAllocator {
  private slab = uninitialized(SLAB_SIZE);
  private used = 0;

  alloc(length: number): Uint8Array {
    if (length > SLAB_SIZE / 4) return uninitialized(length);
    // Keep frames 8-byte aligned so word-wise checksum reads stay aligned.
    const size = (length + 7) & ~7;
    if (this.used + size > SLAB_SIZE) {
      this.slab = uninitialized(SLAB_SIZE);
      this.used = 0;
    }
    const frame = this.slab.subarray(this.used, this.used + length);
    this.used += size;
    return frame;
  }
}

/**
 * A copy of bytes [start, end) of `bytes`, in memory of its own. Use it, not
 * slice(), whenever a copy is meant: under Node frames are Buffers, whose
 * slice() returns a view (unlike Uint8Array's), and a view both shares the
 * frame's bytes and keeps its whole 256 KiB slab alive. The copy is the same
 * kind as `bytes` (a Buffer stays a Buffer, so copy a copy with copyBytes too).
 */
export function copyBytes(bytes: Uint8Array, start = 0, end = bytes.length): Uint8Array {
  return Uint8Array.prototype.slice.call(bytes, start, end);
}
