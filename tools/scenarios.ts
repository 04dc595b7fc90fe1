// Built-in scenarios for `tcplab demo`: two hosts, "client" (10.0.0.1) and
// "server" (10.0.0.2), on one simulated link, each scenario showing one part
// of TCP. Everything runs on virtual time with a fixed seed, so every run
// prints the same trace and writes the same files.

import { Lab } from './lab/lab';
import { Link, type LinkOptions } from '../devices/link';
import { CaptureDevice } from '../devices/capture';
import { SeededRandom } from '../stack/random';
import type { Stack } from '../stack/stack';
import type { StackConfigInput } from '../stack/config';
import type { TraceEvent } from '../stack/trace';
import type { TcpConnection, TcpHandler } from '../stack/tcp/connection';
import { parseIpv4Address, formatIpv4 } from '../stack/wire/ipv4';
import type { Device } from '../stack/device';
import { FilterDevice } from '../devices/filter';

import { Ipv4Header, parseIpv4 } from '../stack/wire/ipv4';
import { TcpSegment, parseTcp } from '../stack/wire/tcp';
import { flagString } from './format';

export interface ScenarioContext {
  lab: Lab;
  client: Stack;
  server: Stack;
  link: Link;
  /** A line of commentary between the trace lines. */
  say(text: string): void;
  /** Connect client -> server:port. */
  connect(port: number, handler?: TcpHandler): TcpConnection;
  /** Listen on the server; every accepted connection gets `handler(conn)`'s handler. */
  listen(port: number, handler: (conn: TcpConnection) => TcpHandler): void;
}

export interface Scenario {
  name: string;
  title: string;
  /** What its report shows. */
  shows: string;
  link: LinkOptions;
  /** Data segments the client sends that the link loses (1-based count), for scripted losses. */
  dropClientSegments?: number[];
  clientConfig?: StackConfigInput;
  serverConfig?: StackConfigInput;
  run(ctx: ScenarioContext): void;
}

const SERVER = parseIpv4Address('10.0.0.2');

/** A handler that reads everything and closes its side when the peer does. */
function sink(counter?: { bytes: number }): TcpHandler {
  return {
    onReadable(c) {
      let x: Uint8Array | null;
      while ((x = c.read()) !== null) if (counter) counter.bytes += x.length;
    },
    onEnd(c) { c.shutdown(); },
  };
}

function bytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + 7) & 0xff;
  return b;
}

function sendAllThenClose(conn: TcpConnection, data: Uint8Array): TcpHandler {
  let off = 0;
  const pump = (c: TcpConnection): void => {
    while (off < data.length) {
      const n = c.send(data.subarray(off));
      if (n === 0) return;
      off += n;
    }
    c.shutdown();
  };
  void conn;
  return { onConnect: pump, onWritable: pump };
}

export const scenarios: Scenario[] = [
  {
    name: 'loss',
    title: 'Loss and recovery',
    shows: 'a 60 KB transfer over a 10 Mbit/s link with 20 ms delay; the link loses the 12th and the 42nd data segment the client sends: the first is repaired by a fast retransmit after three duplicate ACKs; the second is so near the end that too few segments follow it to draw three duplicate ACKs, so the retransmission timer fires (RTO: cwnd back to one segment)',
    link: { delayMs: 20, rateBps: 10e6 },
    dropClientSegments: [12, 42],
    run(ctx) {
      const got = { bytes: 0 };
      ctx.listen(80, () => sink(got));
      const data = bytes(60_000);
      const conn = ctx.connect(80);
      conn.attach(sendAllThenClose(conn, data));
      ctx.lab.runUntilIdle();
      ctx.say(`server received ${got.bytes} of ${data.length} bytes`);
    },
  },
  {
    name: 'handshake',
    title: 'The three-way handshake',
    shows: 'SYN, SYN-ACK, ACK with the options each side offers (MSS, window scale, SACK, timestamps), one request and reply, and the orderly close',
    link: { delayMs: 10 },
    run(ctx) {
      ctx.listen(80, () => ({
        onReadable(c) { while (c.read() !== null); c.send(new TextEncoder().encode('hello back\n')); },
        onEnd(c) { c.shutdown(); },
      }));
      const conn = ctx.connect(80, {
        onConnect(c) { c.send(new TextEncoder().encode('hello\n')); },
        onReadable(c) { while (c.read() !== null); c.shutdown(); },
      });
      void conn;
      ctx.lab.runUntilIdle();
    },
  },
  {
    name: 'close',
    title: 'The close paths',
    shows: 'three connections: the client closes first (FIN-WAIT-1/2, TIME-WAIT), the server closes first (the client goes through CLOSE-WAIT and LAST-ACK), and both close at once (CLOSING on both sides)',
    link: { delayMs: 5 },
    clientConfig: { tcp: { mslMs: 500 } },
    serverConfig: { tcp: { mslMs: 500 } },
    run(ctx) {
      const serverConns: TcpConnection[] = [];
      ctx.listen(80, (c) => { serverConns.push(c); return {}; });
      ctx.say('1. the client closes first');
      const a = ctx.connect(80);
      ctx.lab.run(100);
      a.shutdown();
      ctx.lab.run(100);
      serverConns[0].shutdown();
      ctx.lab.runUntilIdle();
      ctx.say('2. the server closes first');
      const b = ctx.connect(80);
      ctx.lab.run(100);
      serverConns[1].shutdown();
      ctx.lab.run(100);
      b.shutdown();
      ctx.lab.runUntilIdle();
      ctx.say('3. both close at once');
      const c = ctx.connect(80);
      ctx.lab.run(100);
      c.shutdown();
      serverConns[2].shutdown();
      ctx.lab.runUntilIdle();
    },
  },
  {
    name: 'nagle',
    title: "Nagle's algorithm versus noDelay",
    shows: 'twenty 1-byte writes: with Nagle (the default) one byte goes out, the rest wait for its ACK and leave together; on a second connection with noDelay every write is its own segment',
    link: { delayMs: 10 },
    run(ctx) {
      ctx.listen(80, () => sink());
      ctx.say('with Nagle (the default):');
      const a = ctx.connect(80);
      ctx.lab.run(100);
      for (let i = 0; i < 20; i++) a.send(new Uint8Array([65 + i]));
      ctx.lab.run(200);
      a.shutdown();
      ctx.lab.run(500);
      ctx.say('with noDelay (Nagle off):');
      const b = ctx.connect(80);
      ctx.lab.run(100);
      b.setNoDelay(true);
      for (let i = 0; i < 20; i++) b.send(new Uint8Array([65 + i]));
      ctx.lab.run(200);
      b.shutdown();
      ctx.lab.runUntilIdle();
    },
  },
  {
    name: 'delayed-ack',
    title: 'Delayed ACK',
    shows: 'after the quick-ACK phase, a lone segment is acknowledged by the 40 ms delayed-ACK timer, two full-sized segments at once, and the write-write-read stall when Nagle meets a delayed ACK',
    link: { delayMs: 2 },
    serverConfig: { tcp: { quickAckSegments: 2 } },
    run(ctx) {
      let reply = false;
      ctx.listen(80, () => ({
        onReadable(c) {
          let n = 0;
          let x: Uint8Array | null;
          while ((x = c.read()) !== null) n += x.length;
          if (reply && n > 0) c.send(new Uint8Array(4));
        },
        onEnd(c) { c.shutdown(); },
      }));
      const a = ctx.connect(80, { onReadable(c) { while (c.read() !== null); } });
      ctx.lab.run(50);
      for (let i = 0; i < 3; i++) { a.send(new Uint8Array(1)); ctx.lab.run(100); }
      ctx.say('a lone small segment: the ACK waits for the 40 ms timer');
      a.send(new Uint8Array(100));
      ctx.lab.run(100);
      ctx.say('two full-sized segments: the second is acknowledged at once');
      a.send(new Uint8Array(2 * 1448));
      ctx.lab.run(100);
      ctx.say('write-write-read: the second write waits (Nagle) for the delayed ACK of the first');
      reply = true;
      a.send(new Uint8Array(50));
      a.send(new Uint8Array(50));
      ctx.lab.run(200);
      a.shutdown();
      ctx.lab.runUntilIdle();
    },
  },
  {
    name: 'keepalive',
    title: 'Keepalive finds a half-open connection',
    shows: 'an idle connection with keepalive (10 s idle, 2 s interval, 3 probes): probes answered while the server lives; then the server reboots and loses its state, and its answer to the next probe is a RST, so the client learns the connection is gone (ECONNRESET)',
    link: { delayMs: 5 },
    clientConfig: { tcp: { keepAlive: true, keepAliveIdleMs: 10_000, keepAliveIntervalMs: 2_000, keepAliveProbes: 3 } },
    run(ctx) {
      const conns: TcpConnection[] = [];
      ctx.listen(80, (c) => { conns.push(c); return {}; });
      const a = ctx.connect(80, { onClose(_c, err) { ctx.say(`client connection closed: ${err?.code ?? 'no error'}`); } });
      ctx.lab.run(25_000);
      ctx.say('the server host reboots: it forgets every connection');
      ctx.server.tcp.table.remove(conns[0]);
      ctx.lab.runUntilIdle();
      void a;
    },
  },
  {
    name: 'zero-window',
    title: 'Zero window and the persist timer',
    shows: 'the reader stops: the receive buffer (16 KB) fills, the window closes to zero, the sender probes with growing intervals; after 10 s the reader resumes, a window update reopens the flow, and the transfer completes',
    link: { delayMs: 10 },
    serverConfig: { tcp: { receiveBufferBytes: 16 * 1024 } },
    run(ctx) {
      let reading = false;
      let server: TcpConnection | null = null;
      const drain = (c: TcpConnection): void => { while (c.read() !== null); };
      ctx.listen(80, (c) => {
        server = c;
        return { onReadable(x) { if (reading) drain(x); }, onEnd(x) { x.shutdown(); } };
      });
      const data = bytes(64 * 1024);
      const conn = ctx.connect(80);
      conn.attach(sendAllThenClose(conn, data));
      ctx.lab.run(10_000);
      ctx.say('the reader resumes');
      reading = true;
      if (server !== null) drain(server);
      ctx.lab.runUntilIdle();
    },
  },
];

export function findScenario(name: string): Scenario | undefined {
  return scenarios.find((s) => s.name === name);
}

/** What a lost frame was, for the explained trace. */
export interface LostFrame {
  t: number;
  from: string;
  to: string;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  flags: number;
  seq: number;
  len: number;
}

export interface ScenarioRun {
  events: TraceEvent[];
  pcap: Uint8Array;
  lab: Lab;
  client: Stack;
  server: Stack;
}

/**
 * Run a scenario. `onEvent` sees every trace event of both hosts as it
 * happens, and `onLost` every frame the link dropped.
 */
export function runScenario(s: Scenario, opts: {
  seed?: number;
  onEvent?: (ev: TraceEvent) => void;
  onLost?: (lost: LostFrame) => void;
  say?: (text: string, t: number) => void;
}): ScenarioRun {
  const seed = opts.seed ?? 4;
  const lab = new Lab({ seed, record: false });
  const client = lab.host('client', { config: s.clientConfig });
  const server = lab.host('server', { config: s.serverConfig });
  const link = new Link(lab.clock, new SeededRandom(`${seed}/link`), { nameA: 'client', nameB: 'server', ...s.link });
  const h = new Ipv4Header();
  const seg = new TcpSegment();
  const events: TraceEvent[] = [];
  const lost = (t: number, fromA: boolean, frame: Uint8Array, fate: string): void => {
    if (parseIpv4(frame, h, false) !== null || parseTcp(frame, h.payloadOffset, h.payloadLength, h.src, h.dst, seg, false) !== null) return;
    const l: LostFrame = {
      t, from: fromA ? 'client' : 'server', to: fromA ? 'server' : 'client', src: formatIpv4(h.src), dst: formatIpv4(h.dst),
      srcPort: seg.srcPort, dstPort: seg.dstPort, flags: seg.flags, seq: seg.seq, len: seg.payloadLength,
    };
    events.push({ type: 'drop', t, stack: 'link', layer: 'link', reason: `${fate} [${flagString(seg.flags)}] seq ${seg.seq} len ${seg.payloadLength}` });
    opts.onLost?.(l);
  };
  // Scripted losses sit between the capture and the link: the capture sees the frame leave.
  const drops = new Set(s.dropClientSegments ?? []);
  let dataSegments = 0;
  const toLink: Device = drops.size === 0 ? link.a : new FilterDevice(link.a, (f, direction) => {
    if (direction === 'rx') return true;
    if (parseIpv4(f, h, false) !== null || parseTcp(f, h.payloadOffset, h.payloadLength, h.src, h.dst, seg, false) !== null) return true;
    if (seg.payloadLength === 0 || !drops.has(++dataSegments)) return true;
    lost(lab.now(), true, f, 'lost');
    return false;
  });
  const capture = new CaptureDevice(toLink, lab.clock);
  capture.start();
  client.addInterface(capture, { address: '10.0.0.1/24', name: 'eth0' });
  server.addInterface(link.b, { address: '10.0.0.2/24', name: 'eth0' });
  for (const host of [client, server]) {
    host.tracer.on((ev) => {
      events.push(ev);
      opts.onEvent?.(ev);
    });
  }
  link.onFrame((ev) => {
    if (ev.stage === 'send' && (ev.fate === 'lost' || ev.fate === 'queue-drop')) lost(ev.time, ev.from === 'a', ev.frame, ev.fate);
  });
  const say = (text: string): void => opts.say?.(text, lab.now());
  s.run({
    lab, client, server, link, say,
    connect(port, handler) {
      return client.tcp.connect({ remoteAddress: SERVER, remotePort: port }, handler ?? {});
    },
    listen(port, handler) {
      server.tcp.listen({ port }, { onConnection(c) { c.attach(handler(c)); } });
    },
  });
  capture.stop();
  return { events, pcap: capture.bytes(), lab, client, server };
}
