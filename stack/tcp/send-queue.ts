// The send buffer: bytes from SND.UNA onwards, both unacknowledged and not yet
// sent. Data comes in two ways: by reference (push: the caller hands the
// buffer over and never writes it again) or copied into blocks the queue owns
// (pushCopy: what Node's write() needs, since the caller may reuse its buffer
// once the write completes). Copies land straight in the blocks, and small
// writes share them, so a stream of one-byte writes is not a list of one-byte
// chunks. Blocks whose bytes are all acknowledged go back to a pool shared by
// the stack's connections, so a steady transfer allocates none.

/** Bytes per owned block. */
export const BLOCK_SIZE = 16 * 1024;
/** By-reference writes smaller than this are copied into a block anyway. */
const COALESCE_BELOW = 1024;

/** Free send-queue blocks, shared by the connections of one stack, at most `limit` of them. */
export class BlockPool {
  private readonly free: ArrayBuffer[] = [];
  /** The buffers of blocks the pool handed out: only those may come back. */
  private readonly owned = new WeakSet<ArrayBuffer>();

  constructor(private readonly limit = 64) {}

  take(): Uint8Array {
    const b = this.free.pop() ?? new ArrayBuffer(BLOCK_SIZE);
    this.owned.add(b);
    return new Uint8Array(b);
  }

  /** A block none of whose bytes are needed any more. Returns whether it was one of ours. */
  give(buffer: ArrayBufferLike): boolean {
    if (!this.owned.has(buffer as ArrayBuffer)) return false;
    if (this.free.length < this.limit) this.free.push(buffer as ArrayBuffer);
    return true;
  }

  /** Free blocks waiting for reuse. */
  get size(): number {
    return this.free.length;
  }
}

export class SendQueue {
  /** Bytes held, counted from SND.UNA. */
  length = 0;
  private chunks: Uint8Array[] = [];
  private head = 0;
  /** Bytes of chunks[head] already acknowledged. */
  private headOffset = 0;
  /** The owned block being filled, and how much of it is used. */
  private block: Uint8Array | null = null;
  private blockUsed = 0;
  /** Cursor cache for copy(): chunk index and the queue offset at which it starts. */
  private cursorIndex = 0;
  private cursorStart = 0;

  constructor(private readonly pool: BlockPool) {}

  /** Queue `data` by reference (small pieces are copied into a block). */
  push(data: Uint8Array): void {
    const n = data.length;
    if (n === 0) return;
    if (n < COALESCE_BELOW) {
      this.pushCopy(data);
      return;
    }
    this.length += n;
    this.chunks.push(data);
  }

  /** Queue a copy of `data`, written straight into owned blocks. */
  pushCopy(data: Uint8Array): void {
    let off = 0;
    const n = data.length;
    this.length += n;
    while (off < n) {
      let block = this.block;
      if (block === null || this.blockUsed === block.length) {
        block = this.pool.take();
        this.block = block;
        this.blockUsed = 0;
      }
      const take = Math.min(n - off, block.length - this.blockUsed);
      block.set(off === 0 && take === n ? data : data.subarray(off, off + take), this.blockUsed);
      this.appendBlockBytes(block, take);
      off += take;
    }
  }

  /** The block grew by `take` bytes at blockUsed: extend the last chunk when it ends there, else add one. */
  private appendBlockBytes(block: Uint8Array, take: number): void {
    const start = this.blockUsed;
    this.blockUsed += take;
    const last = this.chunks.length - 1;
    if (last >= this.head) {
      const c = this.chunks[last];
      if (c.buffer === block.buffer && c.byteOffset + c.length === block.byteOffset + start) {
        this.chunks[last] = block.subarray(c.byteOffset - block.byteOffset, this.blockUsed);
        return;
      }
    }
    this.chunks.push(block.subarray(start, this.blockUsed));
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
      this.chunkDone(chunk);
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
      const block = this.block;
      if (block !== null) {
        // The fill block is empty of unacknowledged bytes: start it over, or let it go if mostly used.
        if (this.blockUsed > block.length / 2) {
          this.pool.give(block.buffer);
          this.block = null;
        }
        this.blockUsed = 0;
      }
    } else if (this.head > 64 && this.head * 2 > this.chunks.length) {
      this.chunks.splice(0, this.head);
      this.cursorIndex -= this.head;
      this.head = 0;
    }
  }

  /**
   * Every byte of `chunk` is acknowledged. Blocks fill in order and chunks are
   * taken in order, so a chunk that ends at its block's end (and is not in the
   * block still being filled) was the block's last use: back to the pool.
   */
  private chunkDone(chunk: Uint8Array): void {
    const block = this.block;
    if (block !== null && chunk.buffer === block.buffer) return;
    if (chunk.byteOffset + chunk.length === chunk.buffer.byteLength) this.pool.give(chunk.buffer);
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
