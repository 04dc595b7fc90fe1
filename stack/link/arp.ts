// The neighbour cache of one Ethernet interface: ARP (RFC 826) resolution
// with request retries, packets held while an address resolves, entries that
// age out, and gratuitous ARP when the interface comes up. It decides what to
// send and when; the Ethernet link (./ethernet.ts) puts it in frames.

import type { Clock, Timer } from '../time/clock';
import { ARP_REPLY, ARP_REQUEST, ArpPacket, parseArp } from '../wire/arp';
import { copyBytes } from '../buffers';

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

/** An IPv4 packet at frame[ipOffset, +ipLength), waiting for its next hop's MAC. */
interface HeldPacket {
  frame: Uint8Array;
  ipOffset: number;
  ipLength: number;
}

interface Neighbour {
  ip: number;
  mac: Uint8Array | null;
  /** When the mapping stops being trusted (re-resolved on next use). */
  expiresAt: number;
  requestsSent: number;
  queue: HeldPacket[];
  timer: Timer | null;
}

/** What the cache needs from its Ethernet link. */
export interface ArpHost {
  readonly clock: Clock;
  /** Our IPv4 address and MAC on this link. */
  readonly address: number;
  readonly mac: Uint8Array;
  count(reason: string): void;
  trace(what: string, ip: number, mac: Uint8Array | null): void;
  /** Frame and queue an IPv4 packet for the neighbour at `mac`. */
  sendIp(frame: Uint8Array, ipOffset: number, ipLength: number, mac: Uint8Array): void;
  /** Broadcast "who has targetIp? tell us" (targetIp = our own address: a gratuitous ARP). */
  sendRequest(targetIp: number): void;
  /** Tell the requester (targetMac, targetIp) that our address is at our MAC. */
  sendReply(targetMac: Uint8Array, targetIp: number): void;
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
   * Send the IPv4 packet at frame[ipOffset, +ipLength) to the neighbour `ip`:
   * at once if its MAC is known, else once it resolves.
   */
  send(ip: number, frame: Uint8Array, ipOffset: number, ipLength: number): void {
    const mac = this.lookup(ip);
    if (mac !== null) {
      this.host.sendIp(frame, ipOffset, ipLength, mac);
      return;
    }
    const n = this.entry(ip);
    if (n.queue.length >= this.config.queueLimit) {
      this.host.count('arp-queue-overflow');
      return;
    }
    n.queue.push({ frame, ipOffset, ipLength });
    if (n.timer === null || !n.timer.armed) this.startResolving(n);
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
      this.host.trace('reply', p.senderIp, p.senderMac);
      this.host.sendReply(p.senderMac, p.senderIp);
    } else if (p.op === ARP_REPLY) {
      this.host.count('arp-reply');
    }
  }

  /** Gratuitous ARP (RFC 5227 3): announce our address when the interface comes up. */
  announce(): void {
    this.host.trace('gratuitous', this.host.address, this.host.mac);
    this.host.sendRequest(this.host.address);
  }

  /** The entries, for inspection. */
  entries(): Array<{ ip: number; mac: Uint8Array | null; expiresAt: number; queued: number }> {
    return [...this.table.values()].map((n) => ({ ip: n.ip, mac: n.mac, expiresAt: n.expiresAt, queued: n.queue.length }));
  }

  /** The entry for `ip`, created unresolved if there is none. */
  private entry(ip: number): Neighbour {
    let n = this.table.get(ip);
    if (n === undefined) {
      n = { ip, mac: null, expiresAt: 0, requestsSent: 0, queue: [], timer: null };
      this.table.set(ip, n);
    }
    return n;
  }

  private learn(ip: number, mac: Uint8Array): void {
    const n = this.entry(ip);
    const learned = copyBytes(mac); // `mac` lives in the parser's scratch packet, overwritten by the next ARP frame
    n.mac = learned;
    n.expiresAt = this.host.clock.now() + this.config.reachableMs;
    n.requestsSent = 0;
    n.timer?.stop();
    this.host.trace('learned', ip, learned);
    const q = n.queue;
    n.queue = [];
    for (const p of q) this.host.sendIp(p.frame, p.ipOffset, p.ipLength, learned);
  }

  private startResolving(n: Neighbour): void {
    n.requestsSent = 0;
    let timer = n.timer;
    if (timer === null) {
      const retransmit: Timer = this.host.clock.createTimer(() => this.retry(n, retransmit));
      n.timer = timer = retransmit;
    }
    this.request(n, timer);
  }

  private request(n: Neighbour, timer: Timer): void {
    n.requestsSent++;
    this.host.trace('request', n.ip, null);
    this.host.count('arp-request');
    this.host.sendRequest(n.ip);
    timer.start(this.config.retransmitMs);
  }

  private retry(n: Neighbour, timer: Timer): void {
    if (n.requestsSent < this.config.requests) {
      this.request(n, timer);
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
