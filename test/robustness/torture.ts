// The torture suite's library: seeded choice of a transfer's parameters
// (sizes, close order, link impairments, TCP tunables), one transfer run with
// every check the suite makes, and the pcap and HTML report of a failed run.
// Everything is a function of the seed: the same seed gives the same run.

import { createHash, type Hash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { rng } from '../helpers/rng';
import { B, ip, pair, payload, sha256, type Pair, type PairLinkOptions } from '../helpers/sim';
import type { StackConfigInput } from '../../stack/config';
import type { TcpConnection, TcpHandler } from '../../stack/tcp/connection';
import { seqLt } from '../../stack/tcp/seq';
import type { TcpError } from '../../stack/tcp/errors';
import type { TraceEvent } from '../../stack/trace';
import type { BurstLossOptions, ImpairmentOptions, LinkFrameEvent } from '../../devices/link';
import { CaptureWriter, MemorySink } from '../../devices/capture';
import { WrapperDevice } from '../../devices/wrapper';
import type { Device, FrameReceiver } from '../../stack/device';
import { renderReport } from '../../tools/report/report';
import { IPPROTO_TCP, Ipv4Header, parseIpv4, setIpv4Checksum } from '../../stack/wire/ipv4';
import { readU32 } from '../../stack/wire/bytes';
import { TcpSegment, formatTcpFlags, parseTcp, setTcpChecksum } from '../../stack/wire/tcp';

// ---------------------------------------------------------------- run sizes

/** A whole number from the environment (e.g. TCPLAB_TORTURE_SEEDS=5000), else `fallback`. */
export function envCount(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${name} must be a whole number, got '${raw}'`);
  return n;
}

/** True under `make torture` (TCPLAB_TORTURE=1): known failures run too, and summaries are written. */
export const tortureMode = process.env.TCPLAB_TORTURE === '1';

/** Where failed runs leave their pcap and HTML report (gitignored). */
export const outputDir = resolve(process.env.TCPLAB_TORTURE_OUT ?? join(process.cwd(), 'test-output', 'torture'));

/** Write `text` to a file under outputDir; returns its path. */
export function writeOutput(name: string, data: string | Uint8Array): string {
  mkdirSync(outputDir, { recursive: true });
  const path = join(outputDir, name);
  writeFileSync(path, data);
  return path;
}

// ---------------------------------------------------------------- seeded choices

/** Seeded choices for one seed and one purpose (`stream`), from the tests' xorshift source. */
export class Dice {
  private readonly next: () => number;

  constructor(seed: number, stream = 0) {
    // xorshift32 from a small seed starts with small numbers: spread the seed first.
    let h = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(stream + 1, 0xc2b2ae35);
    h ^= h >>> 15;
    h = Math.imul(h, 0x27d4eb2d);
    h ^= h >>> 13;
    this.next = rng(h >>> 0);
  }

  u32(): number {
    return this.next();
  }

  /** Uniform in [0, 1). */
  float(): number {
    return (this.next() - 1) / 4294967295;
  }

  /** Uniform whole number in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.float() * items.length)];
  }
}

// ---------------------------------------------------------------- transfer parameters

/**
 * Who ends the conversation, and how:
 *  - client-first: the client shuts down after its data; the server goes on sending and shuts down after the client's FIN;
 *  - server-first: the same the other way round;
 *  - simultaneous: each shuts down as soon as its data is queued (with little or no data the FINs cross: CLOSING);
 *  - client-close / server-close: that side calls close() (not shutdown()) once nothing more can arrive for it:
 *    at once when the peer sends nothing, else after the peer's FIN.
 */
export const CLOSE_ORDERS = ['client-first', 'server-first', 'simultaneous', 'client-close', 'server-close'] as const;
export type CloseOrder = (typeof CLOSE_ORDERS)[number];

export interface TransferParams {
  seed: number;
  /** Bytes the client sends. */
  clientBytes: number;
  /** Bytes the server sends. */
  serverBytes: number;
  close: CloseOrder;
  link: PairLinkOptions;
  config: StackConfigInput;
}

/** Link MTUs, weighted: mostly Ethernet's, some jumbo and small ones, a few at the IPv4 minimum. */
const MTUS = [68, 100, 296, 576, 576, 1280, 1280, 1500, 1500, 1500, 1500, 1500, 1500, 9000, 9000];
const RATES = [0, 1e6, 10e6, 100e6, 1e9];
/**
 * Retries well beyond Linux's 15: at 30 % loss each way a round trip fails half the time, and in a
 * loss burst most of the time (the burst chain steps once per frame, so a sparse exchange such as a
 * handshake or a close can sit in it for many timeouts); over 100,000 runs 15 tries are not enough.
 */
const RETRIES = 60;
export const MAX_TRANSFER_BYTES = 4 * 1024 * 1024;

/** Impairments of one direction, drawn from the dice. */
function impairments(d: Dice): Partial<ImpairmentOptions> {
  const o: Partial<ImpairmentOptions> = {};
  // A quarter of the directions lose nothing; the rest up to 30 %, mostly little.
  if (d.chance(0.75)) o.loss = Math.round(0.3 * d.float() ** 2 * 1000) / 1000;
  if (d.chance(0.2)) {
    const burst: BurstLossOptions = {
      enterBad: Math.round((0.002 + 0.03 * d.float()) * 1000) / 1000,
      exitBad: Math.round((0.4 + 0.4 * d.float()) * 100) / 100,
      lossBad: Math.round((0.5 + 0.5 * d.float()) * 100) / 100,
    };
    o.lossBurst = burst;
  }
  if (d.chance(0.3)) o.duplicate = Math.round(0.05 * d.float() * 1000) / 1000;
  if (d.chance(0.3)) {
    o.reorder = Math.round(0.1 * d.float() * 1000) / 1000;
    o.reorderDelayMs = d.int(1, 20);
  }
  if (d.chance(0.2)) o.corrupt = Math.round(0.05 * d.float() * 1000) / 1000;
  if (d.chance(0.3)) o.jitterMs = d.int(1, 20);
  return o;
}

/** Probability that a frame of one direction is lost right after one that was: in a burst, at worst. */
function streakLossOf(o: Partial<ImpairmentOptions>): number {
  const b = o.lossBurst;
  const inBurst = b === undefined || b === null ? 0 : (1 - b.exitBad) * (b.lossBad ?? 1);
  return 1 - (1 - lossOf(o)) * (1 - inBurst);
}

/** Loss probability of one direction in the long run (independent, bursty and corruption). */
export function lossOf(o: Partial<ImpairmentOptions>): number {
  let keep = (1 - (o.loss ?? 0)) * (1 - (o.corrupt ?? 0));
  const b = o.lossBurst;
  if (b !== undefined && b !== null) {
    const bad = b.enterBad / (b.enterBad + b.exitBad);
    keep *= 1 - (bad * (b.lossBad ?? 1) + (1 - bad) * (b.lossGood ?? 0));
  }
  return 1 - keep;
}

function size(d: Dice, max: number): number {
  const r = d.float();
  if (r < 0.1) return 0;
  if (r < 0.3) return d.int(1, 2000);
  return Math.min(max, Math.round(2000 * (max / 2000) ** d.float()));
}

/** Everything about a transfer, chosen from its seed. */
export function transferParams(seed: number): TransferParams {
  const d = new Dice(seed);
  const mtu = d.pick(MTUS);
  const rateBps = d.pick(RATES);
  const link: PairLinkOptions = { mtu, delayMs: d.pick([0, 0.1, 1, 5, 20, 50]), rateBps };
  if (rateBps > 0 && d.chance(0.3)) link.queueLimitPackets = d.pick([5, 20, 100]);
  const same = d.chance(0.5);
  const aToB = impairments(d);
  const bToA = same ? aToB : impairments(d);
  if (same) Object.assign(link, aToB);
  else Object.assign(link, { aToB, bToA });
  // Large transfers over small MTUs or heavy loss would take long without telling more.
  const worstLoss = Math.max(lossOf(aToB), lossOf(bToA));
  const segmentBytes = Math.max(16, mtu - 52);
  const max = Math.min(MAX_TRANSFER_BYTES, segmentBytes * (worstLoss > 0.15 ? 600 : 3000));
  const ways = d.float();
  const clientBytes = ways < 0.3 ? 0 : size(d, max);
  const serverBytes = ways >= 0.3 && ways < 0.6 ? 0 : size(d, max);
  const close = d.pick(CLOSE_ORDERS);
  const tcp: NonNullable<StackConfigInput['tcp']> = {
    mslMs: 1000,
    dataRetries: RETRIES,
    synRetries: RETRIES,
    synAckRetries: RETRIES,
    receiveBufferBytes: d.pick([4096, 32 * 1024, 256 * 1024, 1024 * 1024]),
    sendBufferBytes: d.pick([8192, 64 * 1024, 1024 * 1024]),
  };
  if (d.chance(0.2)) tcp.sack = false;
  if (d.chance(0.2)) tcp.timestamps = false;
  if (d.chance(0.2)) tcp.windowScaling = false;
  if (d.chance(0.2)) tcp.delayedAck = false;
  if (d.chance(0.2)) tcp.noDelay = true;
  return { seed, clientBytes, serverBytes, close, link, config: { tcp } };
}

/** One line for a log: the seed and every parameter. */
export function describeTransfer(p: TransferParams): string {
  return `seed ${p.seed}: ${p.clientBytes} B client->server, ${p.serverBytes} B server->client, close ${p.close}, `
    + `link ${JSON.stringify(p.link)}, tcp ${JSON.stringify(p.config.tcp)}`;
}

// ---------------------------------------------------------------- time bound

/**
 * Virtual time a transfer may take. A model of TCP over the path (Padhye et al.'s
 * throughput with timeouts, at least the line rate), taken 10 times, plus the
 * retransmission backoff of the longest run of lost round trips the transfer can
 * expect to meet (that run grows with the log of its segment count, and with the
 * chance that a loss follows a loss, which bursts raise), taken 4 times.
 * Generous, but finite: a stall ends in a failure, not in a hung test.
 */
export function timeBoundMs(p: TransferParams): number {
  const link = p.link;
  const direction = (side: 'aToB' | 'bToA'): Partial<ImpairmentOptions> => ({ ...link, ...(link[side] ?? {}) });
  const ab = direction('aToB');
  const ba = direction('bToA');
  const q = 1 - (1 - lossOf(ab)) * (1 - lossOf(ba)); // a round trip fails
  const mtu = link.mtu ?? 1500;
  const mss = Math.max(16, mtu - 52);
  const rtt = 2 * ((link.delayMs ?? 0) + Math.max(ab.jitterMs ?? 0, ba.jitterMs ?? 0) + Math.max(ab.reorderDelayMs ?? 0, ba.reorderDelayMs ?? 0)) + 1;
  const rto = Math.max(200, rtt * 2);
  const bytes = Math.max(p.clientBytes, p.serverBytes);
  const segments = Math.ceil(bytes / mss) + 4;
  // Padhye, Firoiu, Towsley, Kurose (1998): segments per ms.
  const rate = q === 0 ? Infinity
    : 1 / (rtt * Math.sqrt((2 * q) / 3) + rto * Math.min(1, 3 * Math.sqrt((3 * q) / 8)) * q * (1 + 32 * q * q));
  const windowMs = (Math.min(p.config.tcp?.receiveBufferBytes ?? 1 << 20, 65535 * 2 ** 14)) / rtt; // bytes per ms at best
  const lineMs = link.rateBps ? ((p.clientBytes + p.serverBytes) * 8 * 1000) / link.rateBps * (mtu / mss) : 0;
  const modelMs = Math.max(segments / rate, lineMs, bytes / windowMs) + rtt * Math.log2(segments + 1);
  // The longest run of failed round trips to expect among the transfer's segments, bursts counted.
  const qStreak = 1 - (1 - streakLossOf(ab)) * (1 - streakLossOf(ba));
  const streak = qStreak === 0 ? 2 : Math.ceil(Math.log(segments * 4) / Math.log(1 / qStreak)) + 4;
  let backoffMs = 0;
  for (let i = 0, t = 1000; i < streak; i++, t = Math.min(t * 2, 120_000)) backoffMs += t;
  return Math.ceil(30_000 + 10 * modelMs + 4 * backoffMs);
}

// ---------------------------------------------------------------- one transfer

export type Closing = 'shutdown-when-sent' | 'shutdown-after-end' | 'close-when-sent' | 'close-after-end';

/** One end of a transfer: sends its data, hashes what it reads, ends as its Closing says. */
export class Endpoint implements TcpHandler {
  conn: TcpConnection | null = null;
  received = 0;
  connected = false;
  ended = false;
  closed = false;
  error: TcpError | null = null;
  private sent = 0;
  private finished = false;
  private readonly hash: Hash = createHash('sha256');

  constructor(readonly data: Uint8Array, private readonly closing: Closing) {}

  start(c: TcpConnection): void {
    this.conn = c;
    this.connected = true;
    this.pump();
  }

  digest(): string {
    return this.hash.copy().digest('hex');
  }

  onConnect(c: TcpConnection): void {
    this.start(c);
  }
  onReadable(c: TcpConnection): void {
    let chunk: Uint8Array | null;
    while ((chunk = c.read()) !== null) {
      this.hash.update(chunk);
      this.received += chunk.length;
    }
  }
  onWritable(): void {
    this.pump();
  }
  onEnd(): void {
    this.ended = true;
    this.finish();
  }
  onClose(_c: TcpConnection, err: TcpError | null): void {
    this.closed = true;
    this.error = err;
  }

  private pump(): void {
    const c = this.conn;
    if (c === null || this.closed) return;
    while (this.sent < this.data.length) {
      const n = c.send(this.data.subarray(this.sent, Math.min(this.data.length, this.sent + 65536)));
      if (n === 0) return;
      this.sent += n;
    }
    this.finish();
  }

  private finish(): void {
    const c = this.conn;
    if (c === null || this.finished || this.closed || this.sent < this.data.length) return;
    const k = this.closing;
    if ((k === 'shutdown-after-end' || k === 'close-after-end') && !this.ended) return;
    this.finished = true;
    if (k === 'close-when-sent' || k === 'close-after-end') c.close();
    else c.shutdown();
  }
}

function closings(p: TransferParams): [Closing, Closing] {
  switch (p.close) {
    case 'client-first': return ['shutdown-when-sent', 'shutdown-after-end'];
    case 'server-first': return ['shutdown-after-end', 'shutdown-when-sent'];
    case 'simultaneous': return ['shutdown-when-sent', 'shutdown-when-sent'];
    case 'client-close': return p.serverBytes === 0 ? ['close-when-sent', 'shutdown-after-end'] : ['close-after-end', 'shutdown-when-sent'];
    case 'server-close': return p.clientBytes === 0 ? ['shutdown-after-end', 'close-when-sent'] : ['shutdown-when-sent', 'close-after-end'];
  }
}

export interface TransferResult {
  params: TransferParams;
  /** What went wrong; empty when every check passed. */
  failures: string[];
  /** For a failed run: what the connections' state says about why (see diagnose()). */
  diagnosis: Diagnosis[];
  boundMs: number;
  /** Virtual time until both ends were closed (or the bound). */
  virtualMs: number;
  framesSent: number;
  retransmissions: number;
  /** With `record`: every trace event of both hosts and every frame the link dropped; and the capture. */
  events: TraceEvent[] | null;
  pcap: Uint8Array | null;
}

const SERVER_PORT = 80;

/** A one-line description of a frame for drop events in the report. */
function frameSummary(frame: Uint8Array, h: Ipv4Header, s: TcpSegment): string {
  if (parseIpv4(frame, h, false) !== null) return `${frame.length} bytes`;
  if (h.protocol !== 6 || parseTcp(frame, h.payloadOffset, h.payloadLength, h.src, h.dst, s, false) !== null) return `IP proto ${h.protocol}, ${frame.length} bytes`;
  return `[${formatTcpFlags(s.flags)}] seq ${s.seq} len ${s.payloadLength}`;
}

/** Trace events of both hosts and a pcap of everything each host sent onto the link, from now on. */
export function recordPair(pr: Pair): { events: TraceEvent[]; note: (frame: Uint8Array, to: 'a' | 'b') => void; finish: () => Uint8Array } {
  const events: TraceEvent[] = [];
  for (const host of [pr.a, pr.b]) host.tracer.on((ev) => events.push(ev));
  const sink = new MemorySink();
  const writer = new CaptureWriter(sink, { linkType: 'ip', flushIntervalMs: 0 });
  const h = new Ipv4Header();
  const s = new TcpSegment();
  for (const link of pr.lab.links.values()) {
    link.onFrame((ev: LinkFrameEvent) => {
      if (ev.stage !== 'send') return;
      writer.packet(ev.frame, ev.time, ev.from === 'a' ? 'out' : 'in');
      if (ev.fate === 'lost' || ev.fate === 'queue-drop' || ev.fate === 'mtu-drop' || ev.fate === 'corrupted') {
        events.push({ type: 'drop', t: ev.time, stack: 'link', layer: 'link', reason: `${ev.fate} from ${ev.from === 'a' ? 'a' : 'b'}: ${frameSummary(ev.frame, h, s)}` });
      }
    });
  }
  return {
    events,
    /** Put a frame delivered to a host without crossing the link (an injected one) into the capture. */
    note: (frame, to) => writer.packet(frame, pr.lab.now(), to === 'a' ? 'in' : 'out'),
    finish: () => { writer.close(); return sink.bytes(); },
  };
}

export interface RunOptions {
  /** Trace both hosts and capture the link (for the report of a failed run). */
  record?: boolean;
  /** Virtual time allowed instead of timeBoundMs(). */
  boundMs?: number;
  /** Devices between a host and its end of the link. */
  wrapA?: (end: Device) => Device;
  wrapB?: (end: Device) => Device;
  /** Called once the hosts and the link exist, before the client connects. */
  setup?: (pr: Pair) => void;
}

/**
 * Run one transfer and check it: both byte streams arrive (SHA-256), both ends
 * close without error within the time bound, nothing is left afterwards (no
 * connection once TIME-WAIT is over, no armed timer), and no frame on the
 * link is larger than its MTU (nor did IP refuse one for it).
 */
export function runTransfer(p: TransferParams, opts: RunOptions = {}): TransferResult {
  const link: PairLinkOptions = { ...p.link };
  if (opts.wrapA !== undefined) link.wrapA = opts.wrapA;
  if (opts.wrapB !== undefined) link.wrapB = opts.wrapB;
  const pr = pair({ seed: p.seed, link, config: p.config, record: false });
  const mtu = p.link.mtu ?? 1500;
  let framesSent = 0;
  let oversize = 0;
  let largest = 0;
  for (const link of pr.lab.links.values()) {
    link.onFrame((ev) => {
      if (ev.stage !== 'send' || ev.fate === 'duplicated') return;
      framesSent++;
      if (ev.frame.length > largest) largest = ev.frame.length;
      if (ev.frame.length > mtu) oversize++;
    });
  }
  const rec = opts.record === true ? recordPair(pr) : null;
  const clientData = payload(p.clientBytes, p.seed);
  const serverData = payload(p.serverBytes, p.seed + 0x5eed);
  const [clientClosing, serverClosing] = closings(p);
  const client = new Endpoint(clientData, clientClosing);
  const server = new Endpoint(serverData, serverClosing);
  let accepted = 0;
  pr.b.tcp.listen({ port: SERVER_PORT }, {
    onConnection(c) {
      if (++accepted > 1) return;
      c.attach(server);
      server.start(c);
    },
  });
  opts.setup?.(pr);
  const failures: string[] = [];
  const boundMs = opts.boundMs ?? timeBoundMs(p);
  let clientConn: TcpConnection | null = null;
  try {
    clientConn = pr.a.tcp.connect({ remoteAddress: ip(B), remotePort: SERVER_PORT }, client);
    const done = pr.lab.runWhile(() => !(client.closed && server.closed), boundMs);
    if (!done) {
      failures.push(`not closed within ${boundMs} ms of virtual time: client ${clientConn.state} (read ${client.received} of ${p.serverBytes}), `
        + `server ${server.conn?.state ?? 'never accepted'} (read ${server.received} of ${p.clientBytes})`);
    }
  } catch (err) {
    failures.push(`threw: ${(err as Error).stack ?? String(err)}`);
  }
  const virtualMs = pr.lab.now();
  const conns = [clientConn, server.conn].filter((c): c is TcpConnection => c !== null);
  const retransmissions = conns.reduce((n, c) => n + c.retransmissions, 0);

  if (accepted !== 1) failures.push(`the server accepted ${accepted} connections`);
  for (const [name, end, expect] of [['client', client, serverData], ['server', server, clientData]] as const) {
    if (end.error !== null) failures.push(`${name} closed with ${end.error.code}: ${end.error.message}`);
    if (end.received !== expect.length || end.digest() !== sha256([expect])) {
      failures.push(`${name} read ${end.received} of ${expect.length} bytes${end.received === expect.length ? ', SHA-256 differs' : ''}`);
    }
    if (end.closed && !end.ended && end.error === null) failures.push(`${name} closed without the peer's FIN`);
  }
  if (oversize > 0) failures.push(`${oversize} frames larger than the MTU ${mtu} (largest ${largest})`);
  for (const host of [pr.a, pr.b]) {
    const refused = host.counter('ipv4-needs-fragmentation-df');
    if (refused > 0) failures.push(`${host.name}: IP refused ${refused} segments too large for the MTU (ipv4-needs-fragmentation-df)`);
  }
  // Afterwards: TIME-WAIT runs out (2 MSL), then nothing is left.
  if (failures.length === 0) {
    const msl = p.config.tcp?.mslMs ?? 30_000;
    const idle = pr.lab.runUntilIdle(2 * msl + 60_000);
    const left = [pr.a, pr.b].flatMap((h) => h.tcp.connections().map((c) => `${h.name} ${c.id} ${c.state}`));
    if (left.length > 0) failures.push(`connections left after TIME-WAIT: ${left.join(', ')}`);
    if (!idle || pr.lab.clock.pending() > 0) {
      failures.push(`timers still armed ${2 * msl + 60_000} ms after both ends closed: ${pr.lab.clock.pending()}, next at ${pr.lab.clock.nextDeadline()}`);
    }
  }
  const pcap = rec === null ? null : rec.finish();
  const diagnosis = failures.length === 0 || clientConn === null || server.conn === null ? [] : diagnose(clientConn, server.conn);
  return { params: p, failures, diagnosis, boundMs, virtualMs, framesSent, retransmissions, events: rec?.events ?? null, pcap };
}

/**
 * Stuck states a failed run's two connections may be in, read from their
 * variables (RFC 9293 names), to tell known stack bugs from new failures:
 *  - silent-rto: data is outstanding and the retransmission timer has fired,
 *    but the peer's window is below both the MSS and half its largest window,
 *    so sender SWS avoidance keeps the retransmission back;
 *  - ack-at-window-edge: an end's SND.MAX is exactly its peer's right window
 *    edge while the peer holds data it has not seen acknowledged: its pure
 *    ACKs (sent at SND.MAX) fall just outside the peer's window;
 *  - sub-mss-window: an end has data to send and a window below one MSS
 *    while its peer has room for a full segment;
 *  - rto-backoff-kept: the timeout is still backed off many times over
 *    although ACKs have made progress since (no RTT sample cleared it).
 */
export type Diagnosis = 'silent-rto' | 'ack-at-window-edge' | 'sub-mss-window' | 'rto-backoff-kept';

function diagnose(a: TcpConnection, b: TcpConnection): Diagnosis[] {
  const found = new Set<Diagnosis>();
  for (const [x, y] of [[a, b], [b, a]]) {
    const mss = x.effectiveMss();
    if (x.retries > 0 && x.flightSize > 0 && x.sndWnd < Math.min(mss, x.maxSndWnd / 2)) found.add('silent-rto');
    if (x.flightSize > 0 && x.sndMax === y.rcvAdvertised && seqLt(x.sndUna, y.rcvNxt)) found.add('ack-at-window-edge');
    if (x.sendQueue.length > x.flightSize && x.sndWnd < mss && x.config.receiveBufferBytes - y.readableLength >= mss) found.add('sub-mss-window');
    if (x.rto.backoff >= x.retries + 4) found.add('rto-backoff-kept');
  }
  return [...found];
}

/** Run a failed transfer again with the tracer and the capture on, and write its pcap and HTML report. */
export function writeTransferArtifacts(p: TransferParams, opts: Omit<RunOptions, 'record'> = {}): { pcap: string; html: string; reproduced: boolean; failures: string[] } {
  const r = runTransfer(p, { ...opts, record: true });
  const paths = writeArtifacts(`transfer-seed-${p.seed}`, `tcplab torture: ${describeTransfer(p)}`, r.events ?? [], r.pcap ?? new Uint8Array(0));
  return { ...paths, reproduced: r.failures.length > 0, failures: r.failures };
}

/** Write NAME.pcap and NAME.html (the report of the trace) under outputDir; returns their paths. */
export function writeArtifacts(name: string, title: string, events: TraceEvent[], pcap: Uint8Array): { pcap: string; html: string } {
  return { pcap: writeOutput(`${name}.pcap`, pcap), html: writeOutput(`${name}.html`, renderReport(events, { title })) };
}

// ---------------------------------------------------------------- a device for tests

/**
 * Sits between a host and its end of the link: counts and shows what the host
 * sends, may replace or drop frames either way (return null to drop), and
 * delivers forged frames to the host at once (`inject`), as if they had
 * arrived on the link.
 */
export class InjectorDevice extends WrapperDevice {
  /** Frames the host has sent. */
  sent = 0;
  /** Sees (and may replace) each frame the host sends. */
  onSend: ((frame: Uint8Array) => Uint8Array | null) | null = null;
  /** Sees (and may replace) each frame that arrives for the host. */
  onReceive: ((frame: Uint8Array) => Uint8Array | null) | null = null;
  private receiver: FrameReceiver | null = null;

  constructor(inner: Device) {
    super(inner);
    inner.attach((frames) => this.receive(frames));
  }

  /** For LabLinkOptions.wrapA/wrapB: an InjectorDevice around the end, with these hooks. */
  static wrap(hooks: Pick<Partial<InjectorDevice>, 'onSend' | 'onReceive'>): (end: Device) => Device {
    return (end) => Object.assign(new InjectorDevice(end), hooks);
  }

  /** A frame may be damaged here. */
  override get checksumOffload(): boolean {
    return false;
  }

  attach(receiver: FrameReceiver): void {
    this.receiver = receiver;
  }

  send(frames: readonly Uint8Array[]): void {
    this.sent += frames.length;
    const f = this.onSend;
    this.inner.send(f === null ? frames : frames.map(f).filter((x): x is Uint8Array => x !== null));
  }

  /** Deliver frames to the host now, as one batch from the link. */
  inject(frames: readonly Uint8Array[]): void {
    this.receiver?.(frames);
  }

  close(): void {
    this.receiver = null;
    this.inner.close();
  }

  private receive(frames: readonly Uint8Array[]): void {
    const f = this.onReceive;
    this.receiver?.(f === null ? frames : frames.map(f).filter((x): x is Uint8Array => x !== null));
  }
}

/**
 * A copy of a frame's bytes. Frames are Buffers under Node, whose slice() is a
 * view of the same memory, not a copy: mangling a "slice" would change the frame
 * in flight (and what the receiver keeps of it).
 */
export function copyOf(frame: Uint8Array): Uint8Array {
  return new Uint8Array(frame);
}

/**
 * Recompute the IPv4 header checksum of an IP packet, and its TCP checksum when
 * it carries TCP and its lengths allow: what a forger does after changing bytes.
 */
export function fixChecksums(packet: Uint8Array): void {
  if (packet.length < 20) return;
  const ihl = (packet[0] & 0x0f) * 4;
  if (ihl < 20 || ihl > packet.length) return;
  setIpv4Checksum(packet, 0);
  const total = Math.min((packet[2] << 8) | packet[3], packet.length);
  const frag = ((packet[6] << 8) | packet[7]) & 0x3fff;
  if (packet[9] !== IPPROTO_TCP || frag !== 0 || total - ihl < 20) return;
  setTcpChecksum(packet, ihl, total - ihl, readU32(packet, 12), readU32(packet, 16));
}
