// The send buffer: bytes from SND.UNA onwards, both unacknowledged and not yet
// sent. Large writes are kept by reference (the caller hands the buffer over,
// as with Node's write()); small writes are coalesced into an owned block so a
// stream of one-byte writes does not become a list of one-byte chunks.

const COALESCE_BELOW = 1024;
const BLOCK_SIZE = 16 * 1024;

export class SendQueue {
  /** Bytes held, counted from SND.UNA. */
  length = 0;
  private chunks: Uint8Array[] = [];
  private head = 0;
  /** Bytes of chunks[head] already acknowledged. */
  private headOffset = 0;
  /** The owned block small writes are copied into, and how much of it is used. */
  private block: Uint8Array | null = null;
  private blockUsed = 0;
  /** Cursor cache for copy(): chunk index and the queue offset at which it starts. */
  private cursorIndex = 0;
  private cursorStart = 0;

  push(data: Uint8Array): void {
    const n = data.length;
    if (n === 0) return;
    this.length += n;
    if (n < COALESCE_BELOW) {
      const last = this.chunks.length - 1;
      const block = this.block;
      if (block !== null && last >= this.head && this.chunks[last].buffer === block.buffer
          && this.chunks[last].byteOffset + this.chunks[last].length === block.byteOffset + this.blockUsed
          && this.blockUsed + n <= block.length) {
        block.set(data, this.blockUsed);
        const start = this.chunks[last].byteOffset - block.byteOffset;
        this.blockUsed += n;
        this.chunks[last] = block.subarray(start, this.blockUsed);
        return;
      }
      if (block === null || this.blockUsed + n > block.length) {
        this.block = new Uint8Array(BLOCK_SIZE);
        this.blockUsed = 0;
      }
      const b = this.block as Uint8Array;
      b.set(data, this.blockUsed);
      this.chunks.push(b.subarray(this.blockUsed, this.blockUsed + n));
      this.blockUsed += n;
      return;
    }
    this.chunks.push(data);
  }

  /** Copy `len` bytes starting `offset` bytes after SND.UNA into `dst` at `dstOffset`. */
  copy(offset: number, len: number, dst: Uint8Array, dstOffset: number): void {
    if (offset + len > this.length) throw new RangeError('SendQueue.copy beyond the queued data');
    let i: number;
    let start: number; // queue offset where chunks[i]'s unacknowledged part starts
    if (this.cursorIndex >= this.head && this.cursorIndex < this.chunks.length && this.cursorStart <= offset) {
      i = this.cursorIndex;
      start = this.cursorStart;
    } else {
      i = this.head;
      start = 0;
    }
    while (len > 0) {
      const chunk = this.chunks[i];
      const skip = i === this.head ? this.headOffset : 0;
      const avail = chunk.length - skip;
      if (offset >= start + avail) {
        start += avail;
        i++;
        continue;
      }
      this.cursorIndex = i;
      this.cursorStart = start;
      const from = skip + (offset - start);
      const take = Math.min(len, chunk.length - from);
      dst.set(take === chunk.length && from === 0 ? chunk : chunk.subarray(from, from + take), dstOffset);
      dstOffset += take;
      offset += take;
      len -= take;
    }
  }

  /** Drop `n` acknowledged bytes from the front. */
  shift(n: number): void {
    if (n > this.length) n = this.length;
    this.length -= n;
    while (n > 0) {
      const chunk = this.chunks[this.head];
      const avail = chunk.length - this.headOffset;
      if (n < avail) {
        this.headOffset += n;
        break;
      }
      n -= avail;
      this.head++;
      this.headOffset = 0;
    }
    this.cursorIndex = this.head;
    this.cursorStart = 0;
    if (this.head === this.chunks.length) {
      // Everything acknowledged: let go of the chunks (idle connections stay small).
      this.chunks.length = 0;
      this.head = 0;
      this.cursorIndex = 0;
      if (this.block !== null && this.blockUsed > this.block.length / 2) this.block = null;
    } else if (this.head > 64 && this.head * 2 > this.chunks.length) {
      this.chunks.splice(0, this.head);
      this.cursorIndex -= this.head;
      this.head = 0;
    }
  }

  /** Let go of everything (abort). */
  clear(): void {
    this.chunks.length = 0;
    this.head = 0;
    this.headOffset = 0;
    this.length = 0;
    this.block = null;
    this.blockUsed = 0;
    this.cursorIndex = 0;
    this.cursorStart = 0;
  }
}
