// Packets fuzzed into a live stack. Two hosts in the lab keep a few
// connections moving data both ways while forged and mangled packets are
// delivered straight to either host: bit flips (with and without the
// checksums fixed up), truncation, bad IP and TCP lengths, every TCP flag
// combination, TCP options of every kind with malformed lengths, IP options,
// overlapping and out-of-range fragments, ICMP errors quoting live
// connections, and segments built from live connection state (in the window
// and just outside it). The wire parsers alone are fuzzed in
// test/stack/wire/fuzz.test.ts; here the whole stack is.
//
// Connections come in two kinds. Victims (server port 80) get everything,
// including packets that may rightly reset or desynchronise them: they must
// only end, one way or another, without an exception. Bystanders (server port
// 81) get only packets a correct TCP must shrug off (bad checksums, segments
// outside the window, ACKs of unsent data, challenge-ACK cases, ICMP errors,
// duplicates of what their peer really sends): their data must arrive intact.
//
// Asserted: no exception escapes; every injected packet draws at most a few
// segments in reply (no storm); bystanders deliver both streams (SHA-256);
// afterwards nothing is left (no connection, no timer); the heap stays
// roughly flat (with --expose-gc). TCPLAB_FUZZ_PACKETS (default 30,000)
// packets are injected; `make torture` injects millions.

import test from 'ava';
import { A, B, ip, pair, payload, sha256, type Pair } from '../helpers/sim';
import { Dice, Endpoint, InjectorDevice, copyOf, envCount, fixChecksums, recordPair, tortureMode, writeArtifacts, writeOutput } from './torture';
import { fragments, icmpError, icmpPacket, ipv4, tcpPacket, timestampsOption } from './forge';
import type { TcpConnection } from '../../stack/tcp/connection';
import type { Link } from '../../devices/link';
import { seqAdd, seqDiff } from '../../stack/tcp/seq';
import { Ipv4Header, parseIpv4 } from '../../stack/wire/ipv4';
import { readU32 } from '../../stack/wire/bytes';
import { TcpSegment, TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, formatTcpFlags, parseTcp } from '../../stack/wire/tcp';

const PACKETS = envCount('TCPLAB_FUZZ_PACKETS', 30_000);
/** Only these kinds (comma-separated), to look into one. */
const ONLY = process.env.TCPLAB_FUZZ_KINDS?.split(',') ?? null;
const FUZZ_SEED = envCount('TCPLAB_FUZZ_SEED', 1);
/** Injected packets per millisecond of virtual time (a flood: 10,000 a second). */
const PER_MS = 10;
const LIVE_VICTIMS = 3;
const LIVE_BYSTANDERS = 3;
const VICTIM_PORT = 80;
const BYSTANDER_PORT = 81;
/** A bystander that has not finished this long after it started has stalled. */
const BYSTANDER_DEADLINE_MS = 300_000;
/** A victim still open this long after it started is aborted (it may rightly be desynchronised for ever). */
const VICTIM_LIFETIME_MS = 60_000;
/**
 * Most segments a host may send in reply to one injected packet. What holds today:
 * control segments (pure ACK, RST, ICMP) at most 1; in all, with the data a
 * forged ACK or window may release, at most what the congestion window allows.
 */
const MAX_CONTROL_REPLIES = 1;
const MAX_REPLIES = 64;

const SRC_A = ip(A);
const SRC_B = ip(B);
/** An address on the link that belongs to nobody. */
const NOBODY = ip('10.0.0.77');
const BROADCAST = ip('10.0.0.255');

interface KnownFailure {
  name: string;
  /** The kind of packet a correct TCP shrugs off and this stack does not: aimed at victims only in the default run. */
  kind?: Kind;
  /** What goes wrong, as found; remove the entry once the stack is fixed. */
  reason: string;
  /** The smallest case that shows it, in a recorded lab: says whether the stack still gets it wrong, and how. */
  reproduce(r: Repro): { wrong: boolean; what: string };
}

/**
 * Stack bugs this fuzzer finds, not fixed yet (none today). The default run
 * aims the packet kinds they name at victims only; `make torture`
 * (TCPLAB_TORTURE=1) aims them at bystanders too and reports the bystanders
 * they break, apart from new failures. Once fixed, an entry moves to FIXED.
 */
const KNOWN_FAILURES: readonly KnownFailure[] = [];

/** Bugs this fuzzer found and the stack has fixed: each reproduction runs in every run and must stay right. */
const FIXED: readonly KnownFailure[] = [
  {
    name: 'blind-data-with-old-ack',
    kind: 'old-ack-data',
    reason: 'a segment inside the receive window whose ACK is older than SND.UNA - MAX.SND.WND is accepted and its data '
      + 'delivered (processAck only refuses ACKs above SND.MAX); RFC 5961 5.2 requires it be dropped and ACKed, as Linux does '
      + '(tcp_ack: SKB_DROP_REASON_TCP_TOO_OLD_ACK). A blind attacker who guesses a sequence number inside the window injects data',
    reproduce: (r) => {
      const { x } = r.injectOldAckData();
      r.pr.lab.run(50);
      const got = new TextDecoder().decode(r.server.receivedTail(r.evil.length));
      return { wrong: got === new TextDecoder().decode(r.evil), what: `b's reader got "${got}" after a segment at RCV.NXT with ACK ${x.sndUna} - ${x.maxSndWnd} - 1000` };
    },
  },
  {
    name: 'frag-needed-ends-handshake',
    kind: 'icmp-frag-needed',
    reason: 'an ICMP fragmentation-needed (type 3 code 4) quoting the ISN of a connection in SYN-SENT ends the connect with '
      + 'EHOSTUNREACH (layer.icmpError passes every type-3 code to icmpUnreachable); fragmentation needed is about the path MTU '
      + 'and ends no connection on Linux (tcp_v4_err handles it before the hard-error cases)',
    reproduce: (r) => {
      const conn = r.pr.a.tcp.connect({ remoteAddress: SRC_B, remotePort: VICTIM_PORT }, {});
      r.pr.lab.run(1); // the SYN is on its way
      const syn = tcpPacket(SRC_A, SRC_B, { srcPort: conn.localPort, dstPort: VICTIM_PORT, seq: conn.iss, ack: 0, flags: TCP_SYN, window: 65535 }, new Uint8Array(0));
      r.inject('a', icmpPacket(ip('10.0.0.254'), SRC_A, icmpError(3, 4, 1280, syn)));
      r.pr.lab.run(100);
      return { wrong: conn.state === 'CLOSED', what: `after a frag-needed (next-hop MTU 1280) quoting its SYN the connect is ${conn.state}${conn.error === null ? '' : ` with ${conn.error.code}`}` };
    },
  },
  {
    name: 'ack-loop',
    reason: 'once the two ends of a connection disagree on the sequence space (a forged segment they rightly or wrongly took), '
      + 'each answers the other\'s ACK as unacceptable with an ACK at once, for ever: one ACK per link delay each way (about '
      + '1,000 a second on a 1 ms link; tens of thousands when several loops run), no timer to end it. Linux rate-limits the '
      + 'ACKs it sends for unacceptable segments (net.ipv4.tcp_invalid_ratelimit, 500 ms, tcp_oow_rate_limited)',
    reproduce: (r) => {
      // Desynchronise the two ends: b takes 8 bytes a never sent (see blind-data-with-old-ack), then count what crosses the link.
      r.injectOldAckData();
      let frames = 0;
      r.link.onFrame((ev) => { if (ev.stage === 'send') frames++; });
      r.pr.lab.run(1000);
      return { wrong: frames > 200, what: `${frames} frames crossed the link in the second after b took data a never sent` };
    },
  },
];

function knownFailure(name: string): KnownFailure | undefined {
  return KNOWN_FAILURES.find((k) => k.name === name);
}

/** A recorded lab for a known failure's reproduction: one connection a -> b:80 moving a little data, injectors on both ends. */
class Repro {
  readonly pr: Pair;
  readonly injA: InjectorDevice;
  readonly injB: InjectorDevice;
  readonly link: Link;
  readonly client = new TailEndpoint(payload(20_000, 1), 'shutdown-after-end');
  readonly server = new TailEndpoint(payload(20_000, 2), 'shutdown-after-end');
  readonly recording: ReturnType<typeof recordPair>;
  readonly evil = new TextEncoder().encode('INJECTED');

  constructor(seed: number) {
    const ends: InjectorDevice[] = [];
    this.pr = pair({ seed, record: false, link: { delayMs: 1, rateBps: 100e6, wrapA: (e) => (ends[0] = new InjectorDevice(e)), wrapB: (e) => (ends[1] = new InjectorDevice(e)) } });
    [this.injA, this.injB] = ends;
    this.link = [...this.pr.lab.links.values()][0];
    this.recording = recordPair(this.pr);
    this.pr.b.tcp.listen({ port: VICTIM_PORT }, { onConnection: (c) => { c.attach(this.server); this.server.start(c); } });
  }

  /** Connect a to b and let both send their 20 kB, without closing. */
  connect(): { client: TcpConnection; server: TcpConnection } {
    const client = this.pr.a.tcp.connect({ remoteAddress: SRC_B, remotePort: VICTIM_PORT }, this.client);
    this.pr.lab.run(100);
    return { client, server: this.server.conn as TcpConnection };
  }

  /** Connect, then give b eight bytes "from a" at RCV.NXT with an ACK older than SND.UNA - MAX.SND.WND (RFC 5961 5.2). */
  injectOldAckData(): { x: TcpConnection } {
    const { client: y, server: x } = this.connect();
    const frame = tcpPacket(SRC_A, SRC_B, {
      srcPort: x.remotePort, dstPort: x.localPort, seq: x.rcvNxt, ack: seqAdd(x.sndUna, -x.maxSndWnd - 1000), flags: TCP_ACK | TCP_PSH, window: 1000,
      options: x.tsOn ? timestampsOption(y.tsNow(), y.tsRecent) : undefined,
    }, this.evil);
    this.inject('b', frame);
    return { x };
  }

  /** Deliver a forged frame to a host now, and put it in the capture. */
  inject(to: 'a' | 'b', frame: Uint8Array): void {
    this.recording.note(frame, to);
    (to === 'a' ? this.injA : this.injB).inject([frame]);
  }
}

/** An Endpoint that keeps the last bytes it read. */
class TailEndpoint extends Endpoint {
  private tail = new Uint8Array(0);
  override onReadable(c: TcpConnection): void {
    let chunk: Uint8Array | null;
    while ((chunk = c.read()) !== null) {
      const t = new Uint8Array(Math.min(64, this.tail.length + chunk.length));
      const both = new Uint8Array(this.tail.length + chunk.length);
      both.set(this.tail);
      both.set(chunk, this.tail.length);
      t.set(both.subarray(both.length - t.length));
      this.tail = t;
      this.received += chunk.length;
    }
  }
  receivedTail(n: number): Uint8Array {
    return this.tail.subarray(Math.max(0, this.tail.length - n));
  }
}

/**
 * A flow sending more frames than this in one second of virtual time is in an ACK loop: while
 * packets are injected (each may draw a reply), and once injection has stopped (a loop then
 * goes on alone, one ACK per link delay each way).
 */
const LOOP_FRAMES_PER_SECOND = 5000;
const LOOP_FRAMES_PER_SECOND_DRAINING = 200;

const KINDS = [
  'random-bytes', 'bit-flips', 'bit-flips-fixed', 'truncated', 'bad-lengths', 'tcp-flags', 'tcp-options', 'ip-options',
  'fragments', 'icmp-errors', 'icmp-frag-needed', 'live-state', 'benign-data', 'out-of-window', 'ack-of-unsent', 'old-ack-data', 'challenge',
  'other-protocols',
] as const;
type Kind = (typeof KINDS)[number];

/** One client/server pair of connections moving data both ways. */
class Flow {
  readonly client: Endpoint;
  readonly server: Endpoint;
  clientConn: TcpConnection | null = null;
  serverConn: TcpConnection | null = null;
  /** Kinds of packet aimed at it. */
  readonly touched = new Set<Kind>();
  /** Frames its connections sent in the current second of virtual time, and which second. */
  frames = 0;
  second = 0;
  /** It was found in an ACK loop (and aborted). */
  looped = false;

  constructor(readonly id: number, readonly bystander: boolean, readonly started: number, clientBytes: number, serverBytes: number) {
    this.client = new SafeEndpoint(payload(clientBytes, id * 2 + 1), 'shutdown-when-sent');
    this.server = new SafeEndpoint(payload(serverBytes, id * 2 + 2), 'shutdown-when-sent');
  }

  get done(): boolean {
    return this.client.closed && this.server.closed;
  }

  /** The connection on the host `to` and its peer, when both exist and are synchronized. */
  ends(to: 'a' | 'b'): { x: TcpConnection; y: TcpConnection; yData: Uint8Array } | null {
    const x = to === 'a' ? this.clientConn : this.serverConn;
    const y = to === 'a' ? this.serverConn : this.clientConn;
    if (x === null || y === null || !x.isSynchronized || !y.isSynchronized) return null;
    return { x, y, yData: to === 'a' ? this.server.data : this.client.data };
  }
}

/** An Endpoint that stops writing once its connection is gone (a victim may be reset between two notifications). */
class SafeEndpoint extends Endpoint {
  override onWritable(): void {
    if (this.conn !== null && this.conn.state !== 'CLOSED') super.onWritable();
  }
}

interface Forged {
  frames: Uint8Array[];
  to: 'a' | 'b';
  kind: Kind;
  flow: Flow | null;
}

interface KindStats {
  packets: number;
  replies: number;
  maxReplies: number;
  maxControlReplies: number;
  storms: number;
}

interface FuzzResult {
  packets: number;
  exceptions: string[];
  storms: string[];
  /** Flows found in an ACK loop, and the first few described. */
  ackLoops: number;
  loops: string[];
  stats: Map<Kind, KindStats>;
  bystanderFailures: string[];
  knownBystanderFailures: string[];
  bystandersDone: number;
  victimsDone: number;
  victimOutcomes: Map<string, number>;
  leftovers: string[];
  heapBefore: number | null;
  heapAfter: number | null;
  virtualMs: number;
  wallMs: number;
}

const gc = (globalThis as { gc?: () => void }).gc;

/** Memory in use after a full collection: the JS heap and the memory outside it (frames are ArrayBuffers); null without --expose-gc. */
function heapUsed(): number | null {
  if (gc === undefined) return null;
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

/** Is this frame one of a bystander's (its server port is BYSTANDER_PORT either way)? */
function bystanderFrame(f: Uint8Array): boolean {
  if (f.length < 24 || f[9] !== 6) return false;
  const hl = (f[0] & 0x0f) * 4;
  if (f.length < hl + 4) return false;
  const sport = (f[hl] << 8) | f[hl + 1];
  const dport = (f[hl + 2] << 8) | f[hl + 3];
  return sport === BYSTANDER_PORT || dport === BYSTANDER_PORT;
}

const hdr = new Ipv4Header();
const seg = new TcpSegment();

/** Would the host drop this frame on its checksums or lengths? (What a bystander may be sent of mangled copies.) */
function rejected(f: Uint8Array): boolean {
  if (parseIpv4(f, hdr, true) !== null) return true;
  if (hdr.protocol !== 6 || hdr.isFragment) return false;
  return parseTcp(f, hdr.payloadOffset, hdr.payloadLength, hdr.src, hdr.dst, seg, true) !== null;
}

/** Control segments (no sequence space: pure ACKs, RSTs; and ICMP) among frames a host sent; the rest carry data, SYN or FIN. */
function controlSegments(frames: readonly Uint8Array[]): number {
  let control = 0;
  for (const f of frames) {
    if (parseIpv4(f, hdr, false) !== null || hdr.protocol !== 6
      || parseTcp(f, hdr.payloadOffset, hdr.payloadLength, hdr.src, hdr.dst, seg, false) !== null
      || (seg.flags & TCP_RST) !== 0 || (seg.payloadLength === 0 && (seg.flags & (TCP_SYN | TCP_FIN)) === 0)) control++;
  }
  return control;
}

/** Short tcpdump-like lines for frames. */
function describeFrames(frames: readonly Uint8Array[]): string {
  return frames.map((f) => {
    if (parseIpv4(f, hdr, false) !== null) return `${f.length} bytes`;
    if (hdr.protocol !== 6 || parseTcp(f, hdr.payloadOffset, hdr.payloadLength, hdr.src, hdr.dst, seg, false) !== null) return `proto ${hdr.protocol}`;
    return `${seg.srcPort}>${seg.dstPort} [${formatTcpFlags(seg.flags)}] seq ${seg.seq} ack ${seg.ack} len ${seg.payloadLength}`;
  }).join('; ');
}

class Fuzzer {
  readonly pr: Pair;
  readonly injA: InjectorDevice;
  readonly injB: InjectorDevice;
  readonly flows = new Map<number, Flow>();
  /** The last frames either host sent, to mangle. */
  private readonly ring: Array<{ frame: Uint8Array; from: 'a' | 'b' }> = [];
  private ringAt = 0;
  private nextFlow = 1;
  private flagCounter = 0;
  /** Frames the injected host sends while an injection is being handled. */
  private readonly replies: Uint8Array[] = [];
  private measuring = false;
  /** Injection is over; the flows are ending. */
  private draining = false;
  /** Connections that forged segments got accepted, to reset. */
  private strays: TcpConnection[] = [];
  readonly result: FuzzResult;

  constructor(readonly dice: Dice, readonly aimKnownAtBystanders: boolean) {
    let injA: InjectorDevice | null = null;
    let injB: InjectorDevice | null = null;
    this.pr = pair({
      seed: FUZZ_SEED,
      record: false,
      config: { tcp: { mslMs: 1000, synAckRetries: 3 } },
      link: {
        delayMs: 1, rateBps: 100e6,
        wrapA: (end) => (injA = new InjectorDevice(end)),
        wrapB: (end) => (injB = new InjectorDevice(end)),
      },
    });
    this.injA = injA as unknown as InjectorDevice;
    this.injB = injB as unknown as InjectorDevice;
    for (const inj of [this.injA, this.injB]) {
      inj.onSend = (frame) => {
        if (this.measuring) this.replies.push(frame);
        return frame;
      };
    }
    for (const link of this.pr.lab.links.values()) {
      link.onFrame((ev) => {
        if (ev.stage !== 'send' || ev.fate === 'duplicated') return;
        this.countFrame(ev.frame, ev.time);
        const entry = { frame: ev.frame, from: ev.from };
        if (this.ring.length < 256) this.ring.push(entry);
        else this.ring[this.ringAt++ & 255] = entry;
      });
    }
    for (const port of [VICTIM_PORT, BYSTANDER_PORT]) {
      this.pr.b.tcp.listen({ port }, {
        onConnection: (c) => {
          const flow = this.flows.get(c.remotePort);
          if (flow === undefined || flow.serverConn !== null || c.remoteAddr.v4 !== SRC_A || flow.bystander !== (port === BYSTANDER_PORT)) {
            // Completed by forged segments: not one of ours. Reset by tend(), so the RST is not counted as a reply.
            c.attach({});
            this.strays.push(c);
            return;
          }
          flow.serverConn = c;
          c.attach(flow.server);
          flow.server.start(c);
        },
      });
    }
    this.result = {
      packets: 0, exceptions: [], storms: [], ackLoops: 0, loops: [], stats: new Map(KINDS.map((k) => [k, { packets: 0, replies: 0, maxReplies: 0, maxControlReplies: 0, storms: 0 }])),
      bystanderFailures: [], knownBystanderFailures: [], bystandersDone: 0, victimsDone: 0, victimOutcomes: new Map(),
      leftovers: [], heapBefore: null, heapAfter: null, virtualMs: 0, wallMs: 0,
    };
  }

  // ---------------------------------------------------------------- the live connections

  /** Frames per flow per second of virtual time: a flow far above any transfer's rate is looping. */
  private countFrame(frame: Uint8Array, time: number): void {
    const flow = this.flowOfFrame(frame);
    if (flow === null || flow.looped) return;
    const second = Math.floor(time / 1000);
    if (second !== flow.second) {
      flow.second = second;
      flow.frames = 0;
    }
    if (++flow.frames > (this.draining ? LOOP_FRAMES_PER_SECOND_DRAINING : LOOP_FRAMES_PER_SECOND)) {
      flow.looped = true;
      const r = this.result;
      r.ackLoops++;
      if (r.loops.length < 5) {
        r.loops.push(`${flow.bystander ? 'bystander' : 'victim'} ${flow.id} (port ${flow.clientConn?.localPort}) sent ${flow.frames} frames within a second at ${time.toFixed(0)} ms `
          + `(client ${flow.clientConn?.state}, server ${flow.serverConn?.state}): ${describeFrames([frame])}; hit by ${[...flow.touched].join(', ')}`);
      }
    }
  }

  private startFlow(bystander: boolean): void {
    const id = this.nextFlow++;
    const d = this.dice;
    const flow = new Flow(id, bystander, this.pr.lab.now(), d.int(0, 96 * 1024), d.int(0, 96 * 1024));
    const conn = this.pr.a.tcp.connect({ remoteAddress: SRC_B, remotePort: bystander ? BYSTANDER_PORT : VICTIM_PORT }, flow.client);
    flow.clientConn = conn;
    this.flows.set(conn.localPort, flow);
  }

  /** Keep the live flows topped up (unless `spawn` is false); settle the finished and the overdue ones. */
  private tend(spawn: boolean): void {
    const now = this.pr.lab.now();
    for (const c of this.strays) c.abort();
    this.strays = [];
    let victims = 0;
    let bystanders = 0;
    for (const [port, flow] of this.flows) {
      if (!flow.done && flow.looped) { // the loop would go on for ever
        flow.clientConn?.abort();
        flow.serverConn?.abort();
      }
      if (!flow.done && !flow.bystander && now - flow.started > VICTIM_LIFETIME_MS) {
        flow.clientConn?.abort();
        flow.serverConn?.abort();
        this.count('aborted after its lifetime');
      }
      if (!flow.done && flow.bystander && now - flow.started > BYSTANDER_DEADLINE_MS) {
        this.bystanderFailed(flow, `not finished ${BYSTANDER_DEADLINE_MS} ms after it started: client ${flow.clientConn?.state}, server ${flow.serverConn?.state ?? 'not accepted'}`);
        flow.clientConn?.abort();
        flow.serverConn?.abort();
        this.flows.delete(port);
        continue;
      }
      if (flow.done || (flow.clientConn?.state === 'CLOSED' && flow.serverConn === null)) {
        this.settle(flow);
        this.flows.delete(port);
        continue;
      }
      if (flow.bystander) bystanders++;
      else victims++;
    }
    if (!spawn) return;
    for (; victims < LIVE_VICTIMS; victims++) this.startFlow(false);
    for (; bystanders < LIVE_BYSTANDERS; bystanders++) this.startFlow(true);
  }

  private settle(flow: Flow): void {
    const { client, server } = flow;
    if (!flow.bystander) {
      this.result.victimsDone++;
      const ok = client.error === null && server.error === null && client.digest() === sha256([server.data]) && server.digest() === sha256([client.data]);
      this.count(ok ? 'intact' : client.error?.code ?? server.error?.code ?? (flow.serverConn === null ? 'never accepted' : 'data differs'));
      return;
    }
    this.result.bystandersDone++;
    const problems: string[] = [];
    for (const [name, end, expect] of [['client', client, server.data], ['server', server, client.data]] as const) {
      if (end.error !== null) problems.push(`${name} ${end.error.code}`);
      if (end.received !== expect.length || end.digest() !== sha256([expect])) problems.push(`${name} read ${end.received} of ${expect.length} bytes${end.received === expect.length ? ', SHA-256 differs' : ''}`);
    }
    if (problems.length > 0) this.bystanderFailed(flow, problems.join(', '));
  }

  private count(outcome: string): void {
    const m = this.result.victimOutcomes;
    m.set(outcome, (m.get(outcome) ?? 0) + 1);
  }

  private bystanderFailed(flow: Flow, what: string): void {
    const touched = [...flow.touched];
    const known = touched.filter((k) => KNOWN_FAILURES.some((f) => f.kind === k));
    const line = `bystander ${flow.id} (port ${flow.clientConn?.localPort}): ${what}; hit by ${touched.join(', ') || 'nothing'}`;
    if (known.length > 0) this.result.knownBystanderFailures.push(line);
    else this.result.bystanderFailures.push(line);
  }

  // ---------------------------------------------------------------- running

  run(packets: number): FuzzResult {
    const started = performance.now();
    const lab = this.pr.lab;
    this.tend(true);
    lab.run(20);
    const warmup = Math.min(packets, Math.max(1000, packets >>> 4));
    for (let i = 0; i < packets; i++) {
      if (i % PER_MS === 0) {
        this.guard('timers', null, () => lab.run(1));
        this.tend(true);
        // What tend() started or aborted leaves now, not with the next injected packet's replies.
        this.guard('timers', null, () => lab.run(0));
      }
      if (i === warmup) this.result.heapBefore = heapUsed();
      this.inject(this.forge());
    }
    // Drain: no more packets; the flows end (victims at their lifetime), then everything falls quiet.
    const drainFrom = lab.now();
    this.draining = true;
    while (this.flows.size > 0 && lab.now() - drainFrom < BYSTANDER_DEADLINE_MS + VICTIM_LIFETIME_MS) {
      this.guard('timers', null, () => lab.run(100));
      this.tend(false);
    }
    for (const flow of this.flows.values()) this.bystanderFailed(flow, 'still open after the drain');
    let idle = false;
    this.guard('timers', null, () => { idle = lab.runUntilIdle(600_000); });
    for (const host of [this.pr.a, this.pr.b]) {
      for (const c of host.tcp.connections()) this.result.leftovers.push(`${host.name} ${c.id} ${c.state}`);
    }
    if (!idle || lab.clock.pending() > 0) this.result.leftovers.push(`${lab.clock.pending()} timers armed after the drain, next at ${lab.clock.nextDeadline()}`);
    this.result.heapAfter = heapUsed();
    this.result.virtualMs = lab.now();
    this.result.wallMs = performance.now() - started;
    return this.result;
  }

  private inject(f: Forged): void {
    this.result.packets += f.frames.length;
    if (f.flow !== null) f.flow.touched.add(f.kind);
    const inj = f.to === 'a' ? this.injA : this.injB;
    const st = this.result.stats.get(f.kind) as KindStats;
    for (const frame of f.frames) {
      st.packets++;
      this.replies.length = 0;
      this.measuring = true;
      this.guard(f.kind, frame, () => inj.inject([frame]));
      this.measuring = false;
      const n = this.replies.length;
      if (n === 0) continue;
      const control = controlSegments(this.replies);
      st.replies += n;
      if (n > st.maxReplies) st.maxReplies = n;
      if (control > st.maxControlReplies) st.maxControlReplies = control;
      if (control > MAX_CONTROL_REPLIES || n > MAX_REPLIES) {
        st.storms++;
        if (this.result.storms.length < 10) {
          this.result.storms.push(`${f.kind} to ${f.to} drew ${n} segments (${control} without data: ${describeFrames(this.replies)}): ${Buffer.from(frame).toString('hex')}`);
        }
      }
    }
  }

  /** Run `fn`; an exception is recorded with what was being done, and the run goes on. */
  private guard(kind: string, frame: Uint8Array | null, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      const ex = this.result.exceptions;
      if (ex.length < 20) {
        ex.push(`${kind}${frame === null ? '' : ` packet ${Buffer.from(frame).toString('hex')}`}: ${(err as Error).stack ?? String(err)}`);
      } else ex.length++;
    }
  }

  // ---------------------------------------------------------------- choosing what to send

  private forge(): Forged {
    const d = this.dice;
    switch (d.pick(ONLY === null ? KINDS : KINDS.filter((k) => ONLY.includes(k)))) {
      case 'random-bytes': return this.randomBytes();
      case 'bit-flips': return this.bitFlips(false);
      case 'bit-flips-fixed': return this.bitFlips(true);
      case 'truncated': return this.truncated();
      case 'bad-lengths': return this.badLengths();
      case 'tcp-flags': return this.tcpFlags();
      case 'tcp-options': return this.tcpOptions();
      case 'ip-options': return this.ipOptions();
      case 'fragments': return this.fragmented();
      case 'icmp-errors': return this.icmpErrors(false);
      case 'icmp-frag-needed': return this.icmpErrors(true);
      case 'live-state': return this.liveState();
      case 'benign-data': return this.benignData();
      case 'out-of-window': return this.outOfWindow();
      case 'ack-of-unsent': return this.ackOfUnsent();
      case 'old-ack-data': return this.oldAckData();
      case 'challenge': return this.challenge();
      case 'other-protocols': return this.otherProtocols();
    }
  }

  /** A live flow: a victim, or a bystander when `bystanderOk` and `kind` may be aimed at bystanders. */
  private pickFlow(kind: Kind, bystanderOk: boolean): Flow | null {
    const known = KNOWN_FAILURES.some((f) => f.kind === kind);
    const wantBystander = bystanderOk && (!known || this.aimKnownAtBystanders) && this.dice.chance(0.5);
    const candidates = [...this.flows.values()].filter((f) => f.bystander === wantBystander && !f.done);
    return candidates.length === 0 ? null : this.dice.pick(candidates);
  }

  private recent(): { frame: Uint8Array; from: 'a' | 'b'; bystander: boolean } | null {
    if (this.ring.length === 0) return null;
    const e = this.dice.pick(this.ring);
    return { ...e, bystander: bystanderFrame(e.frame) };
  }

  private flowOfFrame(frame: Uint8Array): Flow | null {
    if (frame.length < 24 || frame[9] !== 6) return null;
    const hl = (frame[0] & 0x0f) * 4;
    const sport = (frame[hl] << 8) | frame[hl + 1];
    const dport = (frame[hl + 2] << 8) | frame[hl + 3];
    return this.flows.get(sport) ?? this.flows.get(dport) ?? null;
  }

  private randomBytes(): Forged {
    const d = this.dice;
    const b = new Uint8Array(d.int(0, 120));
    for (let i = 0; i < b.length; i++) b[i] = d.u32() & 0xff;
    if (b.length > 0 && d.chance(0.7)) b[0] = 0x45;
    return { frames: [b], to: d.chance(0.5) ? 'a' : 'b', kind: 'random-bytes', flow: null };
  }

  /** A copy of a recent frame with bits flipped: one when it is a bystander's (always caught by the checksums), else 1..8, fixed up or not. */
  private bitFlips(fix: boolean): Forged {
    const d = this.dice;
    const r = this.recent();
    if (r === null) return this.randomBytes();
    const kind: Kind = fix && !r.bystander ? 'bit-flips-fixed' : 'bit-flips';
    const f = copyOf(r.frame);
    const flips = r.bystander ? 1 : d.int(1, 8);
    for (let k = 0; k < flips; k++) {
      const bit = d.int(0, f.length * 8 - 1);
      f[bit >>> 3] ^= 1 << (bit & 7);
    }
    if (kind === 'bit-flips-fixed') fixChecksums(f);
    return this.mangled(f, r, kind);
  }

  /** A mangled copy goes to the frame's receiver; a bystander's copy only when the host is bound to drop it. */
  private mangled(f: Uint8Array, r: { from: 'a' | 'b'; bystander: boolean; frame: Uint8Array }, kind: Kind): Forged {
    const to = r.from === 'a' ? 'b' : 'a';
    if (r.bystander && !rejected(f)) return this.randomBytes();
    return { frames: [f], to, kind, flow: this.flowOfFrame(r.frame) };
  }

  private truncated(): Forged {
    const d = this.dice;
    const r = this.recent();
    if (r === null) return this.randomBytes();
    const f = copyOf(r.frame.subarray(0, d.int(0, r.frame.length - 1)));
    const fix = r.bystander ? 0 : d.int(0, 2);
    if (fix >= 1 && f.length >= 20) {
      f[2] = f.length >>> 8; // the IP total length follows the cut
      f[3] = f.length;
      if (fix === 2) fixChecksums(f);
      else if ((f[0] & 0x0f) * 4 <= f.length) fixChecksums(f.subarray(0, (f[0] & 0x0f) * 4));
    }
    return this.mangled(f, r, 'truncated');
  }

  private badLengths(): Forged {
    const d = this.dice;
    const r = this.recent();
    if (r === null || r.frame.length < 40) return this.randomBytes();
    const f = copyOf(r.frame);
    const hl = (f[0] & 0x0f) * 4;
    switch (d.int(0, 2)) {
      case 0: { // IP total length: shorter, longer, tiny, huge
        const v = d.pick([0, 1, 19, 20, hl + 19, f.length - 1, f.length + 1, f.length + d.int(2, 1000), 65535, d.int(0, 65535)]);
        f[2] = v >>> 8;
        f[3] = v;
        break;
      }
      case 1: // IHL
        f[0] = 0x40 | d.int(0, 15);
        break;
      default: // TCP data offset
        if (hl + 12 < f.length) f[hl + 12] = (d.int(0, 15) << 4) | (f[hl + 12] & 0x0f);
    }
    if (!r.bystander && d.chance(0.6)) fixChecksums(f);
    return this.mangled(f, r, 'bad-lengths');
  }

  /** Which host to send to and the addresses: a victim's 4-tuple, the victim listener from a stranger, or a closed port. */
  private tuple(kind: Kind): { to: 'a' | 'b'; src: number; dst: number; sport: number; dport: number; flow: Flow | null; x: TcpConnection | null } {
    const d = this.dice;
    const flow = this.pickFlow(kind, false);
    const r = d.int(0, 3);
    if (r <= 1 && flow !== null) {
      const to = d.chance(0.5) ? 'a' : 'b';
      const x = to === 'a' ? flow.clientConn : flow.serverConn;
      if (x !== null) return { to, src: x.remoteAddr.v4, dst: x.localAddr.v4, sport: x.remotePort, dport: x.localPort, flow, x };
    }
    // Strangers use ports below the ephemeral range, so they never hit a live connection by chance.
    const src = d.pick([SRC_A, NOBODY, ip('10.0.0.3')]);
    if (r === 2) return { to: 'b', src, dst: SRC_B, sport: d.int(1, 1023), dport: VICTIM_PORT, flow: null, x: null };
    const to = d.chance(0.5) ? 'a' : 'b';
    return { to, src: to === 'a' ? SRC_B : src, dst: to === 'a' ? SRC_A : SRC_B, sport: d.int(1, 1023), dport: d.pick([7, 9, 8080, d.int(1, 65535)]), flow: null, x: null };
  }

  /** A sequence number relative to what `x` expects: at its edges, inside, just outside, far away. */
  private seqFor(x: TcpConnection | null): number {
    const d = this.dice;
    if (x === null) return d.u32();
    const wnd = Math.max(0, seqDiff(x.rcvAdvertised, x.rcvNxt));
    return seqAdd(x.rcvNxt, d.pick([0, -1, wnd - 1, wnd, wnd + 1, d.int(0, wnd), -d.int(1, 70000), 0x80000000, d.u32() | 0]));
  }

  /** An acknowledgment number relative to what `x` has sent: acked, unacked, unsent, far behind. */
  private ackFor(x: TcpConnection | null): number {
    const d = this.dice;
    if (x === null) return d.u32();
    const flight = seqDiff(x.sndMax, x.sndUna);
    return seqAdd(x.sndUna, d.pick([0, -1, 1, flight, flight + 1, d.int(0, Math.max(0, flight)), -x.maxSndWnd - 1, d.u32() | 0]));
  }

  private junk(max: number): Uint8Array {
    const d = this.dice;
    const b = new Uint8Array(d.int(0, max));
    for (let i = 0; i < b.length; i++) b[i] = d.u32() & 0xff;
    return b;
  }

  /** Every flag combination in turn, at live and stranger 4-tuples, with sequence numbers around the window. */
  private tcpFlags(): Forged {
    const d = this.dice;
    const t = this.tuple('tcp-flags');
    const flags = this.flagCounter++ & 0xff;
    const body = d.chance(0.5) ? new Uint8Array(0) : this.junk(600);
    const frame = tcpPacket(t.src, t.dst, { srcPort: t.sport, dstPort: t.dport, seq: this.seqFor(t.x), ack: this.ackFor(t.x), flags, window: d.int(0, 65535), urgent: d.chance(0.2) ? d.int(0, 65535) : 0 }, body);
    return { frames: [frame], to: t.to, kind: 'tcp-flags', flow: t.flow };
  }

  /** Option bytes: every kind, with lengths right, wrong, zero, one, and past the end. */
  private options(): Uint8Array {
    const d = this.dice;
    const o = new Uint8Array(d.int(1, 40));
    let i = 0;
    while (i < o.length) {
      const kind = d.pick([0, 1, 2, 3, 4, 5, 8, 19, 28, 29, 30, 34, 254, d.int(0, 255)]);
      o[i++] = kind;
      if (kind <= 1 || i >= o.length) continue;
      const right = ({ 2: 4, 3: 3, 4: 2, 8: 10, 5: 2 + 8 * d.int(1, 4) } as Record<number, number>)[kind] ?? d.int(2, 12);
      const len = d.pick([right, right, 0, 1, 2, right - 1, right + 1, d.int(0, 255)]);
      o[i++] = len;
      for (let k = 2; k < len && i < o.length; k++) o[i++] = d.u32() & 0xff;
    }
    return o;
  }

  private tcpOptions(): Forged {
    const d = this.dice;
    const t = this.tuple('tcp-options');
    const flags = t.x === null && t.dport === VICTIM_PORT ? TCP_SYN : d.pick([TCP_SYN, TCP_ACK, TCP_ACK | TCP_PSH, TCP_SYN | TCP_ACK, TCP_FIN | TCP_ACK, TCP_RST]);
    const options = this.options();
    const dataOffset = d.chance(0.2) ? d.int(0, 15) : undefined;
    const frame = tcpPacket(t.src, t.dst, { srcPort: t.sport, dstPort: t.dport, seq: this.seqFor(t.x), ack: this.ackFor(t.x), flags, window: d.int(0, 65535), options, dataOffset }, this.junk(100));
    return { frames: [frame], to: t.to, kind: 'tcp-options', flow: t.flow };
  }

  /** A copy of a recent frame with IP options put in (the TCP checksum does not cover them): a duplicate, for bystanders too. */
  private ipOptions(): Forged {
    const d = this.dice;
    const r = this.recent();
    if (r === null || r.frame.length < 20) return this.randomBytes();
    const hl = (r.frame[0] & 0x0f) * 4;
    const options = new Uint8Array(d.int(1, 40));
    for (let i = 0; i < options.length; i++) options[i] = d.pick([0, 1, 7, 68, 130, 131, 136, 137, 148, d.u32() & 0xff]);
    const f = r.frame;
    const frame = ipv4({
      src: readU32(f, 12), dst: readU32(f, 16), protocol: f[9], ttl: f[8], id: (f[4] << 8) | f[5], tos: f[1], dontFragment: (f[6] & 0x40) !== 0, options,
    }, f.subarray(hl, Math.min(f.length, (f[2] << 8) | f[3])));
    return { frames: [frame], to: r.from === 'a' ? 'b' : 'a', kind: 'ip-options', flow: this.flowOfFrame(f) };
  }

  /**
   * A recent frame in fragments, in any order, overlapping, repeated, and some
   * out of range. A bystander's fragments carry its true bytes (overlaps agree).
   */
  private fragmented(): Forged {
    const d = this.dice;
    const r = this.recent();
    if (r === null || r.frame.length < 28) return this.randomBytes();
    const f = copyOf(r.frame);
    f[4] = d.u32() & 0xff; // an IP ID of its own, so it never meets another datagram's fragments
    f[5] = d.u32() & 0xff;
    const bodyLength = f.length - (f[0] & 0x0f) * 4;
    const step = 8 * d.int(1, Math.max(1, bodyLength >>> 3));
    const pieces: Array<{ offset: number; length: number; more: boolean }> = [];
    for (let off = 0; off < bodyLength; off += step) pieces.push({ offset: off, length: Math.min(step, bodyLength - off), more: off + step < bodyLength });
    switch (d.int(0, 4)) {
      case 0: pieces.push({ ...d.pick(pieces) }); break; // a duplicate
      case 1: pieces.push({ offset: Math.max(0, d.pick(pieces).offset - 8), length: step + 8, more: true }); break; // an overlap
      case 2: pieces.push({ offset: 65528, length: 8 * d.int(1, 8), more: d.chance(0.5) }); break; // past 65535
      case 3: pieces[pieces.length - 1].more = true; break; // never complete
      default: break;
    }
    for (let i = pieces.length - 1; i > 0; i--) { // shuffled
      const j = d.int(0, i);
      [pieces[i], pieces[j]] = [pieces[j], pieces[i]];
    }
    const frames = fragments(f, pieces);
    if (!r.bystander && d.chance(0.3)) { // overlaps that disagree, for victims
      const g = d.pick(frames);
      if (g.length > 20) g[d.int(20, g.length - 1)] ^= 0xff;
    }
    return { frames, to: r.from === 'a' ? 'b' : 'a', kind: 'fragments', flow: this.flowOfFrame(f) };
  }

  /**
   * ICMP errors quoting a live connection's 4-tuple, with a sequence number it
   * has outstanding or not. Bystanders get what must not end an established
   * connection (any unreachable code is a soft error then), and in the handshake
   * only time exceeded. `fragNeeded`: fragmentation needed, with any next-hop
   * MTU, which ends no connection in any state (RFC 1191; Linux tcp_v4_err).
   */
  private icmpErrors(fragNeeded: boolean): Forged {
    const d = this.dice;
    const kind: Kind = fragNeeded ? 'icmp-frag-needed' : 'icmp-errors';
    const flow = this.pickFlow(kind, true);
    const to = d.chance(0.5) ? 'a' : 'b';
    const x = flow === null ? null : to === 'a' ? flow.clientConn : flow.serverConn;
    const quoteSrc = x?.localAddr.v4 ?? (to === 'a' ? SRC_A : SRC_B);
    const quoteDst = x?.remoteAddr.v4 ?? (to === 'a' ? SRC_B : SRC_A);
    const flight = x === null ? 0 : seqDiff(x.sndMax, x.sndUna);
    const quotedSeq = x === null ? d.u32() : seqAdd(x.sndUna, d.pick([0, d.int(0, Math.max(0, flight - 1)), flight, -1, d.u32() | 0]));
    const quoted = tcpPacket(quoteSrc, quoteDst, {
      srcPort: x?.localPort ?? d.int(1, 65535), dstPort: x?.remotePort ?? d.int(1, 65535), seq: quotedSeq, ack: d.u32(), flags: TCP_ACK, window: 1000,
    }, new Uint8Array(d.int(0, 40)));
    const handshake = x !== null && !x.isSynchronized;
    let type: number;
    let code: number;
    if (fragNeeded) [type, code] = [3, 4];
    else if (flow?.bystander && handshake) [type, code] = [11, d.int(0, 1)];
    else [type, code] = d.pick([[3, d.int(0, 15)], [11, d.int(0, 1)], [12, 0], [4, 0], [5, d.int(0, 3)], [d.int(0, 255), d.int(0, 255)]]);
    const rest = type === 3 && code === 4 ? d.pick([0, 1, 68, 100, 296, 576, 1280, 1499, 1500, 9000, 65535]) : d.chance(0.1) ? d.u32() : 0;
    // Quote all, the IP header and 8 bytes (RFC 792), too little, or with a broken IHL.
    let q = quoted;
    switch (d.int(0, 4)) {
      case 0: q = quoted.subarray(0, 28); break;
      case 1: q = quoted.subarray(0, d.int(0, 27)); break;
      case 2: q = copyOf(quoted); q[0] = 0x40 | d.int(0, 15); break;
      default: break;
    }
    if (flow?.bystander && q !== quoted && q.length >= 28 && (q[0] & 0x0f) !== 5) q = quoted;
    const msg = icmpError(type, code, rest, q);
    if (!flow?.bystander && d.chance(0.1)) msg[2] ^= 0x01; // a bad ICMP checksum
    const from = d.pick([quoteDst, ip('10.0.0.254'), NOBODY]);
    return { frames: [icmpPacket(from, quoteSrc, msg)], to, kind, flow };
  }

  /** Segments made from a victim's state: any flags, sequence and ACK numbers about the window, with or without data. */
  private liveState(): Forged {
    const d = this.dice;
    const flow = this.pickFlow('live-state', false);
    const to = d.chance(0.5) ? 'a' : 'b';
    const ends = flow?.ends(to) ?? null;
    if (flow === null || ends === null) return this.tcpFlags();
    const { x, y } = ends;
    const flags = d.pick([TCP_ACK, TCP_ACK | TCP_PSH, TCP_ACK | TCP_FIN, TCP_RST, TCP_RST | TCP_ACK, TCP_SYN, TCP_SYN | TCP_ACK, 0, d.int(0, 255)]);
    const options = !x.tsOn ? undefined : timestampsOption(d.pick([y.tsNow(), y.tsNow() + d.int(1, 1e6), y.tsNow() - d.int(1, 1e6), d.u32()]), x.tsNow());
    const frame = tcpPacket(x.remoteAddr.v4, x.localAddr.v4, {
      srcPort: x.remotePort, dstPort: x.localPort, seq: this.seqFor(x), ack: this.ackFor(x), flags, window: d.int(0, 65535), options,
    }, d.chance(0.5) ? new Uint8Array(0) : this.junk(1400));
    return { frames: [frame], to, kind: 'live-state', flow };
  }

  /** A connection's peer, as it would send now: its true bytes, its ACK and window, its timestamps. */
  private asPeer(kind: Kind, bystanderOk: boolean): { flow: Flow; to: 'a' | 'b'; x: TcpConnection; y: TcpConnection; yData: Uint8Array; options: Uint8Array | undefined } | null {
    const flow = this.pickFlow(kind, bystanderOk);
    const to = this.dice.chance(0.5) ? 'a' : 'b';
    const ends = flow?.ends(to) ?? null;
    if (flow === null || ends === null) return null;
    const { x, y } = ends;
    return { flow, to, ...ends, options: x.tsOn ? timestampsOption(y.tsNow(), y.tsRecent) : undefined };
  }

  private segmentFrom(p: { x: TcpConnection; y: TcpConnection; options: Uint8Array | undefined }, seq: number, ack: number, flags: number, body: Uint8Array): Uint8Array {
    const { x, y } = p;
    const window = Math.min(0xffff, Math.max(0, seqDiff(y.rcvAdvertised, y.rcvNxt)) >>> y.rcvWscale);
    return tcpPacket(x.remoteAddr.v4, x.localAddr.v4, { srcPort: x.remotePort, dstPort: x.localPort, seq, ack, flags, window, options: p.options }, body);
  }

  /**
   * The peer's true bytes about the receive window: overlapping what has arrived,
   * inside the window, past it; the FIN only where the peer will send it. A
   * correct TCP cannot tell these from retransmissions: the stream stays intact.
   */
  private benignData(): Forged {
    const d = this.dice;
    const p = this.asPeer('benign-data', true);
    if (p === null) return this.tcpFlags();
    const { x, y, yData } = p;
    const start = seqAdd(y.iss, 1);
    const wnd = Math.max(0, seqDiff(x.rcvAdvertised, x.rcvNxt));
    const at = seqDiff(x.rcvNxt, start) + d.int(-3000, wnd + 3000);
    const from = Math.max(0, Math.min(at, yData.length));
    const to = Math.min(yData.length, from + d.int(0, 1400));
    const fin = to === yData.length && d.chance(0.5);
    // Acknowledge no more than the peer has really received.
    const ack = seqAdd(x.sndUna, d.int(0, Math.max(0, seqDiff(y.rcvNxt, x.sndUna))));
    const frame = this.segmentFrom(p, seqAdd(start, from), ack, TCP_ACK | (d.chance(0.5) ? TCP_PSH : 0) | (fin ? TCP_FIN : 0), yData.subarray(from, to));
    return { frames: [frame], to: p.to, kind: 'benign-data', flow: p.flow };
  }

  /** Garbage wholly before RCV.NXT or wholly past the window: dropped and acknowledged. */
  private outOfWindow(): Forged {
    const d = this.dice;
    const p = this.asPeer('out-of-window', true);
    if (p === null) return this.tcpFlags();
    const { x } = p;
    const body = this.junk(1400);
    const wnd = Math.max(0, seqDiff(x.rcvAdvertised, x.rcvNxt));
    const seq = d.chance(0.5) ? seqAdd(x.rcvNxt, -body.length - d.int(1, 100000)) : seqAdd(x.rcvNxt, wnd + d.int(1, 100000));
    const flags = d.pick([TCP_ACK, TCP_ACK | TCP_PSH, TCP_ACK | TCP_FIN, TCP_RST, TCP_RST | TCP_ACK, TCP_SYN, TCP_ACK | TCP_SYN]);
    const frame = this.segmentFrom(p, seq, this.ackFor(x), flags, body);
    return { frames: [frame], to: p.to, kind: 'out-of-window', flow: p.flow };
  }

  /** Garbage inside the window that acknowledges data never sent: RFC 9293 3.10.7.4 and RFC 5961 5.2 drop it. */
  private ackOfUnsent(): Forged {
    const d = this.dice;
    return this.inWindowGarbage('ack-of-unsent', (x) => seqAdd(x.sndMax, d.int(1, 0x3fffffff)), TCP_ACK | d.pick([0, TCP_PSH, TCP_FIN, TCP_PSH | TCP_FIN]));
  }

  /** Garbage inside the window with an ACK older than SND.UNA - MAX.SND.WND: RFC 5961 5.2 drops it (blind data injection). */
  private oldAckData(): Forged {
    const d = this.dice;
    return this.inWindowGarbage('old-ack-data', (x) => seqAdd(x.sndUna, -x.maxSndWnd - d.int(1, 0x3fffffff)), TCP_ACK | TCP_PSH);
  }

  /** Garbage at a sequence number inside the receive window, as the peer, with the ACK `ackFor` gives for the receiver. */
  private inWindowGarbage(kind: Kind, ackFor: (x: TcpConnection) => number, flags: number): Forged {
    const p = this.asPeer(kind, true);
    if (p === null) return this.tcpFlags();
    const { x } = p;
    const wnd = Math.max(1, seqDiff(x.rcvAdvertised, x.rcvNxt));
    const frame = this.segmentFrom(p, seqAdd(x.rcvNxt, this.dice.int(0, wnd - 1)), ackFor(x), flags, this.junk(1400));
    return { frames: [frame], to: p.to, kind, flow: p.flow };
  }

  /** RST inside the window but not at RCV.NXT, and SYN inside the window: a challenge ACK, nothing else (RFC 5961 3, 4). */
  private challenge(): Forged {
    const d = this.dice;
    const p = this.asPeer('challenge', true);
    if (p === null) return this.tcpFlags();
    const { x } = p;
    const wnd = seqDiff(x.rcvAdvertised, x.rcvNxt);
    if (wnd < 2) return this.tcpFlags();
    const rst = d.chance(0.5);
    const seq = seqAdd(x.rcvNxt, rst ? d.int(1, wnd - 1) : d.int(0, wnd - 1));
    const flags = rst ? d.pick([TCP_RST, TCP_RST | TCP_ACK]) : d.pick([TCP_SYN, TCP_SYN | TCP_ACK, TCP_SYN | TCP_FIN | TCP_ACK]);
    const frame = this.segmentFrom(p, seq, this.ackFor(x), flags, rst ? new Uint8Array(0) : this.junk(100));
    return { frames: [frame], to: p.to, kind: 'challenge', flow: p.flow };
  }

  /** Echo requests (to us and to the broadcast address, some in fragments), UDP, protocols nobody speaks. */
  private otherProtocols(): Forged {
    const d = this.dice;
    const to = d.chance(0.5) ? 'a' : 'b';
    const dst = d.chance(0.2) ? BROADCAST : to === 'a' ? SRC_A : SRC_B;
    const src = d.pick([NOBODY, to === 'a' ? SRC_B : SRC_A, ip('10.0.0.3')]);
    const body = this.junk(1400);
    const protocol = d.pick([1, 1, 17, 2, 41, 47, 50, 132, 255, d.int(0, 255)]);
    if (protocol === 1) {
      body[0] = 8; // echo request, checksummed
      body[1] = 0;
      body[2] = body[3] = 0;
      let sum = 0;
      for (let i = 0; i < body.length; i += 2) sum += (body[i] << 8) | (body[i + 1] ?? 0);
      while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
      body[2] = ~sum >>> 8;
      body[3] = ~sum;
    }
    const packet = ipv4({ src, dst, protocol, id: d.int(0, 65535) }, body);
    const frames = body.length > 64 && d.chance(0.3)
      ? fragments(packet, [{ offset: 0, length: 64, more: true }, { offset: 64, length: body.length - 64, more: false }])
      : [packet];
    return { frames, to, kind: 'other-protocols', flow: null };
  }
}

/** Packets per ava test (and per lab): each test reports before ava's inactivity timeout. */
const CHUNK = 1_000_000;

const totals = {
  packets: 0, exceptions: 0, storms: 0, ackLoops: 0, bystanders: 0, broken: 0, knownBroken: 0, victims: 0,
  heapBefore: null as number | null, heapAfter: null as number | null, virtualMs: 0, wallMs: 0, chunks: 0,
};

function add(r: FuzzResult): void {
  totals.chunks++;
  totals.packets += r.packets;
  totals.exceptions += r.exceptions.length;
  totals.storms += [...r.stats.values()].reduce((n, s) => n + s.storms, 0);
  totals.ackLoops += r.ackLoops;
  totals.bystanders += r.bystandersDone;
  totals.broken += r.bystanderFailures.length;
  totals.knownBroken += r.knownBystanderFailures.length;
  totals.victims += r.victimsDone;
  totals.heapBefore ??= r.heapBefore;
  if (r.heapAfter !== null) totals.heapAfter = r.heapAfter;
  totals.virtualMs += r.virtualMs;
  totals.wallMs += r.wallMs;
}

function mib(bytes: number | null): string {
  return bytes === null ? '?' : (bytes / 2 ** 20).toFixed(1);
}

for (let chunk = 0; chunk * CHUNK < PACKETS; chunk++) {
  const seed = FUZZ_SEED + chunk;
  const packets = Math.min(CHUNK, PACKETS - chunk * CHUNK);
  test(`fuzz seed ${seed}, ${packets} packets into a live stack: no exception, no storm, bystanders intact, nothing left over, heap flat`, (t) => {
    const r = new Fuzzer(new Dice(seed, 1), tortureMode).run(packets);
    add(r);
    for (const [kind, s] of r.stats) {
      t.log(`${kind.padEnd(16)} ${String(s.packets).padStart(8)} packets, replies ${(s.replies / Math.max(1, s.packets)).toFixed(2)} each, `
        + `at most ${s.maxReplies} (${s.maxControlReplies} control)${s.storms > 0 ? `, ${s.storms} storms` : ''}`);
    }
    t.log(`victim outcomes: ${[...r.victimOutcomes].map(([k, n]) => `${n} ${k}`).join(', ')}`);
    for (const line of r.loops) t.log(`ACK loop${knownFailure('ack-loop') === undefined ? '' : ' (known)'}: ${line}`);
    for (const line of r.knownBystanderFailures.slice(0, 5)) t.log(`known: ${line}`);
    for (const line of r.bystanderFailures.slice(0, 10)) t.log(`broken: ${line}`);

    t.deepEqual(r.exceptions, [], 'exceptions escaped the stack');
    t.deepEqual(r.storms, [], `a packet drew more than ${MAX_CONTROL_REPLIES} control segments or ${MAX_REPLIES} in all`);
    if (knownFailure('ack-loop') === undefined) t.is(r.ackLoops, 0, 'connections in ACK loops');
    t.deepEqual(r.bystanderFailures.slice(0, 10), [], 'bystanders broken by packets a correct TCP ignores');
    t.deepEqual(r.leftovers, [], 'left over after the drain');
    // Every kind was sent, and the run reached deep: many bystanders and victims ended.
    for (const [kind, s] of r.stats) t.true(s.packets > 0, `no ${kind} packets`);
    t.true(r.bystandersDone >= 10 && r.victimsDone >= 10, `${r.bystandersDone} bystanders and ${r.victimsDone} victims finished`);
    if (r.heapBefore === null || r.heapAfter === null) {
      t.log('heap not checked: run node with --expose-gc (make torture does)');
    } else {
      const grown = r.heapAfter - r.heapBefore;
      t.log(`heap ${mib(r.heapBefore)} MiB after warm-up, ${mib(r.heapAfter)} MiB at the end`);
      t.true(grown < Math.max(16 * 2 ** 20, r.heapBefore * 0.5), `heap grew ${mib(grown)} MiB`);
    }
  });
}

// Under `make torture`, each known failure's reproduction runs and must still go wrong: once
// the stack is fixed the entry is to be removed. Its pcap and report are written either way.
for (const k of FIXED) {
  test(`fixed: ${k.name} does not happen`, (t) => {
    const r = new Repro(FUZZ_SEED);
    const { wrong, what } = k.reproduce(r);
    t.log(what);
    t.false(wrong, `${k.name} is back: ${k.reason}`);
  });
}

for (const k of KNOWN_FAILURES) {
  (tortureMode ? test : test.skip)(`known failure ${k.name} still happens; remove it from KNOWN_FAILURES once fixed`, (t) => {
    const r = new Repro(FUZZ_SEED);
    const { wrong, what } = k.reproduce(r);
    const a = writeArtifacts(`fuzz-${k.name}`, `tcplab fuzz, known failure ${k.name}: ${what}`, r.recording.events, r.recording.finish());
    t.log(`${what}\n  pcap: ${a.pcap}\n  html: ${a.html}`);
    t.true(wrong, `${k.name} does not happen any more: is it fixed?`);
  });
}

test.after.always(() => {
  const heap = totals.heapBefore === null || totals.heapAfter === null ? 'heap not measured (no --expose-gc)'
    : `heap ${mib(totals.heapBefore)} -> ${mib(totals.heapAfter)} MiB`;
  const known = totals.knownBroken > 0 ? ` + ${totals.knownBroken} by known failures` : '';
  const line = `fuzz: ${totals.packets} packets, ${totals.exceptions} exceptions, ${totals.storms} storms, ${totals.ackLoops} ACK loops, `
    + `${totals.bystanders} bystanders (${totals.broken} broken${known}), ${totals.victims} victims, ${heap}, `
    + `${(totals.virtualMs / 1000).toFixed(0)} s virtual in ${(totals.wallMs / 1000).toFixed(1)} s`;
  console.log(`torture ${line}`);
  if (tortureMode) writeOutput('fuzz.summary', line);
});
