// An IP address of either family, as the transport layer holds it: four
// big-endian 32-bit words (an IPv4 address is the last word, the others zero)
// and the family. Connections keep their own immutable addresses; the network
// layer hands each arriving packet's addresses in two scratch objects it
// rewrites per packet, so lookups by address allocate nothing.

import { formatIpv4 } from '../wire/ipv4';

export type AddressFamily = 4 | 6;

export class IpAddress {
  constructor(
    public family: AddressFamily,
    public w0: number,
    public w1: number,
    public w2: number,
    public w3: number,
  ) {}

  /** An IPv4 address from its 32-bit number. */
  static v4(addr: number): IpAddress {
    return new IpAddress(4, 0, 0, 0, addr >>> 0);
  }

  /** The IPv4 wildcard (INADDR_ANY). */
  static readonly ANY4 = IpAddress.v4(0);

  /** The 32-bit number of an IPv4 address. */
  get v4(): number {
    return this.w3;
  }

  /** The unspecified address of its family (0.0.0.0, ::): "every local address" for a listener. */
  get isUnspecified(): boolean {
    return (this.w0 | this.w1 | this.w2 | this.w3) === 0;
  }

  equals(b: IpAddress): boolean {
    return this.w3 === b.w3 && this.family === b.family && this.w2 === b.w2 && this.w1 === b.w1 && this.w0 === b.w0;
  }

  /** A 32-bit summary for hashing (keyed and mixed by the tables that use it). */
  hash32(): number {
    return this.family === 4 ? this.w3 : (this.w0 ^ this.w1 ^ this.w2 ^ this.w3 ^ 0x60000000) >>> 0;
  }

  /** Make this scratch address an IPv4 address (the network layer's per-packet reuse). */
  setV4(addr: number): this {
    this.family = 4;
    this.w0 = 0;
    this.w1 = 0;
    this.w2 = 0;
    this.w3 = addr >>> 0;
    return this;
  }

  /** An independent copy (to keep beyond the current packet). */
  clone(): IpAddress {
    return new IpAddress(this.family, this.w0, this.w1, this.w2, this.w3);
  }

  toString(): string {
    if (this.family === 4) return formatIpv4(this.w3);
    const words = [this.w0, this.w1, this.w2, this.w3];
    const groups: string[] = [];
    for (const w of words) groups.push(((w >>> 16) & 0xffff).toString(16), (w & 0xffff).toString(16));
    return groups.join(':');
  }
}

/** An address given as an IPv4 number or an IpAddress. */
export type AddressInput = number | IpAddress;

export function toIpAddress(a: AddressInput): IpAddress {
  return typeof a === 'number' ? IpAddress.v4(a) : a;
}
