// The IPv4 routing table: longest-prefix match (RFC 1812 5.2.4.3), ties broken
// by the lower metric, then by the earlier route.

import { prefixMask } from '../wire/ipv4';

export interface Route<I> {
  /** Network address, host bits cleared. */
  readonly prefix: number;
  readonly prefixLength: number;
  /** Next hop; 0 = on-link (the destination itself is the next hop). */
  readonly gateway: number;
  readonly iface: I;
  readonly metric: number;
}

export interface RouteSpec<I> {
  prefix: number;
  prefixLength: number;
  gateway: number;
  iface: I;
  metric?: number;
}

/** Netmasks by prefix length as signed 32-bit integers: Map keys stay small integers, so lookup boxes nothing. */
const MASKS = Int32Array.from({ length: 33 }, (_, len) => prefixMask(len) | 0);

export class RouteTable<I> {
  /** By prefix length 0..32: network (as a signed 32-bit key) -> routes sorted by metric (stable). */
  private readonly byLength: Array<Map<number, Route<I>[]>> = Array.from({ length: 33 }, () => new Map());
  /** Prefix lengths that have routes, longest first. */
  private lengths: number[] = [];

  /**
   * Add a route and return it. Host bits of prefix are cleared. A route with
   * the same prefix, length, interface and metric is replaced (its gateway
   * updated), like `ip route replace`.
   */
  add(spec: RouteSpec<I>): Route<I> {
    const prefixLength = spec.prefixLength;
    if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > 32) {
      throw new RangeError(`Invalid prefix length: ${prefixLength}`);
    }
    const prefix = (spec.prefix & prefixMask(prefixLength)) >>> 0;
    const route: Route<I> = {
      prefix, prefixLength, gateway: spec.gateway >>> 0, iface: spec.iface, metric: spec.metric ?? 0,
    };
    const map = this.byLength[prefixLength];
    let list = map.get(prefix | 0);
    if (list === undefined) {
      list = [];
      map.set(prefix | 0, list);
      if (map.size === 1) this.lengths = this.lengths.concat(prefixLength).sort((a, b) => b - a);
    }
    const same = list.findIndex((r) => r.iface === route.iface && r.metric === route.metric);
    if (same >= 0) {
      list[same] = route;
      return route;
    }
    let at = list.length;
    while (at > 0 && list[at - 1].metric > route.metric) at--;
    list.splice(at, 0, route);
    return route;
  }

  /** Remove the routes for prefix/prefixLength (only those via iface when given). Returns how many. */
  remove(prefix: number, prefixLength: number, iface?: I): number {
    if (prefixLength < 0 || prefixLength > 32) return 0;
    const network = prefix & MASKS[prefixLength];
    const map = this.byLength[prefixLength];
    const list = map.get(network);
    if (list === undefined) return 0;
    const keep = iface === undefined ? [] : list.filter((r) => r.iface !== iface);
    const removed = list.length - keep.length;
    this.store(prefixLength, network, keep);
    return removed;
  }

  /** Remove every route through iface (it went away). Returns how many. */
  removeInterface(iface: I): number {
    let removed = 0;
    for (let len = 0; len <= 32; len++) {
      for (const [network, list] of [...this.byLength[len]]) {
        const keep = list.filter((r) => r.iface !== iface);
        removed += list.length - keep.length;
        this.store(len, network, keep);
      }
    }
    return removed;
  }

  private store(prefixLength: number, network: number, list: Route<I>[]): void {
    const map = this.byLength[prefixLength];
    if (list.length > 0) {
      map.set(network, list);
      return;
    }
    map.delete(network);
    if (map.size === 0) this.lengths = this.lengths.filter((l) => l !== prefixLength);
  }

  /** The best route to dst: longest prefix, then lowest metric; null when none (no default route). Allocates nothing. */
  lookup(dst: number): Route<I> | null {
    const lengths = this.lengths;
    for (let i = 0; i < lengths.length; i++) {
      const len = lengths[i];
      const list = this.byLength[len].get(dst & MASKS[len]);
      if (list !== undefined) return list[0];
    }
    return null;
  }

  /** Every route, longest prefix first, then by metric. */
  list(): Route<I>[] {
    const out: Route<I>[] = [];
    for (const len of this.lengths) {
      const networks = [...this.byLength[len].keys()].sort((a, b) => (a >>> 0) - (b >>> 0));
      for (const n of networks) out.push(...(this.byLength[len].get(n) ?? []));
    }
    return out;
  }

  get size(): number {
    let n = 0;
    for (const map of this.byLength) for (const list of map.values()) n += list.length;
    return n;
  }
}
