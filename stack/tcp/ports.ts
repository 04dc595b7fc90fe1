// Ephemeral port selection, RFC 6056 section 3.3.4, Algorithm 4 ("Double-Hash
// Port Selection", the basis of Linux's __inet_hash_connect): a keyed hash of
// the destination picks a starting offset, a second keyed hash picks a counter
// in a table, and the counter moves on with every port tried. Consecutive
// connections to one destination get consecutive ports, while ports used
// towards one destination reveal nothing about those used towards another.

import { randomSipKey, sipHash24 } from './isn';
import type { RandomSource } from '../random';

/** Counters in the table (RFC 6056 calls its size TABLE_LENGTH); a power of two. */
const TABLE_LENGTH = 1024;

export class EphemeralPorts {
  readonly min: number;
  readonly max: number;
  private readonly key1: Uint32Array;
  private readonly key2: Uint32Array;
  private readonly table: Uint32Array;
  private readonly scratch = new Uint8Array(10);

  /** The range defaults to Linux's net.ipv4.ip_local_port_range (32768..60999). */
  constructor(random: RandomSource, min = 32768, max = 60999) {
    if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max > 65535 || min > max) {
      throw new RangeError(`bad ephemeral port range ${min}..${max}`);
    }
    this.min = min;
    this.max = max;
    this.key1 = randomSipKey(random);
    this.key2 = randomSipKey(random);
    // RFC 6056 starts the counters at zero; starting them at random values costs nothing and hides less.
    const n = max - min + 1;
    this.table = new Uint32Array(TABLE_LENGTH);
    for (let i = 0; i < TABLE_LENGTH; i++) this.table[i] = random.u32() % n;
  }

  /**
   * A local port for a connection from `localAddr` to remoteAddr:remotePort
   * (IPv4 addresses as unsigned 32-bit numbers), skipping every port for
   * which `inUse` returns true. Returns -1 when every port in the range is in use.
   */
  pick(localAddr: number, remoteAddr: number, remotePort: number, inUse: (port: number) => boolean): number {
    const b = this.scratch;
    b[0] = localAddr >>> 24;
    b[1] = localAddr >>> 16;
    b[2] = localAddr >>> 8;
    b[3] = localAddr;
    b[4] = remoteAddr >>> 24;
    b[5] = remoteAddr >>> 16;
    b[6] = remoteAddr >>> 8;
    b[7] = remoteAddr;
    b[8] = remotePort >>> 8;
    b[9] = remotePort;
    const n = this.max - this.min + 1;
    // offset = F(localaddr, remoteaddr, remoteport, secret_key1)
    const offset = sipHash24(this.key1, b, 10) % n;
    // index = G(localaddr, remoteaddr, remoteport, secret_key2) mod TABLE_LENGTH
    const index = sipHash24(this.key2, b, 10) & (TABLE_LENGTH - 1);
    const table = this.table;
    for (let count = n; count > 0; count--) {
      const port = this.min + ((offset + table[index]) % n);
      table[index] = (table[index] + 1) % n;
      if (!inUse(port)) return port;
    }
    return -1;
  }
}
