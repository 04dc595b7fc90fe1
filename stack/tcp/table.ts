// The connection table: 4-tuple -> connection (or SYN request), an open hash
// with chains that run through the entries themselves (no allocation per
// insert or lookup).

import type { IpAddress } from '../ip/address';

/** What the table keeps: anything with a 4-tuple and a chain link. */
export interface TupleEntry {
  readonly localAddr: IpAddress;
  readonly localPort: number;
  readonly remoteAddr: IpAddress;
  readonly remotePort: number;
  nextInBucket: this | null;
}

function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return h ^ (h >>> 16);
}

/** Mix an address into hash `h`: one word for IPv4, all four for IPv6. */
function mixAddress(h: number, a: IpAddress): number {
  if (a.family === 4) return mix(h ^ a.w3);
  return mix(mix(mix(mix(h ^ a.w0) ^ a.w1) ^ a.w2) ^ a.w3);
}

export class ConnectionTable<C extends TupleEntry> {
  size = 0;
  private buckets: Array<C | null> = new Array<C | null>(64).fill(null);
  private mask = 63;

  /** `secret` keys the hash so a peer cannot aim many tuples at one chain. */
  constructor(private readonly secret: number) {}

  private hash(localAddr: IpAddress, localPort: number, remoteAddr: IpAddress, remotePort: number): number {
    let h = mixAddress(this.secret, remoteAddr);
    h = mix(h ^ ((localPort << 16) | remotePort));
    return mixAddress(h, localAddr);
  }

  find(localAddr: IpAddress, localPort: number, remoteAddr: IpAddress, remotePort: number): C | null {
    let c = this.buckets[this.hash(localAddr, localPort, remoteAddr, remotePort) & this.mask];
    while (c !== null) {
      if (c.remotePort === remotePort && c.localPort === localPort && c.remoteAddr.equals(remoteAddr) && c.localAddr.equals(localAddr)) return c;
      c = c.nextInBucket;
    }
    return null;
  }

  insert(conn: C): void {
    if (this.size + 1 > this.buckets.length * 0.75) this.grow();
    const i = this.hash(conn.localAddr, conn.localPort, conn.remoteAddr, conn.remotePort) & this.mask;
    conn.nextInBucket = this.buckets[i];
    this.buckets[i] = conn;
    this.size++;
  }

  remove(conn: C): boolean {
    const i = this.hash(conn.localAddr, conn.localPort, conn.remoteAddr, conn.remotePort) & this.mask;
    let c = this.buckets[i];
    let prev: C | null = null;
    while (c !== null) {
      if (c === conn) {
        if (prev === null) this.buckets[i] = c.nextInBucket;
        else prev.nextInBucket = c.nextInBucket;
        c.nextInBucket = null;
        this.size--;
        return true;
      }
      prev = c;
      c = c.nextInBucket;
    }
    return false;
  }

  all(): C[] {
    const out: C[] = [];
    for (let c of this.buckets) {
      while (c !== null) {
        out.push(c);
        c = c.nextInBucket;
      }
    }
    return out;
  }

  private grow(): void {
    const old = this.buckets;
    this.buckets = new Array<C | null>(old.length * 2).fill(null);
    this.mask = this.buckets.length - 1;
    for (let c of old) {
      while (c !== null) {
        const next = c.nextInBucket;
        const i = this.hash(c.localAddr, c.localPort, c.remoteAddr, c.remotePort) & this.mask;
        c.nextInBucket = this.buckets[i];
        this.buckets[i] = c;
        c = next;
      }
    }
  }
}
