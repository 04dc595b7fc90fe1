// IPv4 input and output (RFC 791, RFC 1122 3.3): validation, local delivery,
// reassembly, ICMP echo and errors, routing, TTL and fragmentation.

import type { Clock } from '../time/clock';
import type { IpConfig } from '../config';
import type { Tracer } from '../trace';
import { copyBytes, type FrameAllocator } from '../buffers';
import {
  IPPROTO_ICMP, IPPROTO_TCP, IPV4_HEADER_LENGTH, IPV4_MAX_LENGTH, Ipv4Header, formatIpv4, parseIpv4, writeIpv4Header,
} from '../wire/ipv4';
import {
  ICMP_DEST_UNREACHABLE, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, ICMP_HEADER_LENGTH, ICMP_HOST_UNREACHABLE, ICMP_PROTOCOL_UNREACHABLE,
  ICMP_FRAG_NEEDED, ICMP_PARAMETER_PROBLEM, ICMP_TIME_EXCEEDED, IcmpMessage, icmpErrorLength, parseIcmp, writeIcmpEchoReply, writeIcmpEchoRequest, writeIcmpError,
} from '../wire/icmp';
import { readU32 } from '../wire/bytes';
import { Interface } from './interface';
import { IpAddress } from './address';
import type { IcmpErrorReport, SendError } from './network';
import { RouteTable } from './routes';
import { Reassembler } from './reassembly';
import { fragmentIpv4 } from './fragment';

export interface EchoReply {
  src: number;
  id: number;
  sequence: number;
  /** The echoed data: a copy, the receiver's to keep. */
  data: Uint8Array;
  ttl: number;
}

/**
 * A transport protocol's input: the packet and where its payload lies. `src`
 * and `dst` are rewritten for every packet: copy them to keep them.
 */
export type TransportInput = (packet: Uint8Array, offset: number, length: number, src: IpAddress, dst: IpAddress, verifyChecksum: boolean) => void;

/** An ICMP error about a packet we sent, for the transport that sent it. */
export type IcmpErrorInput = (report: IcmpErrorReport) => void;

export interface Ipv4Host {
  readonly name: string;
  readonly clock: Clock;
  readonly tracer: Tracer;
  readonly frames: FrameAllocator;
  readonly headroom: number;
  count(reason: string): void;
  /** Output was queued on an interface; arrange a flush. */
  queued(): void;
}

export type { SendError };

export class Ipv4Layer {
  readonly interfaces: Interface[] = [];
  readonly routes = new RouteTable<Interface>();
  private readonly header = new Ipv4Header();
  private readonly icmp = new IcmpMessage();
  private readonly protocols = new Map<number, TransportInput>();
  private readonly icmpErrorHandlers = new Map<number, IcmpErrorInput>();
  /** The addresses of the packet being delivered to a transport (rewritten per packet). */
  private readonly inSrc = IpAddress.v4(0);
  private readonly inDst = IpAddress.v4(0);
  private readonly reassembler: Reassembler;
  private nextId = 1;
  packetsIn = 0;
  packetsOut = 0;
  /** Packets addressed to ourselves, delivered on the next turn (as through a loopback). */
  private selfQueue: Uint8Array[] = [];
  private selfTimer;
  private reassemblyTimer;

  constructor(private readonly host: Ipv4Host, private readonly config: IpConfig) {
    this.reassembler = new Reassembler({
      now: () => host.clock.now(), timeoutMs: config.fragmentTimeoutMs, maxBytes: config.fragmentMemoryBytes,
    });
    this.selfTimer = host.clock.createTimer(() => this.deliverSelf());
    this.reassemblyTimer = host.clock.createTimer(() => {
      const n = this.reassembler.expire();
      for (let i = 0; i < n; i++) this.drop('ipv4-reassembly-timeout');
      this.armReassemblyTimer();
    });
  }

  registerProtocol(protocol: number, input: TransportInput, onIcmpError?: IcmpErrorInput): void {
    this.protocols.set(protocol, input);
    if (onIcmpError !== undefined) this.icmpErrorHandlers.set(protocol, onIcmpError);
  }

  addInterface(iface: Interface): void {
    this.interfaces.push(iface);
    // The connected route (on-link).
    this.routes.add({ prefix: (iface.address & iface.netmask) >>> 0, prefixLength: iface.prefixLength, gateway: 0, iface });
  }

  isLocalAddress(addr: number): boolean {
    for (const i of this.interfaces) {
      if (i.address === addr) return true;
      if (i.isLoopback && (addr >>> 24) === 127) return true;
    }
    return false;
  }

  /** The interface owning `addr`, for packets we send to ourselves. */
  private localInterface(addr: number): Interface | null {
    for (const i of this.interfaces) if (i.address === addr || (i.isLoopback && (addr >>> 24) === 127)) return i;
    return null;
  }

  /** Whether packets to `dst` leave through a device that needs no checksums (a loopback). */
  checksumOffloadTo(dst: number): boolean {
    if (this.localInterface(dst) !== null) {
      const lo = this.interfaces.find((i) => i.isLoopback && i.up);
      return lo !== undefined && lo.checksumOffload;
    }
    const r = this.routes.lookup(dst);
    return r !== null && r.iface.checksumOffload;
  }

  /** Source address and MTU toward `dst`, or null without a route. */
  routeTo(dst: number): { src: number; mtu: number } | null {
    const local = this.localInterface(dst);
    if (local !== null) return { src: local.isLoopback ? dst : local.address, mtu: local.mtu };
    const r = this.routes.lookup(dst);
    if (r === null || !r.iface.up) return null;
    return { src: r.iface.address, mtu: r.iface.mtu };
  }

  // ---------------------------------------------------------------- input

  /** One frame from an 'ip' device, or an Ethernet payload. */
  input(iface: Interface, packet: Uint8Array): void {
    const h = this.header;
    const reason = parseIpv4(packet, h, true);
    if (reason !== null) {
      this.drop(reason);
      return;
    }
    this.packetsIn++;
    const dst = h.dst;
    const local = dst === iface.address || this.isLocalAddress(dst);
    const broadcast = dst === 0xffffffff || (iface.prefixLength < 31 && dst === iface.broadcast);
    if (!local && !broadcast) {
      this.drop('ipv4-not-for-us'); // we are a host, not a router (RFC 1122 3.3.1)
      return;
    }
    if (h.moreFragments || h.fragmentOffset > 0) {
      const r = this.reassembler.input(h, packet);
      if (typeof r === 'string') {
        this.drop(r);
        return;
      }
      this.armReassemblyTimer();
      if (r === null) return;
      packet = r;
      const again = parseIpv4(packet, h, true);
      if (again !== null) {
        this.drop(again);
        return;
      }
    }
    const src = h.src;
    const protocol = h.protocol;
    const transport = this.protocols.get(protocol);
    if (transport !== undefined) {
      transport(packet, h.payloadOffset, h.payloadLength, this.inSrc.setV4(src), this.inDst.setV4(h.dst), !iface.checksumOffload);
      return;
    }
    if (protocol === IPPROTO_ICMP) {
      this.icmpInput(packet, h.payloadOffset, h.payloadLength, src, h.dst, broadcast);
      return;
    }
    this.drop('ipv4-unknown-protocol');
    // RFC 1122 3.2.2.1: protocol unreachable, never for broadcasts.
    if (!broadcast) this.sendIcmpError(ICMP_DEST_UNREACHABLE, ICMP_PROTOCOL_UNREACHABLE, packet, src, h.dst);
  }

  private icmpInput(packet: Uint8Array, offset: number, length: number, src: number, dst: number, broadcast: boolean): void {
    const m = this.icmp;
    const reason = parseIcmp(packet, offset, length, m);
    if (reason !== null) {
      this.drop(reason);
      return;
    }
    this.traceIcmp('in', m.type, m.code, src, dst);
    if (m.type === ICMP_ECHO_REQUEST) {
      if (!this.config.answerPing || broadcast) return;
      const icmpLen = length;
      const frame = this.host.frames.alloc(this.host.headroom + IPV4_HEADER_LENGTH + icmpLen);
      writeIcmpEchoReply(frame, this.host.headroom + IPV4_HEADER_LENGTH, packet, offset, length);
      this.traceIcmp('out', ICMP_ECHO_REPLY, 0, dst, src);
      this.send(frame, IPV4_HEADER_LENGTH + icmpLen, IPPROTO_ICMP, dst, src, false);
      return;
    }
    if (m.type === ICMP_DEST_UNREACHABLE || m.type === ICMP_TIME_EXCEEDED) {
      // The embedded original datagram tells which transport sent it (RFC 1122 3.2.2).
      this.icmpErrorFor(m.type, m.code, m.mtu, packet.subarray(m.originalOffset, offset + length));
      return;
    }
    if (m.type === ICMP_ECHO_REPLY) {
      this.host.count('icmp-echo-reply');
      // data is a copy: the listener may keep it, and a view would keep the frame's whole slab alive.
      this.onEchoReply?.({ src, id: m.id, sequence: m.sequence, data: copyBytes(packet, m.dataOffset, m.dataOffset + m.dataLength), ttl: this.header.ttl });
    }
  }

  /** Called for every echo reply that arrives (the stack's ping). */
  onEchoReply: ((reply: EchoReply) => void) | null = null;

  /** Send an ICMP echo request (RFC 792); larger than the MTU, it goes out in fragments. */
  ping(dst: number, id: number, sequence: number, data: Uint8Array): boolean {
    const route = this.routeTo(dst);
    if (route === null) {
      this.drop('ipv4-no-route');
      return false;
    }
    const hr = this.host.headroom;
    const icmpLen = ICMP_HEADER_LENGTH + data.length;
    if (IPV4_HEADER_LENGTH + icmpLen > IPV4_MAX_LENGTH) throw new RangeError('echo request larger than an IPv4 datagram');
    const frame = this.host.frames.alloc(hr + IPV4_HEADER_LENGTH + icmpLen);
    writeIcmpEchoRequest(frame, hr + IPV4_HEADER_LENGTH, id, sequence, data);
    this.traceIcmp('out', ICMP_ECHO_REQUEST, 0, route.src, dst);
    this.send(frame, IPV4_HEADER_LENGTH + icmpLen, IPPROTO_ICMP, route.src, dst, false);
    return true;
  }

  // ---------------------------------------------------------------- output

  /**
   * Send a packet whose transport part is already at headroom+20 in `frame`:
   * route it, write the IPv4 header, fragment if needed, queue it. A packet
   * that cannot leave is counted and reported to the caller, never lost silently.
   */
  send(frame: Uint8Array, ipLength: number, protocol: number, src: number, dst: number, dontFragment = protocol === IPPROTO_TCP): SendError {
    const hr = this.host.headroom;
    writeIpv4Header(frame, hr, ipLength, this.nextId, dontFragment, this.config.defaultTtl, protocol, src, dst);
    this.nextId = (this.nextId + 1) & 0xffff;
    this.packetsOut++;
    const packet = frame.subarray(hr, hr + ipLength);
    const local = this.localInterface(dst);
    if (local !== null) {
      // To ourselves: through the loopback interface when there is one (so captures see it), as Linux routes via lo.
      const lo = this.interfaces.find((i) => i.isLoopback && i.up);
      if (lo !== undefined) {
        if (ipLength > lo.mtu && dontFragment) return this.tooBig();
        lo.out.push(packet);
        this.host.queued();
        return null;
      }
      this.selfQueue.push(packet);
      if (!this.selfTimer.armed) this.selfTimer.start(0);
      return null;
    }
    const r = this.routes.lookup(dst);
    if (r === null || !r.iface.up) {
      this.drop('ipv4-no-route');
      return 'EHOSTUNREACH';
    }
    const iface = r.iface;
    const eth = iface.ethernet;
    // Ethernet: the link resolves the next hop's MAC (the gateway's, off-link).
    const nextHop = r.gateway !== 0 ? r.gateway : dst;
    const broadcast = dst === 0xffffffff || (iface.prefixLength < 31 && dst === iface.broadcast);
    if (ipLength > iface.mtu) {
      if (dontFragment) return this.tooBig();
      const pieces = fragmentIpv4(packet, iface.mtu);
      if (typeof pieces === 'string') {
        this.drop(pieces);
        return 'EMSGSIZE';
      }
      for (const p of pieces) {
        if (eth === null) iface.out.push(p);
        else if (broadcast) eth.broadcastIp(p, 0, p.length);
        else eth.sendIp(nextHop, p, 0, p.length);
      }
    } else if (eth === null) {
      iface.out.push(packet);
    } else if (broadcast) {
      eth.broadcastIp(frame, hr, ipLength);
    } else {
      eth.sendIp(nextHop, frame, hr, ipLength);
    }
    this.host.queued();
    return null;
  }

  /** Our own packet is larger than the interface's MTU and may not be fragmented (Linux ip_fragment: EMSGSIZE). */
  private tooBig(): SendError {
    this.drop('ipv4-needs-fragmentation-df');
    return 'EMSGSIZE';
  }

  /**
   * Packets that could not leave (the next hop never answered ARP): tell the
   * transport that sent each, as Linux does with a local ICMP host unreachable.
   */
  unreachable(packets: Uint8Array[]): void {
    for (const p of packets) {
      if (p.length < IPV4_HEADER_LENGTH) continue;
      this.drop('ipv4-host-unreachable');
      this.icmpErrorFor(ICMP_DEST_UNREACHABLE, ICMP_HOST_UNREACHABLE, 0, p);
    }
    this.afterSelfDelivery?.();
  }

  /**
   * An ICMP error quoting `original`, one of our datagrams: parse the quoted
   * header (RFC 792: it and at least 8 bytes of the transport header) and tell
   * the transport that sent it (RFC 1122 3.2.2).
   */
  private icmpErrorFor(type: number, code: number, mtu: number, original: Uint8Array): void {
    if (original.length < IPV4_HEADER_LENGTH || original[0] >>> 4 !== 4) return;
    // The quote may be cut short of the datagram's total length: only the header and 8 bytes are promised.
    const ihl = (original[0] & 0x0f) * 4;
    if (ihl < IPV4_HEADER_LENGTH || original.length < ihl + 8) return;
    const handler = this.icmpErrorHandlers.get(original[9]);
    if (handler === undefined) return;
    const kind = type === ICMP_DEST_UNREACHABLE ? (code === ICMP_FRAG_NEEDED ? 'fragmentation-needed' : 'unreachable')
      : type === ICMP_TIME_EXCEEDED ? 'time-exceeded' : type === ICMP_PARAMETER_PROBLEM ? 'parameter-problem' : 'other';
    handler({
      kind, type, code, mtu: kind === 'fragmentation-needed' ? mtu : 0,
      src: IpAddress.v4(readU32(original, 12)), dst: IpAddress.v4(readU32(original, 16)),
      transport: original.subarray(ihl),
    });
  }

  private deliverSelf(): void {
    const q = this.selfQueue;
    this.selfQueue = [];
    for (const p of q) {
      const h = this.header;
      if (parseIpv4(p, h, false) !== null) continue;
      const iface = this.localInterface(h.dst);
      if (iface !== null) this.input(iface, p);
    }
    this.afterSelfDelivery?.();
  }

  /** Set by the stack: dispatch and flush after a local delivery batch. */
  afterSelfDelivery: (() => void) | null = null;

  /** ICMP error about `original` back to its sender (RFC 1122 3.2.2, RFC 1812 4.3.2.3). */
  sendIcmpError(type: number, code: number, original: Uint8Array, to: number, from: number): void {
    const hr = this.host.headroom;
    const frame = this.host.frames.alloc(hr + IPV4_HEADER_LENGTH + icmpErrorLength(original.length));
    const icmpLen = writeIcmpError(frame, hr + IPV4_HEADER_LENGTH, type, code, original, 0, original.length);
    this.traceIcmp('out', type, code, from, to);
    this.send(frame.subarray(0, hr + IPV4_HEADER_LENGTH + icmpLen), IPV4_HEADER_LENGTH + icmpLen, IPPROTO_ICMP, from, to, false);
  }

  private armReassemblyTimer(): void {
    const next = this.reassembler.nextExpiry();
    if (next === Infinity) this.reassemblyTimer.stop();
    else this.reassemblyTimer.startAt(next);
  }

  private drop(reason: string): void {
    this.host.count(reason);
    const tr = this.host.tracer;
    if (tr.enabled) tr.emit({ type: 'drop', t: this.host.clock.now(), stack: this.host.name, layer: reason.startsWith('icmp') ? 'icmp' : 'ip', reason });
  }

  private traceIcmp(dir: 'in' | 'out', icmpType: number, code: number, src: number, dst: number): void {
    const tr = this.host.tracer;
    if (tr.enabled) tr.emit({ type: 'icmp', t: this.host.clock.now(), stack: this.host.name, dir, icmpType, code, src: formatIpv4(src), dst: formatIpv4(dst) });
  }
}
