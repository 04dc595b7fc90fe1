// A Stack: one host's IPv4 + ICMP + TCP over any number of devices, driven by
// an injected clock and random source. It assembles the layers, moves frames
// between devices and the IP layer in batches, and counts every drop.

import type { Clock } from './time/clock';
import type { Device } from './device';
import type { RandomSource } from './random';
import { makeConfig, type StackConfig, type StackConfigInput } from './config';
import { Tracer } from './trace';
import { FrameAllocator } from './buffers';
import { Interface } from './ip/interface';
import { Ipv4Layer } from './ip/ipv4';
import { Ipv4Network } from './ip/ipv4-network';
import { TcpLayer } from './tcp/layer';
import { parseCidr, parseIpv4Address, prefixMask, IPPROTO_TCP } from './wire/ipv4';
import { ETHERNET_HEADER_LENGTH } from './wire/ethernet';
import { EthernetLink } from './link/ethernet';
import { defaultArpConfig, type ArpConfig } from './link/arp';

export interface StackOptions {
  /** Shown in traces; defaults to "stack". */
  name?: string;
  clock: Clock;
  /** Required (stack/ cannot import node:crypto): a SeededRandom for simulations, net-api's CryptoRandom for real use. */
  random: RandomSource;
  config?: StackConfigInput;
}

export interface InterfaceOptions {
  /** "10.0.0.1/24" */
  address: string;
  name?: string;
  /** Defaults to the device's MTU. */
  mtu?: number;
  /** ARP tunables for Ethernet devices. */
  arp?: Partial<ArpConfig>;
}

/** Room kept before the IP header of every outgoing frame: the largest link header, Ethernet's. */
const HEADROOM = ETHERNET_HEADER_LENGTH;

export class Stack {
  readonly name: string;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly config: StackConfig;
  readonly tracer = new Tracer();
  /** Counters by reason: every drop and a few notable events. */
  readonly counters = new Map<string, number>();
  readonly frames = new FrameAllocator();
  readonly headroom = HEADROOM;
  readonly ip: Ipv4Layer;
  readonly tcp: TcpLayer;
  private readonly soonTimer;
  private inBatch = 0;
  private closed = false;

  constructor(opts: StackOptions) {
    this.name = opts.name ?? 'stack';
    this.clock = opts.clock;
    this.random = opts.random;
    this.config = makeConfig(opts.config);
    const self = this;
    this.ip = new Ipv4Layer({
      name: this.name, clock: this.clock, tracer: this.tracer, frames: this.frames, headroom: HEADROOM,
      count: (r) => this.count(r),
      queued: () => this.scheduleAfterWork(),
    }, this.config.ip);
    const ipv4 = new Ipv4Network(this.ip);
    this.tcp = new TcpLayer({
      name: this.name, clock: this.clock, random: this.random, tracer: this.tracer, headroom: HEADROOM,
      count: (r) => this.count(r),
      network: (family) => (family === 4 ? ipv4 : null),
      allocFrame: (n) => self.frames.alloc(n),
      soon: () => self.scheduleAfterWork(),
    }, this.config.tcp);
    this.ip.registerProtocol(IPPROTO_TCP, (p, off, len, src, dst, verify) => this.tcp.input(p, off, len, src, dst, verify),
      (report) => this.tcp.icmpError(report));
    this.ip.afterSelfDelivery = () => this.afterWork();
    this.soonTimer = this.clock.createTimer(() => this.afterWork());
    this.clock.addFlushHook(() => this.flush());
  }

  /** Attach a device with an address; adds the connected route. */
  addInterface(device: Device, opts: InterfaceOptions): Interface {
    const { address, prefixLength } = parseCidr(opts.address);
    const name = opts.name ?? device.name;
    if (this.ip.interfaces.some((i) => i.name === name)) throw new Error(`interface ${name} exists`);
    const iface = new Interface(name, device, address, prefixLength, opts.mtu ?? device.mtu);
    if (device.linkType === 'ethernet') {
      const mac = device.mac;
      if (mac === null) throw new Error(`ethernet device ${device.name} has no MAC address`);
      iface.ethernet = new EthernetLink({
        name: this.name, clock: this.clock, tracer: this.tracer,
        count: (r) => this.count(r),
        allocFrame: (n) => this.frames.alloc(n),
        output: (frame) => { iface.out.push(frame); this.scheduleAfterWork(); },
        ipInput: (packet) => this.ip.input(iface, packet),
        unreachable: (packets) => this.ip.unreachable(packets),
      }, name, mac, address, { ...defaultArpConfig, ...opts.arp });
    }
    this.ip.addInterface(iface);
    device.attach((frames) => this.receive(iface, frames));
    iface.ethernet?.up();
    return iface;
  }

  /** Add a route: `addRoute('0.0.0.0/0', '10.0.0.254')` or `addRoute('10.1.0.0/16', null, 'eth0')`. */
  addRoute(cidr: string, gateway: string | null, ifaceName?: string): void {
    const { address, prefixLength } = parseCidr(cidr);
    const gw = gateway === null ? 0 : parseIpv4Address(gateway);
    let iface: Interface | undefined;
    if (ifaceName !== undefined) iface = this.ip.interfaces.find((i) => i.name === ifaceName);
    else if (gw !== 0) iface = this.ip.interfaces.find((i) => i.contains(gw));
    if (iface === undefined) throw new Error(`no interface for route ${cidr}`);
    this.ip.routes.add({ prefix: (address & prefixMask(prefixLength)) >>> 0, prefixLength, gateway: gw, iface });
  }

  /** How many times `reason` was counted. */
  count(reason: string): void {
    this.counters.set(reason, (this.counters.get(reason) ?? 0) + 1);
  }

  counter(reason: string): number {
    return this.counters.get(reason) ?? 0;
  }

  /** Hand every queued frame to its device, one batch per interface. */
  flush(): void {
    for (const iface of this.ip.interfaces) {
      if (iface.out.length === 0) continue;
      if (this.closed || !iface.up) {
        iface.out.length = 0;
        continue;
      }
      iface.device.send(iface.out);
      iface.out.length = 0;
    }
  }

  /** Stop: close every device. Connections are abandoned without a word (as a crash). */
  close(): void {
    this.closed = true;
    for (const iface of this.ip.interfaces) iface.device.close();
  }

  /** A batch from a device: bare IP packets, or Ethernet frames for the interface's link to take apart. */
  private receive(iface: Interface, frames: readonly Uint8Array[]): void {
    if (this.closed || !iface.up) return;
    const eth = iface.ethernet;
    this.inBatch++;
    try {
      for (let i = 0; i < frames.length; i++) {
        if (eth === null) this.ip.input(iface, frames[i]);
        else eth.input(frames[i]);
      }
    } finally {
      this.inBatch--;
    }
    this.afterWork();
  }

  private afterWork(): void {
    this.inBatch++;
    try {
      this.tcp.dispatch();
      this.tcp.flushAcks();
    } finally {
      this.inBatch--;
    }
    this.flush();
  }

  /**
   * Work was queued (output, notifications, owed ACKs): inside a batch the
   * batch's end does it; outside one (a user call, a timer), a zero timer.
   */
  private scheduleAfterWork(): void {
    if (this.inBatch === 0 && !this.soonTimer.armed) this.soonTimer.start(0);
  }
}
