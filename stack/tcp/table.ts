// The connection table: 4-tuple -> connection (or SYN request), an open hash
// with chains that run through the entries themselves (no allocation per
// insert or lookup).

/** What the table keeps: anything with a 4-tuple and a chain link. */
export interface TupleEntry {
  readonly localAddr: number;
  readonly localPort: number;
  readonly remoteAddr: number;
  readonly remotePort: number;
  nextInBucket: this | null;
}

function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return h ^ (h >>> 16);
}

export class ConnectionTable<C extends TupleEntry> {
  size = 0;
  private buckets: Array<C | null> = new Array<C | null>(64).fill(null);
  private mask = 63;

  /** `secret` keys the hash so a peer cannot aim many tuples at one chain. */
  constructor(private readonly secret: number) {}

  private hash(localAddr: number, localPort: number, remoteAddr: number, remotePort: number): number {
    let h = mix(remoteAddr ^ this.secret);
    h = mix(h ^ ((localPort << 16) | remotePort));
    return mix(h ^ localAddr);
  }

  find(localAddr: number, localPort: number, remoteAddr: number, remotePort: number): C | null {
    let c = this.buckets[this.hash(localAddr, localPort, remoteAddr, remotePort) & this.mask];
    while (c !== null) {
      if (c.remotePort === remotePort && c.localPort === localPort && c.remoteAddr === remoteAddr && c.localAddr === localAddr) return c;
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
