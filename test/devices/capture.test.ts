// Packet capture: real simulated TCP exchanges recorded through CaptureDevice,
// read back by tcpdump (pcap and pcapng) and by a small independent parser of
// both formats, compared with what the link itself saw.

import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../../tools/lab/lab';
import { Link, type LinkOptions } from '../../devices/link';
import { SeededRandom } from '../../stack/random';
import { VirtualClock } from '../../stack/time/virtual-clock';
import type { Device, FrameReceiver, LinkType } from '../../stack/device';
import type { Stack } from '../../stack/stack';
import { Ipv4Header, parseIpv4 } from '../../stack/wire/ipv4';
import { TcpSegment, parseTcp, formatTcpFlags } from '../../stack/wire/tcp';
import { writeEthernetHeader, ETHERTYPE_IPV4 } from '../../stack/wire/ethernet';
import { CaptureDevice, CaptureWriter, MemorySink, type CaptureFormat, type CaptureSink } from '../../devices/capture';
import { copyBytes } from '../../stack/buffers';
import { Recorder, ip, payload, sendAll } from '../helpers/sim';
import type { TcpConnection } from '../../stack/tcp/connection';

// ---------------------------------------------------------------------------
// tcpdump
// ---------------------------------------------------------------------------

function findTcpdump(): string | null {
  for (const candidate of ['tcpdump', '/usr/sbin/tcpdump', '/usr/bin/tcpdump']) {
    const r = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
    if (r.error === undefined && r.status === 0) return candidate;
  }
  return null;
}

const TCPDUMP = findTcpdump();
if (TCPDUMP === null) console.log('capture.test.ts: tcpdump is not installed (apt-get install tcpdump); the tests that read captures with it are skipped');
/** Tests that need tcpdump; skipped (with the reason printed above) only where it is missing. */
const withTcpdump = TCPDUMP === null ? test.skip : test;

interface DumpLine {
  /** The timestamp as tcpdump prints it, e.g. "0.010000". */
  time: string;
  flags: string;
  seq: number | null;
  seqEnd: number | null;
  ack: number | null;
  win: number | null;
  len: number;
  src: string;
  dst: string;
  text: string;
}

interface Dump {
  header: string;
  lines: DumpLine[];
}

/** Run tcpdump on a file path or on capture bytes (fed on stdin). */
function tcpdump(input: string | Uint8Array, extra: string[] = []): Dump {
  const file = typeof input === 'string' ? input : '-';
  const r = spawnSync(TCPDUMP!, ['-r', file, '-nn', '-tt', '-v', '-S', ...extra], {
    input: typeof input === 'string' ? undefined : input,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`tcpdump exited ${r.status}: ${r.stderr}`);
  // With -v each packet is a header line plus indented continuation lines.
  const packets: string[] = [];
  for (const line of r.stdout.split('\n')) {
    if (line === '') continue;
    if (/^\s/.test(line) && packets.length > 0) packets[packets.length - 1] += '\n' + line;
    else packets.push(line);
  }
  return { header: r.stderr.trim(), lines: packets.map(parseDumpLine) };
}

function parseDumpLine(text: string): DumpLine {
  const time = /^(\d+\.\d+)/.exec(text)?.[1] ?? '';
  const flags = /Flags \[([^\]]*)\]/.exec(text)?.[1] ?? '';
  const seq = /, seq (\d+)(?::(\d+))?/.exec(text);
  const ack = /, ack (\d+)/.exec(text);
  const win = /, win (\d+)/.exec(text);
  const ends = /(\d+\.\d+\.\d+\.\d+)\.\d+ > (\d+\.\d+\.\d+\.\d+)\.\d+:/.exec(text);
  const lens = [...text.matchAll(/length (\d+)/g)];
  return {
    time,
    flags,
    seq: seq === null ? null : Number(seq[1]),
    seqEnd: seq?.[2] === undefined ? null : Number(seq[2]),
    ack: ack === null ? null : Number(ack[1]),
    win: win === null ? null : Number(win[1]),
    len: lens.length === 0 ? -1 : Number(lens[lens.length - 1]![1]),
    src: ends?.[1] ?? '',
    dst: ends?.[2] ?? '',
    text,
  };
}

// ---------------------------------------------------------------------------
// An independent reader of both formats (little- and big-endian)
// ---------------------------------------------------------------------------

interface FileRecord {
  sec: number;
  /** Sub-second part in the file's unit (us for pcap, ns for our pcapng). */
  frac: number;
  /** Nanoseconds since the epoch, as a bigint (exact). */
  ns: bigint;
  incl: number;
  orig: number;
  data: Uint8Array;
  /** pcapng epb_flags direction: 'in', 'out', or null. */
  dir: 'in' | 'out' | null;
}

interface ParsedFile {
  format: CaptureFormat;
  linkType: number;
  snaplen: number;
  ifName: string | null;
  tsresol: number | null;
  userAppl: string | null;
  records: FileRecord[];
}

function readOptions(v: DataView, p: number, end: number, le: boolean): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  while (p + 4 <= end) {
    const code = v.getUint16(p, le);
    const len = v.getUint16(p + 2, le);
    if (code === 0) break;
    out.set(code, new Uint8Array(v.buffer, v.byteOffset + p + 4, len));
    p += 4 + ((len + 3) & ~3);
  }
  return out;
}

function parseCaptureFile(bytes: Uint8Array): ParsedFile {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dec = new TextDecoder();
  const magicLE = v.getUint32(0, true);
  if (magicLE === 0xa1b2c3d4 || v.getUint32(0, false) === 0xa1b2c3d4) {
    const le = magicLE === 0xa1b2c3d4;
    const records: FileRecord[] = [];
    let p = 24;
    while (p < bytes.length) {
      const sec = v.getUint32(p, le);
      const frac = v.getUint32(p + 4, le);
      const incl = v.getUint32(p + 8, le);
      const orig = v.getUint32(p + 12, le);
      records.push({ sec, frac, ns: BigInt(sec) * 1_000_000_000n + BigInt(frac) * 1000n, incl, orig, data: bytes.subarray(p + 16, p + 16 + incl), dir: null });
      p += 16 + incl;
    }
    if (p !== bytes.length) throw new Error('pcap: trailing garbage');
    return { format: 'pcap', linkType: v.getUint32(20, le), snaplen: v.getUint32(16, le), ifName: null, tsresol: null, userAppl: null, records };
  }
  if (magicLE !== 0x0a0d0d0a) throw new Error(`unknown capture magic ${magicLE.toString(16)}`);
  const le = v.getUint32(8, true) === 0x1a2b3c4d;
  const out: ParsedFile = { format: 'pcapng', linkType: -1, snaplen: -1, ifName: null, tsresol: null, userAppl: null, records: [] };
  let p = 0;
  while (p < bytes.length) {
    const type = v.getUint32(p, le);
    const len = v.getUint32(p + 4, le);
    if (len % 4 !== 0 || v.getUint32(p + len - 4, le) !== len) throw new Error(`pcapng: bad block length at ${p}`);
    if (type === 0x0a0d0d0a) {
      const opts = readOptions(v, p + 24, p + len - 4, le);
      const appl = opts.get(4);
      if (appl !== undefined) out.userAppl = dec.decode(appl);
    } else if (type === 1) {
      out.linkType = v.getUint16(p + 8, le);
      out.snaplen = v.getUint32(p + 12, le);
      const opts = readOptions(v, p + 16, p + len - 4, le);
      const name = opts.get(2);
      if (name !== undefined) out.ifName = dec.decode(name);
      const res = opts.get(9);
      if (res !== undefined) out.tsresol = res[0]!;
    } else if (type === 6) {
      const high = v.getUint32(p + 12, le);
      const low = v.getUint32(p + 16, le);
      const incl = v.getUint32(p + 20, le);
      const orig = v.getUint32(p + 24, le);
      const ts = (BigInt(high) << 32n) | BigInt(low);
      const opts = readOptions(v, p + 28 + ((incl + 3) & ~3), p + len - 4, le);
      const flags = opts.get(2);
      let dir: 'in' | 'out' | null = null;
      if (flags !== undefined) {
        const f = new DataView(flags.buffer, flags.byteOffset, 4).getUint32(0, le) & 3;
        dir = f === 1 ? 'in' : f === 2 ? 'out' : null;
      }
      out.records.push({
        sec: Number(ts / 1_000_000_000n), frac: Number(ts % 1_000_000_000n), ns: ts, incl, orig,
        data: bytes.subarray(p + 28, p + 28 + incl), dir,
      });
    }
    p += len;
  }
  return out;
}

// ---------------------------------------------------------------------------
// A two-host lab whose interfaces are wrapped in CaptureDevices
// ---------------------------------------------------------------------------

interface LinkFrame {
  time: number;
  bytes: Uint8Array;
  /** Whether that host's capture was running when the frame crossed its device. */
  capturing: boolean;
}

interface Truth {
  /** Frames each host sent (including the ones the link lost), in order. */
  sentBy: Record<'a' | 'b', LinkFrame[]>;
  /** Frames delivered to each host, in order. */
  deliveredTo: Record<'a' | 'b', LinkFrame[]>;
}

interface Net {
  lab: Lab;
  a: Stack;
  b: Stack;
  link: Link;
  ca: CaptureDevice;
  cb: CaptureDevice;
  truth: Truth;
}

function net(opts: { format?: CaptureFormat; link?: LinkOptions; epochMs?: number; snaplen?: number; batchBytes?: number } = {}): Net {
  const lab = new Lab({ seed: 1, record: false });
  const a = lab.host('a');
  const b = lab.host('b');
  const link = new Link(lab.clock, new SeededRandom(1), { nameA: 'a0', nameB: 'b0', ...(opts.link ?? {}) });
  const capOpts = { format: opts.format, epochMs: opts.epochMs, snaplen: opts.snaplen, batchBytes: opts.batchBytes };
  const ca = new CaptureDevice(link.a, lab.clock, capOpts);
  const cb = new CaptureDevice(link.b, lab.clock, capOpts);
  a.addInterface(ca, { address: '10.0.0.1/24' });
  b.addInterface(cb, { address: '10.0.0.2/24' });
  const truth: Truth = { sentBy: { a: [], b: [] }, deliveredTo: { a: [], b: [] } };
  const capturing = (host: 'a' | 'b'): boolean => (host === 'a' ? ca : cb).capturing;
  // Copies of the frames (copyBytes: they are Buffers, whose slice() is a view).
  link.onFrame((ev) => {
    if (ev.stage === 'send') {
      truth.sentBy[ev.from].push({ time: ev.time, bytes: copyBytes(ev.frame), capturing: capturing(ev.from) });
    } else if (ev.fate === 'delivered' || ev.fate === 'duplicated' || ev.fate === 'corrupted' || ev.fate === 'reordered') {
      const to = ev.from === 'a' ? 'b' : 'a';
      truth.deliveredTo[to].push({ time: ev.time, bytes: copyBytes(ev.frame), capturing: capturing(to) });
    }
  });
  return { lab, a, b, link, ca, cb, truth };
}

interface Decoded {
  src: string;
  dst: string;
  flags: string;
  seq: number;
  ack: number;
  win: number;
  len: number;
}

function decode(bytes: Uint8Array): Decoded {
  const h = new Ipv4Header();
  const s = new TcpSegment();
  if (parseIpv4(bytes, h, false) !== null) throw new Error('not IPv4');
  if (parseTcp(bytes, h.payloadOffset, h.payloadLength, h.src, h.dst, s, false) !== null) throw new Error('not TCP');
  const dotted = (x: number): string => `${x >>> 24}.${(x >>> 16) & 255}.${(x >>> 8) & 255}.${x & 255}`;
  return { src: dotted(h.src), dst: dotted(h.dst), flags: formatTcpFlags(s.flags), seq: s.seq, ack: s.ack, win: s.window, len: s.payloadLength };
}

/** tcpdump -tt's rendering of a virtual time in ms (6 decimals, or 9 with nano precision), after an integral epochMs. */
function ttTime(ms: number, digits = 6, epochMs = 0): string {
  const sub = digits === 9 ? BigInt(Math.round(ms * 1e6)) : BigInt(Math.round(ms * 1e3)) * 1000n;
  const totalNs = BigInt(epochMs) * 1_000_000n + sub;
  const sec = totalNs / 1_000_000_000n;
  const frac = (totalNs % 1_000_000_000n) / (digits === 9 ? 1n : 1000n);
  return `${sec}.${frac.toString().padStart(digits, '0')}`;
}

/**
 * Compare a capture as tcpdump printed it with the frames that crossed the
 * link at that host. (Read pcapng files with NANO: tcpdump truncates
 * nanoseconds when it prints microseconds.)
 */
function assertMatchesLink(t: import('ava').ExecutionContext, dump: Dump, host: 'a' | 'b', truth: Truth, window?: { after: number; upTo: number }): void {
  // Frames that crossed while the capture ran, and (for one window of several) within its times.
  const inWindow = (x: LinkFrame): boolean => x.capturing && (window === undefined || (x.time >= window.after && x.time <= window.upTo));
  const sent = truth.sentBy[host].filter(inWindow);
  const received = truth.deliveredTo[host].filter(inWindow);
  const self = host === 'a' ? '10.0.0.1' : '10.0.0.2';
  const outs = dump.lines.filter((l) => l.src === self);
  const ins = dump.lines.filter((l) => l.src !== self);
  t.is(outs.length, sent.length, `${host}: packets sent`);
  t.is(ins.length, received.length, `${host}: packets received`);
  const check = (lines: DumpLine[], frames: LinkFrame[], what: string): void => {
    for (let i = 0; i < Math.min(lines.length, frames.length); i++) {
      const line = lines[i]!;
      const f = frames[i]!;
      const d = decode(f.bytes);
      const where = `${host} ${what} #${i}: ${line.text}`;
      t.is(line.time, ttTime(f.time, line.time.length - line.time.indexOf('.') - 1), where);
      t.is(line.flags, d.flags, where);
      t.is(line.dst, d.dst, where);
      t.is(line.win, d.win, where);
      t.is(line.len, d.len, where);
      if (line.seq !== null) t.is(line.seq, d.seq, where);
      if (line.seqEnd !== null) t.is(line.seqEnd, (d.seq + d.len) >>> 0, where);
      if (d.flags.includes('.')) t.is(line.ack, d.ack, where);
      t.true(/cksum 0x[0-9a-f]+ \(correct\)/.test(line.text), `${where}: tcp checksum`);
    }
  };
  check(outs, sent, 'out');
  check(ins, received, 'in');
  // Times never go backwards in a capture.
  for (let i = 1; i < dump.lines.length; i++) t.true(Number(dump.lines[i]!.time) >= Number(dump.lines[i - 1]!.time));
}

function serve(b: Stack, port = 80): TcpConnection[] {
  const conns: TcpConnection[] = [];
  b.tcp.listen({ port }, {
    onConnection(c) {
      conns.push(c);
      c.attach({
        onReadable(conn) {
          while (conn.read() !== null);
        },
        onEnd(conn) {
          conn.shutdown();
        },
      });
    },
  });
  return conns;
}

function hello(a: Stack, text = 'hello', port = 80): TcpConnection {
  return a.tcp.connect({ remoteAddress: ip('10.0.0.2'), remotePort: port }, {
    onConnect(c) {
      c.send(new TextEncoder().encode(text));
      c.shutdown();
    },
  });
}

/** tcpdump option to print the nanoseconds of a pcapng capture. */
const NANO = ['--time-stamp-precision=nano'];

let tmp: string | null = null;
function tmpFile(name: string): string {
  if (tmp === null) tmp = mkdtempSync(join(tmpdir(), 'tcplab-capture-'));
  return join(tmp, name);
}
test.after.always(() => {
  if (tmp !== null) rmSync(tmp, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

for (const format of ['pcap', 'pcapng'] as const) {
  withTcpdump(`${format}: a whole connection as tcpdump reads it from both ends, at the virtual times`, (t) => {
    const n = net({ format, link: { delayMs: 10 } });
    n.ca.start(tmpFile(`hello-a.${format}`));
    n.cb.start();
    serve(n.b);
    const conn = hello(n.a);
    n.lab.runUntilIdle();
    n.ca.stop();
    n.cb.stop();
    t.is(conn.state, 'CLOSED');

    const extra = format === 'pcapng' ? NANO : [];
    const da = tcpdump(tmpFile(`hello-a.${format}`), extra);
    const db = tcpdump(n.cb.bytes(), extra);
    t.regex(da.header, /link-type RAW \(Raw IP\), snapshot length 262144/);
    t.regex(db.header, /link-type RAW \(Raw IP\)/);

    // The handshake, seen from each end: 10 ms each way.
    const z = format === 'pcapng' ? '000' : '';
    const [syn, synAck, ack] = da.lines;
    t.deepEqual([syn!.time, syn!.flags, syn!.src], [`0.000000${z}`, 'S', '10.0.0.1']);
    t.deepEqual([synAck!.time, synAck!.flags, synAck!.src], [`0.020000${z}`, 'S.', '10.0.0.2']);
    t.deepEqual([ack!.time, ack!.flags], [`0.020000${z}`, '.']);
    t.is(synAck!.ack, (syn!.seq! + 1) >>> 0);
    t.is(ack!.ack, (synAck!.seq! + 1) >>> 0);
    t.deepEqual(db.lines.slice(0, 3).map((l) => `${l.time} ${l.flags}`), [`0.010000${z} S`, `0.010000${z} S.`, `0.030000${z} .`]);
    t.is(db.lines[0]!.seq, syn!.seq);
    t.is(db.lines[1]!.seq, synAck!.seq);

    // The data: "hello" with PSH, seq ISN+1:ISN+6, then both FINs, each acknowledged.
    const data = da.lines.find((l) => l.flags === 'P.');
    t.truthy(data);
    t.is(data!.seq, (syn!.seq! + 1) >>> 0);
    t.is(data!.seqEnd, (syn!.seq! + 6) >>> 0);
    t.is(data!.len, 5);
    const finA = da.lines.find((l) => l.flags.startsWith('F') && l.src === '10.0.0.1');
    const finB = da.lines.find((l) => l.flags.startsWith('F') && l.src === '10.0.0.2');
    t.is(finA!.seq, (syn!.seq! + 6) >>> 0);
    t.is(finB!.seq, (synAck!.seq! + 1) >>> 0);
    const last = da.lines[da.lines.length - 1]!;
    t.deepEqual([last.flags, last.ack], ['.', (synAck!.seq! + 2) >>> 0]);

    // Everything else, packet by packet, against what crossed the link.
    assertMatchesLink(t, da, 'a', n.truth);
    assertMatchesLink(t, db, 'b', n.truth);
    t.is(n.ca.packets, da.lines.length);
  });
}

withTcpdump('pcap and pcapng of the same run read the same in tcpdump', (t) => {
  const run = (format: CaptureFormat): { dump: Dump; bytes: Uint8Array } => {
    const n = net({ format, link: { delayMs: 3 } });
    n.ca.start();
    serve(n.b);
    hello(n.a, 'x'.repeat(3000));
    n.lab.runUntilIdle();
    const bytes = n.ca.bytes();
    return { dump: tcpdump(bytes), bytes };
  };
  const pcap = run('pcap');
  const ng = run('pcapng');
  t.true(pcap.dump.lines.length > 6);
  t.deepEqual(ng.dump.lines.map((l) => l.text), pcap.dump.lines.map((l) => l.text));
  t.not(Buffer.from(ng.bytes).toString('hex'), Buffer.from(pcap.bytes).toString('hex'));
});

withTcpdump('a refused connection: [S] answered by [R.] with seq 0 and ack ISN+1', (t) => {
  const n = net({ link: { delayMs: 10 } });
  n.ca.start();
  n.cb.start();
  const rec = new Recorder();
  n.a.tcp.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 81 }, rec);
  n.lab.runUntilIdle();
  t.is(rec.error?.code, 'ECONNREFUSED');
  const da = tcpdump(n.ca.bytes());
  t.deepEqual(da.lines.map((l) => `${l.time} ${l.flags}`), ['0.000000 S', '0.020000 R.']);
  const [syn, rst] = da.lines;
  t.is(rst!.seq, 0);
  t.is(rst!.ack, (syn!.seq! + 1) >>> 0);
  t.is(rst!.win, 0);
  const db = tcpdump(n.cb.bytes());
  t.deepEqual(db.lines.map((l) => `${l.time} ${l.flags}`), ['0.010000 S', '0.010000 R.']);
  assertMatchesLink(t, da, 'a', n.truth);
  assertMatchesLink(t, db, 'b', n.truth);
});

withTcpdump('pcapng over a lossy link: every frame each host sent (lost ones too) and received, with its direction', (t) => {
  const n = net({ format: 'pcapng', link: { delayMs: 5, loss: 0.05, rateBps: 20e6 } });
  n.ca.start();
  n.cb.start();
  const got: Recorder[] = [];
  n.b.tcp.listen({ port: 80 }, {
    onConnection(c) {
      const r = new Recorder();
      got.push(r);
      c.attach(r);
    },
  });
  const data = payload(120_000);
  const rec = new Recorder();
  rec.onConnect = (c) => sendAll(c, data, rec, 'shutdown');
  n.a.tcp.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 80 }, rec);
  n.lab.runUntilIdle();
  t.is(got[0]!.bytes, data.length);
  t.true(n.link.stats.aToB.lost + n.link.stats.bToA.lost > 0, 'the link lost something');

  const bytesA = n.ca.bytes();
  const da = tcpdump(bytesA, NANO);
  const db = tcpdump(n.cb.bytes(), NANO);
  t.is(da.lines.length, n.link.stats.aToB.sent + n.link.stats.bToA.delivered);
  t.is(db.lines.length, n.link.stats.bToA.sent + n.link.stats.aToB.delivered);
  t.true(da.lines.some((l) => l.flags === '.' && l.len > 0 || l.flags === 'P.'));
  assertMatchesLink(t, da, 'a', n.truth);
  assertMatchesLink(t, db, 'b', n.truth);

  // The file itself: one interface named after the device, ns resolution, directions.
  const file = parseCaptureFile(bytesA);
  t.is(file.format, 'pcapng');
  t.is(file.linkType, 101);
  t.is(file.ifName, 'a0');
  t.is(file.tsresol, 9);
  t.is(file.userAppl, 'tcplab');
  t.is(file.records.length, da.lines.length);
  for (const r of file.records) t.is(r.dir, decode(r.data).src === '10.0.0.1' ? 'out' : 'in');
  t.is(file.records.filter((r) => r.dir === 'out').length, n.link.stats.aToB.sent);
});

withTcpdump('start and stop while running capture only that window; each start begins a new file', (t) => {
  const n = net({ link: { delayMs: 2 } });
  serve(n.b);
  const conn = n.a.tcp.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 80 }, new Recorder());
  n.lab.run(50); // handshake done, not captured
  t.is(conn.state, 'ESTABLISHED');
  t.false(n.ca.capturing);
  const t0 = n.lab.now();
  n.ca.start();
  t.true(n.ca.capturing);
  conn.send(payload(4000));
  n.lab.run(50);
  const t1 = n.lab.now();
  n.ca.stop();
  t.false(n.ca.capturing);
  const first = n.ca.bytes();
  conn.send(payload(3000, 9)); // not captured
  n.lab.run(50);
  const t2 = n.lab.now();
  n.ca.start();
  conn.shutdown();
  n.lab.runUntilIdle();
  n.ca.stop();
  const second = n.ca.bytes();

  const d1 = tcpdump(first);
  t.true(d1.lines.length >= 4);
  t.false(d1.lines.some((l) => l.flags.includes('S') || l.flags.includes('F')));
  t.is(d1.lines.reduce((sum, l) => sum + (l.src === '10.0.0.1' ? l.len : 0), 0), 4000);
  assertMatchesLink(t, d1, 'a', n.truth, { after: t0, upTo: t1 });
  t.is(parseCaptureFile(first).records.length, d1.lines.length);

  const d2 = tcpdump(second);
  t.true(d2.lines.some((l) => l.flags.startsWith('F')));
  t.false(d2.lines.some((l) => l.flags === 'P.' && l.len === 3000));
  assertMatchesLink(t, d2, 'a', n.truth, { after: t2, upTo: Infinity });
  t.true(d2.lines.every((l) => Number(l.time) * 1000 >= t2));
  t.true(d1.lines.every((l) => Number(l.time) * 1000 >= t0 && Number(l.time) * 1000 <= t1));
  t.is(n.ca.packets, d2.lines.length);
});

withTcpdump('a file capture is written in batches and equals the in-memory capture byte for byte', (t) => {
  const run = (target: 'memory' | string, sink?: CaptureSink, batchBytes = 4096): CaptureDevice => {
    const n = net({ link: { delayMs: 1 }, batchBytes });
    if (sink !== undefined) n.ca.start(sink);
    else if (target === 'memory') n.ca.start();
    else n.ca.start(target);
    serve(n.b);
    const conn = n.a.tcp.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 80 }, {
      onConnect: (c) => {
        c.send(payload(50_000));
        c.shutdown();
      },
      onWritable: () => undefined,
    });
    n.lab.runUntilIdle();
    t.is(conn.state, 'CLOSED');
    n.ca.stop();
    return n.ca;
  };
  const mem = run('memory').bytes();
  const path = tmpFile('batched.pcap');
  const fileCap = run(path);
  const onDisk = new Uint8Array(readFileSync(path));
  t.is(Buffer.compare(onDisk, mem), 0);
  t.is(tcpdump(path).lines.length, fileCap.packets);

  // The sink sees one write per full batch, not one per packet.
  const writes: number[] = [];
  const counting: CaptureSink = { write: (d) => void writes.push(d.length) };
  const counted = run('memory', counting);
  t.true(counted.packets > 40);
  t.is(writes.reduce((a, b) => a + b, 0), mem.length);
  t.true(writes.length > 1);
  t.true(writes.length <= Math.ceil(mem.length / (4096 - 1600)) + 1, `${writes.length} writes for ${counted.packets} packets`);
  // With the default 64 KiB batch, the whole run (about 60 KB) is one or two writes.
  writes.length = 0;
  const big = run('memory', counting, 64 * 1024);
  t.is(big.packets, counted.packets);
  t.true(writes.length <= 2, `${writes.length} writes for ${big.packets} packets`);
});

withTcpdump('timestamps: virtual time plus epochMs, microseconds in pcap and nanoseconds in pcapng', (t) => {
  const epochMs = 1_700_000_000_000;
  const delayMs = 1.2345678;
  for (const format of ['pcap', 'pcapng'] as const) {
    const n = net({ format, link: { delayMs }, epochMs });
    n.ca.start();
    n.cb.start();
    const rec = new Recorder();
    n.a.tcp.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 81 }, rec);
    n.lab.runUntilIdle();
    const nano = format === 'pcapng';
    const extra = nano ? ['--time-stamp-precision=nano'] : [];
    const da = tcpdump(n.ca.bytes(), extra);
    const db = tcpdump(n.cb.bytes(), extra);
    const digits = nano ? 9 : 6;
    const synAckAt = n.truth.deliveredTo.a[0]!.time;
    t.deepEqual(da.lines.map((l) => l.time), [ttTime(0, digits, epochMs), ttTime(synAckAt, digits, epochMs)], format);
    t.deepEqual(db.lines.map((l) => l.time), [ttTime(delayMs, digits, epochMs), ttTime(delayMs, digits, epochMs)], format);
    t.is(da.lines[1]!.time, nano ? '1700000000.002469136' : '1700000000.002469', format);
    t.is(db.lines[0]!.time, nano ? '1700000000.001234568' : '1700000000.001235', format);
  }
});

test('timestamps far from the epoch keep every nanosecond in pcapng', (t) => {
  const sink = new MemorySink();
  const w = new CaptureWriter(sink, { format: 'pcapng', linkType: 'ip', epochMs: 4_000_000_000_000 });
  const frame = new Uint8Array(20);
  w.packet(frame, 0, 'out');
  w.packet(frame, 0.000001, 'in');
  w.packet(frame, 999.9999999, 'out'); // rounds up into the next second
  w.packet(frame, 86_400_000.5, 'out');
  w.close();
  const recs = parseCaptureFile(sink.bytes()).records;
  t.deepEqual(recs.map((r) => r.ns), [
    4_000_000_000_000_000_000n,
    4_000_000_000_000_000_001n,
    4_000_000_001_000_000_000n,
    4_000_086_400_000_500_000n,
  ]);
  t.deepEqual(recs.map((r) => r.dir), ['out', 'in', 'out', 'out']);
  const pcap = new MemorySink();
  const wp = new CaptureWriter(pcap, { format: 'pcap', linkType: 'ip' });
  wp.packet(frame, 0.0004, 'out'); // 0.4 us rounds down
  wp.packet(frame, 1999.9996, 'out'); // rounds up to 2.000000
  wp.close();
  t.deepEqual(parseCaptureFile(pcap.bytes()).records.map((r) => [r.sec, r.frac]), [[0, 0], [2, 0]]);
});

withTcpdump('snaplen truncates what is kept and records the original length', (t) => {
  const n = net({ snaplen: 54, format: 'pcapng', link: { delayMs: 1 } });
  n.ca.start();
  serve(n.b);
  hello(n.a, 'y'.repeat(500));
  n.lab.runUntilIdle();
  const bytes = n.ca.bytes();
  const file = parseCaptureFile(bytes);
  t.is(file.snaplen, 54);
  t.true(file.records.length >= 6);
  for (const r of file.records) {
    t.is(r.incl, Math.min(54, r.orig));
    t.is(r.data.length, r.incl);
  }
  t.true(file.records.some((r) => r.orig === 20 + 32 + 500));
  const d = tcpdump(bytes);
  t.regex(d.header, /snapshot length 54/);
  t.is(d.lines.length, file.records.length);
});

withTcpdump('Ethernet devices are captured as LINKTYPE_ETHERNET with their MAC headers', (t) => {
  // A real SYN to carry: the first packet of a simulated connection.
  const n = net();
  n.ca.start();
  n.a.tcp.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 80 }, new Recorder());
  n.lab.run(1);
  const ipPacket = parseCaptureFile(n.ca.bytes()).records[0]!.data;

  const clock = new VirtualClock();
  const macA = Uint8Array.of(0x02, 0, 0, 0, 0, 0x0a);
  const macB = Uint8Array.of(0x02, 0, 0, 0, 0, 0x0b);
  const link = new Link(clock, new SeededRandom(2), { linkType: 'ethernet', macA, macB, delayMs: 4, nameA: 'tap0' });
  const cap = new CaptureDevice(link.a, clock, { format: 'pcapng' });
  const fromB: Uint8Array[] = [];
  cap.attach((frames) => fromB.push(...frames));
  link.b.attach(() => undefined);
  const frame = (src: Uint8Array, dst: Uint8Array): Uint8Array => {
    const f = new Uint8Array(14 + ipPacket.length);
    writeEthernetHeader(f, 0, dst, src, ETHERTYPE_IPV4);
    f.set(ipPacket, 14);
    return f;
  };
  cap.start();
  t.is(cap.linkType, 'ethernet');
  t.deepEqual(cap.mac, macA);
  cap.send([frame(macA, macB)]);
  link.b.send([frame(macB, macA)]);
  clock.runUntilIdle();
  t.is(fromB.length, 1);
  const d = tcpdump(cap.bytes(), ['-e']);
  t.regex(d.header, /link-type EN10MB \(Ethernet\)/);
  t.is(d.lines.length, 2);
  t.regex(d.lines[0]!.text, /^0\.000000 02:00:00:00:00:0a > 02:00:00:00:00:0b, ethertype IPv4 \(0x0800\), length 74: /);
  t.regex(d.lines[1]!.text, /^0\.004000 02:00:00:00:00:0b > 02:00:00:00:00:0a, ethertype IPv4/);
  t.is(d.lines[0]!.flags, 'S');
  const file = parseCaptureFile(cap.bytes());
  t.is(file.linkType, 1);
  t.is(file.ifName, 'tap0');
  t.deepEqual(file.records.map((r) => r.dir), ['out', 'in']);
});

// ---------------------------------------------------------------------------
// The device contract, without tcpdump
// ---------------------------------------------------------------------------

class ScriptedDevice implements Device {
  readonly name = 'tun9';
  readonly mtu = 1400;
  readonly mac = null;
  readonly linkType: LinkType = 'ip';
  sendCalls: (readonly Uint8Array[])[] = [];
  closed = false;
  receiver: FrameReceiver | null = null;
  attach(receiver: FrameReceiver): void {
    this.receiver = receiver;
  }
  send(frames: readonly Uint8Array[]): void {
    this.sendCalls.push(frames);
  }
  close(): void {
    this.closed = true;
  }
}

test('MemorySink keeps copies, also of Buffers (whose slice() is a view), and bytes() is the caller\'s to keep', (t) => {
  const sink = new MemorySink();
  const reused = Buffer.from([1, 2, 3, 4]);
  sink.write(reused);
  reused.fill(9); // a sink's data may be reused once write() returns
  t.deepEqual(Array.from(sink.bytes()), [1, 2, 3, 4]);
  sink.bytes().fill(0);
  t.deepEqual(Array.from(sink.bytes()), [1, 2, 3, 4]);
  sink.write(reused.subarray(0, 2));
  t.deepEqual(Array.from(sink.bytes()), [1, 2, 3, 4, 9, 9]);
});

test('transparent while not capturing: same batches, same frame objects, nothing recorded', (t) => {
  const clock = new VirtualClock();
  const inner = new ScriptedDevice();
  const cap = new CaptureDevice(inner, clock);
  t.is(cap.name, 'tun9');
  t.is(cap.mtu, 1400);
  t.is(cap.mac, null);
  t.is(cap.linkType, 'ip');
  const got: (readonly Uint8Array[])[] = [];
  cap.attach((frames) => got.push(frames));
  const batch = [new Uint8Array(40), new Uint8Array(60)];
  cap.send(batch);
  t.is(inner.sendCalls[0], batch);
  const incoming = [new Uint8Array(30)];
  inner.receiver!(incoming);
  t.is(got[0], incoming);
  t.false(cap.capturing);
  t.is(cap.packets, 0);
  t.is(cap.bytes().length, 0);

  cap.start();
  cap.send(batch);
  inner.receiver!(incoming);
  t.is(inner.sendCalls[1], batch);
  t.is(got[1], incoming);
  t.is(cap.packets, 3);
  const recs = parseCaptureFile(cap.bytes()).records;
  t.deepEqual(recs.map((r) => r.orig), [40, 60, 30]);
  t.is(cap.bytes().length, 24 + 3 * 16 + 130); // readable while running
  cap.stop();
  cap.send(batch);
  t.is(cap.packets, 3);
});

test('start, stop and close: misuse is reported, close ends the capture and the inner device', (t) => {
  const clock = new VirtualClock();
  const inner = new ScriptedDevice();
  t.throws(() => new CaptureDevice(inner, clock, { snaplen: 0 }), { instanceOf: RangeError });
  t.throws(() => new CaptureDevice(inner, clock, { format: 'erf' as CaptureFormat }), { instanceOf: RangeError });
  const cap = new CaptureDevice(inner, clock, { format: 'pcapng' });
  cap.stop(); // nothing to stop
  cap.start();
  t.throws(() => cap.start(), { message: /already running/ });
  cap.send([new Uint8Array(20)]);
  cap.close();
  t.true(inner.closed);
  t.false(cap.capturing);
  t.is(parseCaptureFile(cap.bytes()).records.length, 1);
  t.throws(() => cap.start(), { message: /closed/ });
  const fileCap = new CaptureDevice(new ScriptedDevice(), clock);
  fileCap.start(tmpFile('closed.pcap'));
  fileCap.send([new Uint8Array(20)]);
  fileCap.close(); // the file is complete without stop()
  t.is(parseCaptureFile(new Uint8Array(readFileSync(tmpFile('closed.pcap')))).records.length, 1);
  t.throws(() => fileCap.bytes(), { message: /not written to memory/ });
  t.throws(() => new CaptureDevice(new ScriptedDevice(), clock).start(join(tmpFile('no-such-dir'), 'x', 'y.pcap')), { code: 'ENOENT' });
});

test('a failing sink never breaks the traffic; stop() reports the error', (t) => {
  const n = net({ link: { delayMs: 1 }, batchBytes: 256 });
  let calls = 0;
  n.ca.start({
    write: () => {
      calls++;
      throw new Error('disk full');
    },
  });
  serve(n.b);
  const conn = hello(n.a, 'z'.repeat(2000));
  n.lab.runUntilIdle();
  t.is(conn.state, 'CLOSED');
  t.is(calls, 1); // writing stops at the first error
  t.is(n.ca.error?.message, 'disk full');
  t.throws(() => n.ca.stop(), { message: 'disk full' });
  t.false(n.ca.capturing);
});

test('the capture file for a path is created or truncated at start', (t) => {
  const path = tmpFile('truncate.pcap');
  const clock = new VirtualClock();
  const cap = new CaptureDevice(new ScriptedDevice(), clock);
  for (let round = 0; round < 2; round++) {
    cap.start(path);
    cap.send([new Uint8Array(20)]);
    cap.stop();
    t.true(existsSync(path));
    t.is(parseCaptureFile(new Uint8Array(readFileSync(path))).records.length, 1);
  }
});

test('a file capture left running reaches the disk within flushIntervalMs of real time', async (t) => {
  const path = tmpFile('live.pcap');
  const cap = new CaptureDevice(new ScriptedDevice(), new VirtualClock(), { flushIntervalMs: 20 });
  cap.start(path);
  cap.send([new Uint8Array(20)]);
  t.is(readFileSync(path).length, 0, 'batched, not written per packet');
  await new Promise((resolve) => setTimeout(resolve, 80));
  t.is(parseCaptureFile(new Uint8Array(readFileSync(path))).records.length, 1);
  cap.stop();
});

withTcpdump('stacks on an Ethernet link: ARP and TCP in Ethernet frames, as tcpdump -e shows them', (t) => {
  const macA = Uint8Array.of(0x02, 0, 0, 0, 0, 0x0a);
  const macB = Uint8Array.of(0x02, 0, 0, 0, 0, 0x0b);
  const n = net({ format: 'pcapng', link: { linkType: 'ethernet', macA, macB, delayMs: 1 } });
  n.ca.start();
  serve(n.b);
  const conn = hello(n.a);
  n.lab.runUntilIdle();
  t.is(conn.state, 'CLOSED');
  const bytes = n.ca.bytes();
  const d = tcpdump(bytes, ['-e', ...NANO]);
  t.regex(d.header, /link-type EN10MB \(Ethernet\)/);
  t.is(d.lines.length, n.link.stats.aToB.sent + n.link.stats.bToA.delivered);
  t.true(d.lines.some((l) => /ethertype ARP \(0x0806\), length 42: .*Request who-has 10\.0\.0\.2 tell 10\.0\.0\.1/.test(l.text)));
  t.true(d.lines.some((l) => /ethertype ARP .*Reply 10\.0\.0\.2 is-at 02:00:00:00:00:0b/.test(l.text)));
  const tcp = d.lines.filter((l) => l.flags !== '');
  t.deepEqual(tcp.slice(0, 2).map((l) => l.flags), ['S', 'S.']);
  for (const l of tcp) {
    const expected = l.src === '10.0.0.1' ? '02:00:00:00:00:0a > 02:00:00:00:00:0b' : '02:00:00:00:00:0b > 02:00:00:00:00:0a';
    t.true(l.text.includes(` ${expected}, ethertype IPv4 (0x0800)`), l.text);
  }
  const file = parseCaptureFile(bytes);
  t.is(file.linkType, 1);
  for (const r of file.records) {
    const src = Array.from(r.data.subarray(6, 12));
    t.is(r.dir, src[5] === 0x0a ? 'out' : 'in');
  }
  // Times match the link's record, frame by frame.
  const times = [...n.truth.sentBy.a, ...n.truth.deliveredTo.a].map((f) => f.time).sort((x, y) => x - y);
  t.deepEqual(d.lines.map((l) => l.time), times.map((ms) => ttTime(ms, 9)));
});
