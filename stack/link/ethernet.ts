// The Ethernet side of one interface: frames in (parse, the MAC filter,
// dispatch by EtherType, a counter for every drop) and frames out (IPv4
// packets and ARP packets in Ethernet II frames, RFC 894 and RFC 826), with
// the interface's neighbour cache (./arp.ts) between IP and the wire.

import type { Clock } from '../time/clock';
import type { Tracer } from '../trace';
import { ArpCache, type ArpConfig } from './arp';
import { ARP_LENGTH, writeArpReply, writeArpRequest } from '../wire/arp';
import {
  BROADCAST_MAC, ETHERNET_HEADER_LENGTH, ETHERTYPE_ARP, ETHERTYPE_IPV4, EthernetHeader,
  formatMac, isMulticastMac, macEquals, parseEthernet, writeEthernetHeader,
} from '../wire/ethernet';
import { formatIpv4 } from '../wire/ipv4';

/** What an Ethernet link needs from the stack around it. */
export interface EthernetHost {
  /** The stack's name, for traces. */
  readonly name: string;
  readonly clock: Clock;
  readonly tracer: Tracer;
  count(reason: string): void;
  allocFrame(length: number): Uint8Array;
  /** Queue a frame on the interface's device. */
  output(frame: Uint8Array): void;
  /** An IPv4 packet arrived (the frame's payload, padding included). */
  ipInput(packet: Uint8Array): void;
  /** Resolution failed: these IPv4 packets could not be sent (the IP layer tells their senders). */
  unreachable(packets: Uint8Array[]): void;
}

export class EthernetLink {
  /** The neighbour cache: next-hop IPv4 address -> MAC. */
  readonly arp: ArpCache;
  private readonly header = new EthernetHeader();

  constructor(
    private readonly host: EthernetHost,
    /** The interface's name, for traces. */
    readonly name: string,
    /** Our hardware address: the source of every frame, the destination we accept. */
    readonly mac: Uint8Array,
    /** Our IPv4 address on the link, the one ARP answers for. */
    readonly address: number,
    arpConfig: ArpConfig,
  ) {
    this.arp = new ArpCache({
      clock: host.clock, address, mac,
      count: (reason) => host.count(reason),
      trace: (what, ip, m) => this.traceArp(what, ip, m),
      sendIp: (frame, ipOffset, ipLength, dst) => host.output(ipFrame(frame, ipOffset, ipLength, dst, mac)),
      sendRequest: (targetIp) => {
        const frame = this.arpFrame(BROADCAST_MAC);
        writeArpRequest(frame, ETHERNET_HEADER_LENGTH, mac, address, targetIp);
        host.output(frame);
      },
      sendReply: (targetMac, targetIp) => {
        const frame = this.arpFrame(targetMac);
        writeArpReply(frame, ETHERNET_HEADER_LENGTH, mac, address, targetMac, targetIp);
        host.output(frame);
      },
      unreachable: (_ip, packets) => host.unreachable(packets),
    }, arpConfig);
  }

  /** The interface came up: announce our address (gratuitous ARP, RFC 5227 3). */
  up(): void {
    this.arp.announce();
  }

  /** One received frame: to IPv4 or ARP by its EtherType, or counted and dropped. */
  input(frame: Uint8Array): void {
    const eth = this.header;
    const reason = parseEthernet(frame, eth);
    if (reason !== null) {
      this.host.count(reason);
      return;
    }
    // As a NIC outside promiscuous mode: our own address and group addresses (broadcast is one).
    if (!macEquals(eth.dst, this.mac) && !isMulticastMac(eth.dst)) {
      this.host.count('ethernet-not-for-us');
      return;
    }
    if (eth.etherType === ETHERTYPE_IPV4) this.host.ipInput(frame.subarray(eth.payloadOffset, eth.payloadOffset + eth.payloadLength));
    else if (eth.etherType === ETHERTYPE_ARP) this.arp.input(frame, eth.payloadOffset, eth.payloadLength);
    else this.host.count('ethernet-unknown-type');
  }

  /**
   * Send the IPv4 packet at frame[ipOffset, +ipLength) to the neighbour
   * `nextHop`, resolving its MAC first when needed. Room for the Ethernet
   * header before ipOffset saves a copy.
   */
  sendIp(nextHop: number, frame: Uint8Array, ipOffset: number, ipLength: number): void {
    this.arp.send(nextHop, frame, ipOffset, ipLength);
  }

  /** Send an IPv4 broadcast to the Ethernet broadcast address (RFC 894; no resolution). */
  broadcastIp(frame: Uint8Array, ipOffset: number, ipLength: number): void {
    this.host.output(ipFrame(frame, ipOffset, ipLength, BROADCAST_MAC, this.mac));
  }

  /** A frame for one ARP packet, its Ethernet header written; the packet goes at ETHERNET_HEADER_LENGTH. */
  private arpFrame(dst: Uint8Array): Uint8Array {
    const frame = this.host.allocFrame(ETHERNET_HEADER_LENGTH + ARP_LENGTH);
    writeEthernetHeader(frame, 0, dst, this.mac, ETHERTYPE_ARP);
    return frame;
  }

  private traceArp(what: string, ip: number, mac: Uint8Array | null): void {
    const tr = this.host.tracer;
    if (tr.enabled) {
      tr.emit({ type: 'arp', t: this.host.clock.now(), stack: this.host.name, iface: this.name, what, ip: formatIpv4(ip), mac: mac === null ? null : formatMac(mac) });
    }
  }
}

/**
 * The Ethernet II frame around the IPv4 packet at frame[ipOffset, +ipLength)
 * (RFC 894): written in place into the room before the packet, or into a copy
 * when there is none (a fragment built without headroom).
 */
function ipFrame(frame: Uint8Array, ipOffset: number, ipLength: number, dst: Uint8Array, src: Uint8Array): Uint8Array {
  let start = ipOffset - ETHERNET_HEADER_LENGTH;
  let out = frame;
  if (start < 0) {
    out = new Uint8Array(ETHERNET_HEADER_LENGTH + ipLength);
    out.set(frame.subarray(ipOffset, ipOffset + ipLength), ETHERNET_HEADER_LENGTH);
    start = 0;
  }
  writeEthernetHeader(out, start, dst, src, ETHERTYPE_IPV4);
  return out.subarray(start, start + ETHERNET_HEADER_LENGTH + ipLength);
}
