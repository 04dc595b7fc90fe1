// The neighbour cache of one Ethernet interface: ARP (RFC 826) resolution
// with request retries, packets held while an address resolves, entries that
// age out, and gratuitous ARP when the interface comes up.

import type { Clock, Timer } from '../time/clock';
import { ARP_REPLY, ARP_REQUEST, ArpPacket, parseArp, writeArpReply, writeArpRequest, ARP_LENGTH } from '../wire/arp';
import { BROADCAST_MAC, ETHERTYPE_ARP, ETHERNET_HEADER_LENGTH, writeEthernetHeader } from '../wire/ethernet';

export interface ArpConfig {
  /** How long a learned address is trusted, ms (Linux base_reachable_time: 30 s). */
  reachableMs: number;
  /** Between unanswered requests, ms (Linux retrans_time: 1 s). */
  retransmitMs: number;
  /** Requests before giving up (Linux mcast_solicit: 3). */
  requests: number;
  /** Packets held per unresolved address (Linux unres_qlen: 101 packets; we keep fewer). */
  queueLimit: number;
}

export const defaultArpConfig: Readonly<ArpConfig> = Object.freeze({
  reachableMs: 30_000,
  retransmitMs: 1000,
  requests: 3,
  queueLimit: 64,
});

interface Neighbour {
  ip: number;
  mac: Uint8Array | null;
  /** When the mapping stops being trusted (re-resolved on next use). */
  expiresAt: number;
  requestsSent: number;
  /** IP packets (with ETHERNET_HEADER_LENGTH bytes of headroom before them) waiting for the MAC. */
  queue: Array<{ frame: Uint8Array; ipOffset: number; ipLength: number }>;
  timer: Timer | null;
}

export interface ArpHost {
  readonly clock: Clock;
  readonly mac: Uint8Array;
  readonly address: number;
  /** Queue an Ethernet frame on the interface. */
  output(frame: Uint8Array): void;
  allocFrame(length: number): Uint8Array;
  count(reason: string): void;
  trace(what: string, ip: number, mac: Uint8Array | null): void;
  /** Resolution failed: these packets could not be sent (the IP layer tells their senders). */
  unreachable(ip: number, packets: Uint8Array[]): void;
}

export class ArpCache {
  private readonly table = new Map<number, Neighbour>();
  private readonly packet = new ArpPacket();

  constructor(private readonly host: ArpHost, private readonly config: ArpConfig = defaultArpConfig) {}

  /** The MAC for `ip` if known and fresh (no allocation). */
  lookup(ip: number): Uint8Array | null {
    const n = this.table.get(ip);
    if (n === undefined || n.mac === null) return null;
    if (n.expiresAt <= this.host.clock.now()) {
      // Stale: keep using it, and ask again (Linux STALE -> DELAY -> PROBE, simplified).
      if (n.timer === null || !n.timer.armed) this.startResolving(n);
    }
    return n.mac;
  }

  /**
   * Send `frame` (an IP packet at ipOffset, with room for the Ethernet header
   * before it) to `ip`: at once if its MAC is known, else after resolution.
   */
  send(ip: number, frame: Uint8Array, ipOffset: number, ipLength: number): void {
    const mac = this.lookup(ip);
    if (mac !== null) {
      this.host.output(frameFor(frame, ipOffset, ipLength, mac, this.host.mac));
      return;
    }
    let n = this.table.get(ip);
    if (n === undefined) {
      n = { ip, mac: null, expiresAt: 0, requestsSent: 0, queue: [], timer: null };
      this.table.set(ip, n);
    }
    if (n.queue.length >= this.config.queueLimit) {
      this.host.count('arp-queue-overflow');
      return;
    }
    n.queue.push({ frame, ipOffset, ipLength });
    if (n.timer === null || !n.timer.armed) this.startResolving(n);
  }

  /** Send to the Ethernet broadcast address (no resolution). */
  sendBroadcast(frame: Uint8Array, ipOffset: number, ipLength: number): void {
    this.host.output(frameFor(frame, ipOffset, ipLength, BROADCAST_MAC, this.host.mac));
  }

  /** An ARP packet arrived (the Ethernet payload). */
  input(buf: Uint8Array, offset: number, length: number): void {
    const p = this.packet;
    const reason = parseArp(buf, offset, length, p);
    if (reason !== null) {
      this.host.count(reason);
      return;
    }
    const me = this.host.address;
    // RFC 826 "Packet Reception": update an entry we have (merge), add one if the packet is for us.
    const known = this.table.get(p.senderIp);
    if (p.senderIp !== 0 && (known !== undefined || p.targetIp === me)) this.learn(p.senderIp, p.senderMac);
    if (p.op === ARP_REQUEST && p.targetIp === me && p.senderIp !== me) {
      const frame = this.host.allocFrame(ETHERNET_HEADER_LENGTH + ARP_LENGTH);
      writeEthernetHeader(frame, 0, p.senderMac, this.host.mac, ETHERTYPE_ARP);
      writeArpReply(frame, ETHERNET_HEADER_LENGTH, this.host.mac, me, p.senderMac, p.senderIp);
      this.host.trace('reply', p.senderIp, p.senderMac);
      this.host.output(frame);
    } else if (p.op === ARP_REPLY) {
      this.host.count('arp-reply');
    }
  }

  /** Gratuitous ARP (RFC 5227 3): announce our address when the interface comes up. */
  announce(): void {
    const frame = this.host.allocFrame(ETHERNET_HEADER_LENGTH + ARP_LENGTH);
    writeEthernetHeader(frame, 0, BROADCAST_MAC, this.host.mac, ETHERTYPE_ARP);
    writeArpRequest(frame, ETHERNET_HEADER_LENGTH, this.host.mac, this.host.address, this.host.address);
    this.host.trace('gratuitous', this.host.address, this.host.mac);
    this.host.output(frame);
  }

  /** The entries, for inspection. */
  entries(): Array<{ ip: number; mac: Uint8Array | null; expiresAt: number; queued: number }> {
    return [...this.table.values()].map((n) => ({ ip: n.ip, mac: n.mac, expiresAt: n.expiresAt, queued: n.queue.length }));
  }

  private learn(ip: number, mac: Uint8Array): void {
    let n = this.table.get(ip);
    if (n === undefined) {
      n = { ip, mac: null, expiresAt: 0, requestsSent: 0, queue: [], timer: null };
      this.table.set(ip, n);
    }
    n.mac = mac.slice();
    n.expiresAt = this.host.clock.now() + this.config.reachableMs;
    n.requestsSent = 0;
    n.timer?.stop();
    this.host.trace('learned', ip, n.mac);
    const q = n.queue;
    n.queue = [];
    for (const p of q) this.host.output(frameFor(p.frame, p.ipOffset, p.ipLength, n.mac, this.host.mac));
  }

  private startResolving(n: Neighbour): void {
    n.requestsSent = 0;
    if (n.timer === null) n.timer = this.host.clock.createTimer(() => this.retry(n));
    this.request(n);
  }

  private request(n: Neighbour): void {
    n.requestsSent++;
    const frame = this.host.allocFrame(ETHERNET_HEADER_LENGTH + ARP_LENGTH);
    writeEthernetHeader(frame, 0, BROADCAST_MAC, this.host.mac, ETHERTYPE_ARP);
    writeArpRequest(frame, ETHERNET_HEADER_LENGTH, this.host.mac, this.host.address, n.ip);
    this.host.trace('request', n.ip, null);
    this.host.count('arp-request');
    this.host.output(frame);
    (n.timer as Timer).start(this.config.retransmitMs);
  }

  private retry(n: Neighbour): void {
    if (n.requestsSent < this.config.requests) {
      this.request(n);
      return;
    }
    // No answer: forget the address and tell the senders of what was waiting.
    this.table.delete(n.ip);
    this.host.count('arp-failed');
    this.host.trace('failed', n.ip, null);
    if (n.queue.length > 0) {
      this.host.unreachable(n.ip, n.queue.map((p) => p.frame.subarray(p.ipOffset, p.ipOffset + p.ipLength)));
    }
  }
}

/** The Ethernet frame around an IP packet that has room for the header before it. */
function frameFor(frame: Uint8Array, ipOffset: number, ipLength: number, dst: Uint8Array, src: Uint8Array): Uint8Array {
  let start = ipOffset - ETHERNET_HEADER_LENGTH;
  let out = frame;
  if (start < 0) {
    out = new Uint8Array(ETHERNET_HEADER_LENGTH + ipLength);
    out.set(frame.subarray(ipOffset, ipOffset + ipLength), ETHERNET_HEADER_LENGTH);
    start = 0;
  }
  writeEthernetHeader(out, start, dst, src, 0x0800);
  return out.subarray(start, start + ETHERNET_HEADER_LENGTH + ipLength);
}
