// Frame memory. Outgoing frames are carved from large slabs, so building a
// segment costs a subarray, not an allocation of its own. A frame's slab stays
// alive while anyone holds the frame (the device, a link queue, a receiver).

const SLAB_SIZE = 256 * 1024;

export class FrameAllocator {
  private slab = new Uint8Array(SLAB_SIZE);
  private used = 0;

  alloc(length: number): Uint8Array {
    if (length > SLAB_SIZE / 4) return new Uint8Array(length);
    // Keep frames 8-byte aligned so word-wise checksum reads stay aligned.
    const size = (length + 7) & ~7;
    if (this.used + size > SLAB_SIZE) {
      this.slab = new Uint8Array(SLAB_SIZE);
      this.used = 0;
    }
    const frame = this.slab.subarray(this.used, this.used + length);
    this.used += size;
    return frame;
  }
}
