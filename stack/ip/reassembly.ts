// IPv4 reassembly (RFC 791 section 3.2 "Fragmentation and Reassembly", RFC 815).
//
// Datagrams are keyed by (src, dst, protocol, id) (RFC 791). Each keeps its
// fragments as a list sorted by offset; since overlaps are refused, the
// datagram is complete when the bytes held equal the length fixed by the last
// fragment. The timer starts with the first fragment and is not restarted
// (Linux ipfrag_time, 30 s; RFC 1122 3.3.2 suggests 60-120 s). Memory is
// bounded by maxBytes (Linux ipfrag_high_thresh, 4 MiB): the oldest datagrams
// are evicted to make room.
//
// Overlaps (RFC 5722 section 4, which Linux applies to IPv4 since 4.19): a
// fragment that partially overlaps data already held discards the whole
// datagram; one entirely inside data already held is a duplicate and is
// dropped alone if its bytes are identical, else the whole datagram goes
// (Linux drops exact-range duplicates without comparing; we are stricter).
// Non-final fragments whose payload is not a multiple of 8 bytes are refused
// (RFC 791; Linux trims them instead). ECN bits are not combined (RFC 3168 5.3).
//
// What a datagram holds is copied out of the fragments as they arrive
// (copyBytes), never kept as views: a received frame may be a view into a
// 256 KiB slab or a whole receive batch, so one held view would keep all of
// that alive and maxBytes would bound nothing. Copied, the memory held is what
// bytesHeld counts.

import type { Ipv4Header } from '../wire/ipv4';
import { IPV4_FLAG_DF, IPV4_HEADER_LENGTH, IPV4_MAX_LENGTH, setIpv4Checksum } from '../wire/ipv4';
import { copyBytes } from '../buffers';

export type ReassemblyDropReason =
  /** A fragment with MF set whose payload is not a multiple of 8 bytes. */
  | 'ipv4-fragment-misaligned'
  /** A fragment with MF set and no payload. */
  | 'ipv4-fragment-empty'
  /** Bytes already held, identical: the fragment is dropped, the datagram kept. */
  | 'ipv4-fragment-duplicate'
  /** Overlapping or conflicting data: the whole datagram is dropped. */
  | 'ipv4-fragment-overlap'
  /** Disagreement about where the datagram ends: the whole datagram is dropped. */
  | 'ipv4-fragment-inconsistent'
  /** The datagram would exceed 65535 bytes: the whole datagram is dropped. */
  | 'ipv4-reassembly-too-big'
  /** The datagram alone would exceed the memory budget: the whole datagram is dropped. */
  | 'ipv4-reassembly-over-budget';

export interface ReassemblerOptions {
  now: () => number;
  /** Default 30000 (Linux net.ipv4.ipfrag_time). */
  timeoutMs?: number;
  /** Default 4 MiB (Linux net.ipv4.ipfrag_high_thresh). */
  maxBytes?: number;
  /**
   * Called by expire() for each timed-out datagram whose first fragment had
   * arrived, with that fragment (header + its data): the host may answer with
   * ICMP Time Exceeded, code 1 (RFC 792, RFC 1122 3.3.2; Linux ip_expire).
   */
  onTimeout?: (firstFragment: Uint8Array) => void;
}

interface Piece {
  start: number;
  end: number;
  /** The fragment's payload, copied out of its frame. */
  data: Uint8Array;
}

class Datagram {
  /** Copy of the first fragment's header (options included), once it arrived. */
  header: Uint8Array | null = null;
  readonly pieces: Piece[] = [];
  /** Payload length, known once the last fragment (MF clear) arrived; -1 before. */
  payloadLength = -1;
  /** Largest end offset seen. */
  maxEnd = 0;
  /** Payload bytes held (no overlaps, so this measures coverage). */
  received = 0;
  /** Memory charged to this datagram. */
  held = 0;
  older: Datagram | null = null;
  newer: Datagram | null = null;
  live = true;

  constructor(
    readonly key: number,
    readonly src: number,
    readonly dst: number,
    readonly protocol: number,
    readonly id: number,
    readonly expiresAt: number,
  ) {}
}

export class Reassembler {
  private readonly now: () => number;
  private readonly timeoutMs: number;
  private readonly maxBytes: number;
  private readonly onTimeout: ((firstFragment: Uint8Array) => void) | null;
  private readonly buckets = new Map<number, Datagram[]>();
  /** Oldest first; since every datagram lives timeoutMs, also soonest to expire first. */
  private oldest: Datagram | null = null;
  private newest: Datagram | null = null;
  private held = 0;
  private count = 0;
  /** Datagrams evicted to stay within maxBytes. */
  evictions = 0;
  /** Datagrams dropped by expire(). */
  timeouts = 0;

  constructor(options: ReassemblerOptions) {
    this.now = options.now;
    this.timeoutMs = options.timeoutMs ?? 30000;
    this.maxBytes = options.maxBytes ?? 4 * 1024 * 1024;
    this.onTimeout = options.onTimeout ?? null;
  }

  /** Memory held by incomplete datagrams (payload bytes plus first-fragment headers). */
  get bytesHeld(): number {
    return this.held;
  }

  /** Incomplete datagrams held. */
  get pending(): number {
    return this.count;
  }

  /**
   * Take one fragment: `hdr` is the parsed header of `packet` (checksum already
   * verified). Returns the reassembled datagram (a fresh buffer: the first
   * fragment's header with total length set, fragment fields cleared and the
   * checksum recomputed) when this fragment completes it, null while it is
   * incomplete, or why the fragment was dropped. The packet's bytes are copied.
   * A packet that is not a fragment is returned as is.
   */
  input(hdr: Ipv4Header, packet: Uint8Array): Uint8Array | null | ReassemblyDropReason {
    const start = hdr.fragmentOffset;
    const length = hdr.payloadLength;
    const end = start + length;
    const more = hdr.moreFragments;
    if (!more && start === 0) return packet;
    if (more && length === 0) return 'ipv4-fragment-empty';
    if (more && (length & 7) !== 0) return 'ipv4-fragment-misaligned';

    const key = hashKey(hdr.src, hdr.dst, hdr.protocol, hdr.id);
    let d = this.find(key, hdr);
    if (end + (start === 0 ? hdr.headerLength : IPV4_HEADER_LENGTH) > IPV4_MAX_LENGTH) {
      if (d !== null) this.discard(d);
      return 'ipv4-reassembly-too-big';
    }
    if (d === null) d = this.create(key, hdr);

    // Where the datagram ends (RFC 791: the fragment with MF clear).
    if (!more) {
      if ((d.payloadLength >= 0 && d.payloadLength !== end) || end < d.maxEnd) {
        this.discard(d);
        return 'ipv4-fragment-inconsistent';
      }
      d.payloadLength = end;
    } else if (d.payloadLength >= 0 && end > d.payloadLength) {
      this.discard(d);
      return 'ipv4-fragment-inconsistent';
    }

    // Overlap check and insertion point.
    const pieces = d.pieces;
    const dataOffset = hdr.payloadOffset;
    let at = 0;
    while (at < pieces.length && pieces[at].end <= start) at++;
    if (at < pieces.length && pieces[at].start < end) {
      // Overlaps held data: a duplicate only if a contiguous run of held pieces covers it with the same bytes.
      if (!this.isDuplicate(pieces, at, start, end, packet, dataOffset)) {
        this.discard(d);
        return 'ipv4-fragment-overlap';
      }
      if (start === 0 && d.header === null) {
        d.header = copyBytes(packet, hdr.headerOffset, hdr.headerOffset + hdr.headerLength);
        this.charge(d, hdr.headerLength);
      }
      return 'ipv4-fragment-duplicate';
    }

    // Memory budget: this fragment's cost, evicting the oldest other datagrams.
    const cost = length + (start === 0 && d.header === null ? hdr.headerLength : 0);
    if (d.held + cost > this.maxBytes) {
      this.discard(d);
      return 'ipv4-reassembly-over-budget';
    }
    while (this.held + cost > this.maxBytes) {
      const victim = this.oldest === d ? d.newer : this.oldest;
      if (victim === null) break;
      this.discard(victim);
      this.evictions++;
    }

    pieces.splice(at, 0, { start, end, data: copyBytes(packet, dataOffset, dataOffset + length) });
    d.received += length;
    if (end > d.maxEnd) d.maxEnd = end;
    if (start === 0 && d.header === null) d.header = copyBytes(packet, hdr.headerOffset, hdr.headerOffset + hdr.headerLength);
    this.charge(d, cost);

    if (d.payloadLength < 0 || d.received !== d.payloadLength || d.header === null) return null;
    return this.assemble(d);
  }

  /** Drop datagrams whose time is up; returns how many. */
  expire(): number {
    const now = this.now();
    let n = 0;
    while (this.oldest !== null && this.oldest.expiresAt <= now) {
      const d = this.oldest;
      const first = d.pieces.length > 0 && d.pieces[0].start === 0 ? d.pieces[0] : null;
      this.discard(d);
      this.timeouts++;
      n++;
      if (this.onTimeout !== null && d.header !== null && first !== null) {
        const packet = new Uint8Array(d.header.length + first.data.length);
        packet.set(d.header);
        packet.set(first.data, d.header.length);
        this.onTimeout(packet);
      }
    }
    return n;
  }

  /** When expire() next has work: the oldest datagram's deadline, or Infinity. */
  nextExpiry(): number {
    return this.oldest === null ? Infinity : this.oldest.expiresAt;
  }

  /** Drop everything held. */
  clear(): void {
    while (this.oldest !== null) this.discard(this.oldest);
  }

  private isDuplicate(pieces: Piece[], at: number, start: number, end: number, packet: Uint8Array, dataOffset: number): boolean {
    let pos = start;
    for (let i = at; i < pieces.length && pos < end; i++) {
      const p = pieces[i];
      if (p.start > pos) return false; // a hole: partial overlap
      const stop = Math.min(end, p.end);
      for (let k = pos; k < stop; k++) if (p.data[k - p.start] !== packet[dataOffset + k - start]) return false;
      pos = stop;
    }
    return pos >= end;
  }

  private assemble(d: Datagram): Uint8Array | ReassemblyDropReason {
    const header = d.header as Uint8Array;
    const hl = header.length;
    const total = hl + d.payloadLength;
    if (total > IPV4_MAX_LENGTH) {
      this.discard(d);
      return 'ipv4-reassembly-too-big';
    }
    const out = new Uint8Array(total);
    out.set(header);
    for (const p of d.pieces) out.set(p.data, hl + p.start);
    out[2] = total >>> 8;
    out[3] = total;
    // Fragment fields cleared; DF kept as the first fragment had it.
    out[6] &= IPV4_FLAG_DF >>> 8;
    out[7] = 0;
    setIpv4Checksum(out, 0);
    this.discard(d);
    return out;
  }

  private find(key: number, hdr: Ipv4Header): Datagram | null {
    const bucket = this.buckets.get(key);
    if (bucket === undefined) return null;
    for (const d of bucket) {
      if (d.src === hdr.src && d.dst === hdr.dst && d.protocol === hdr.protocol && d.id === hdr.id) return d;
    }
    return null;
  }

  private create(key: number, hdr: Ipv4Header): Datagram {
    const d = new Datagram(key, hdr.src, hdr.dst, hdr.protocol, hdr.id, this.now() + this.timeoutMs);
    const bucket = this.buckets.get(key);
    if (bucket === undefined) this.buckets.set(key, [d]);
    else bucket.push(d);
    d.older = this.newest;
    if (this.newest !== null) this.newest.newer = d;
    else this.oldest = d;
    this.newest = d;
    this.count++;
    return d;
  }

  private charge(d: Datagram, bytes: number): void {
    d.held += bytes;
    this.held += bytes;
  }

  private discard(d: Datagram): void {
    if (!d.live) return;
    d.live = false;
    const bucket = this.buckets.get(d.key);
    if (bucket !== undefined) {
      const i = bucket.indexOf(d);
      if (i >= 0) bucket.splice(i, 1);
      if (bucket.length === 0) this.buckets.delete(d.key);
    }
    if (d.older !== null) d.older.newer = d.newer;
    else if (this.oldest === d) this.oldest = d.newer;
    if (d.newer !== null) d.newer.older = d.older;
    else if (this.newest === d) this.newest = d.older;
    d.older = null;
    d.newer = null;
    this.held -= d.held;
    d.held = 0;
    this.count--;
  }
}

function hashKey(src: number, dst: number, protocol: number, id: number): number {
  return (src ^ Math.imul(dst, 0x9e3779b1) ^ Math.imul((id << 8) | protocol, 0x85ebca6b)) | 0;
}
