// Ephemeral port selection: RFC 6056 section 3.3.4, Algorithm 4 ("Double-Hash
// Port Selection"), hardened as Linux's __inet_hash_connect
// (net/ipv4/inet_hashtables.c) has been since the 2022 fixes for
// CVE-2022-32296 (Kol, Klein and Gilad, "Device Tracking via Linux's New TCP
// Source Port Selection Algorithm"). A small table with increments of one gave
// consecutive connections to one destination consecutive ports, and the
// destinations that share a counter betray which device is connecting.
//
// - One keyed 64-bit SipHash of (local address, remote address, remote port)
//   serves as both of algorithm 4's hashes, as Linux's secure_ipv4_port_ephemeral
//   does: its low 16 bits pick one of 65,536 counters (INET_TABLE_PERTURB_SIZE),
//   its high 32 bits are the destination's own offset into the range.
// - The search starts at offset + counter and steps by 2: first over the ports
//   with the parity of the range's low end, then over the others. A pick with
//   no destination (a bind, as listen on port 0 asks) starts at random and
//   prefers the other parity, as Linux's inet_csk_find_open_port, so that
//   listeners and connect() do not compete for ports. The price, as in Linux:
//   with over half the range held towards one destination, every pick first
//   tries all the ports of the preferred parity.
// - After each connect-style pick the counter moves on by 2 * (1 + max(ports
//   passed over, random 0..7)): by a random amount while ports are free, past
//   the busy ones when not (Linux: get_random_u32_below(8)).
// - Given a clock, the hash also covers the current 10-second period, so
//   offsets and counters are reshuffled every 10 s (Linux's
//   EPHEMERAL_PORT_SHUFFLE_PERIOD).

import { randomSipKey, sipHash24 } from './isn';
import type { Clock } from '../time/clock';
import type { RandomSource } from '../random';

/** Counters in the table (RFC 6056's TABLE_LENGTH, Linux's INET_TABLE_PERTURB_SIZE); a power of two. */
const TABLE_LENGTH = 1 << 16;
/** A counter moves on by at least one step plus a random 0..RANDOM_STEPS-1 more (Linux: get_random_u32_below(8)). */
const RANDOM_STEPS = 8;
/** The hash changes every this many ms when a clock is given (Linux: EPHEMERAL_PORT_SHUFFLE_PERIOD = 10 s). */
const SHUFFLE_PERIOD_MS = 10_000;

export class EphemeralPorts {
  readonly min: number;
  readonly max: number;
  /** Ports in the range. */
  private readonly size: number;
  private readonly random: RandomSource;
  private readonly clock: Clock | undefined;
  private readonly key: Uint32Array;
  /** The counters, each an offset in [0, size); 128 KiB, made on the first connect-style pick. */
  private table: Uint16Array | null = null;
  /** The hashed tuple: local address, remote address, remote port, shuffle period (big-endian). */
  private readonly tuple = new Uint8Array(14);
  private readonly tupleView = new DataView(this.tuple.buffer);
  private readonly hash = new Uint32Array(2);
  /** Ports passed over in the last pass of the last search. */
  private skipped = 0;

  /**
   * The range defaults to Linux's net.ipv4.ip_local_port_range (32768..60999).
   * With a `clock`, the choices are reshuffled every 10 seconds of its time.
   */
  constructor(random: RandomSource, min = 32768, max = 60999, clock?: Clock) {
    if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max > 65535 || min > max) {
      throw new RangeError(`bad ephemeral port range ${min}..${max}`);
    }
    this.min = min;
    this.max = max;
    this.size = max - min + 1;
    this.random = random;
    this.clock = clock;
    this.key = randomSipKey(random);
  }

  /**
   * A local port for a connection from `localAddr` to remoteAddr:remotePort
   * (IPv4 addresses as unsigned 32-bit numbers), skipping every port for
   * which `inUse` returns true; remoteAddr and remotePort both 0 ask for a
   * port to bind, with no destination. Returns -1 when every port in the
   * range is in use.
   */
  pick(localAddr: number, remoteAddr: number, remotePort: number, inUse: (port: number) => boolean): number {
    if (remoteAddr === 0 && remotePort === 0) return this.search(this.random.u32() % this.size, 1, inUse);
    const view = this.tupleView;
    view.setUint32(0, localAddr);
    view.setUint32(4, remoteAddr);
    view.setUint16(8, remotePort);
    let length = 10;
    if (this.clock !== undefined) {
      view.setUint32(10, Math.floor(this.clock.now() / SHUFFLE_PERIOD_MS));
      length = 14;
    }
    sipHash24(this.key, this.tuple, length, this.hash);
    const index = this.hash[0] & (TABLE_LENGTH - 1);
    const offset = this.hash[1] % this.size;
    const table = this.table ?? this.makeTable();
    const port = this.search((offset + table[index]) % this.size, 0, inUse);
    if (port >= 0) {
      const steps = 1 + Math.max(this.skipped, this.random.u32() % RANDOM_STEPS);
      table[index] = (table[index] + 2 * steps) % this.size;
    }
    return port;
  }

  /**
   * Tries each port once, from offset `start` in steps of 2 and wrapping
   * round: first the offsets of parity `parity`, then the others. Returns the
   * first port not in use, or -1; sets `skipped`.
   */
  private search(start: number, parity: number, inUse: (port: number) => boolean): number {
    for (let pass = 0; pass < 2; pass++) {
      const p = parity ^ pass;
      // Offsets p, p + 2, ... below size; unlike Linux, an odd-sized range loses no port.
      const slots = (this.size - p + 1) >> 1;
      if (slots === 0) continue;
      let slot = (start >> 1) % slots;
      for (let k = 0; k < slots; k++) {
        const port = this.min + p + 2 * slot;
        if (!inUse(port)) {
          this.skipped = k;
          return port;
        }
        if (++slot === slots) slot = 0;
      }
    }
    return -1;
  }

  /** The counters start at random values, as Linux fills table_perturb with random bytes on first use. */
  private makeTable(): Uint16Array {
    const table = new Uint16Array(TABLE_LENGTH);
    this.random.fill(new Uint8Array(table.buffer));
    for (let i = 0; i < TABLE_LENGTH; i++) table[i] %= this.size;
    this.table = table;
    return table;
  }
}
