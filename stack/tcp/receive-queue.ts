// In-order received data waiting for the application: slices of the frames
// they arrived in, handed out without copying.

export class ReceiveQueue {
  /** Bytes waiting to be read. */
  length = 0;
  private chunks: Uint8Array[] = [];
  private head = 0;

  push(data: Uint8Array): void {
    if (data.length === 0) return;
    this.chunks.push(data);
    this.length += data.length;
  }

  /** Take the next chunk, or at most `max` bytes of it; null when empty. */
  read(max = Infinity): Uint8Array | null {
    if (this.head === this.chunks.length) return null;
    let chunk = this.chunks[this.head];
    if (chunk.length > max) {
      this.chunks[this.head] = chunk.subarray(max);
      chunk = chunk.subarray(0, max);
    } else {
      this.head++;
      if (this.head === this.chunks.length) {
        this.chunks.length = 0;
        this.head = 0;
      } else if (this.head > 64 && this.head * 2 > this.chunks.length) {
        this.chunks.splice(0, this.head);
        this.head = 0;
      }
    }
    this.length -= chunk.length;
    return chunk;
  }

  clear(): void {
    this.chunks.length = 0;
    this.head = 0;
    this.length = 0;
  }
}
