// TCP behaviours real stacks have, observed on the wire at virtual times:
// Nagle, delayed ACK, keepalive, zero window, window scaling, congestion
// control, user timeout, PAWS.

import test from 'ava';
import { B, Recorder, ip, pair, payload, segments, sendAll, sha256, type Pair, type Seg } from '../../helpers/sim';
import type { TcpConnection } from '../../../stack/tcp/connection';
import type { StackConfigInput } from '../../../stack/config';
import type { LinkOptions } from '../../../devices/link';
import type { TraceEvent } from '../../../stack/trace';
import type { Device } from '../../../stack/device';
import { Lab } from '../../../tools/lab/lab';
import { Link } from '../../../devices/link';
import { SeededRandom } from '../../../stack/random';

interface Conn {
  p: Pair;
  cli: Recorder;
  conn: TcpConnection;
  srv: Recorder;
  sconn: TcpConnection;
}

function connected(opts: { link?: LinkOptions; configA?: StackConfigInput; configB?: StackConfigInput; config?: StackConfigInput; seed?: number } = {}): Conn {
  const p = pair(opts);
  const srv = new Recorder();
  const conns: TcpConnection[] = [];
  p.b.tcp.listen({ port: 80 }, { onConnection(c) { conns.push(c); srv.conn = c; c.attach(srv); } });
  const cli = new Recorder();
  const conn = p.a.tcp.connect({ remoteAddress: ip(B), remotePort: 80 }, cli);
  p.lab.runWhile(() => conns.length === 0 || conn.state !== 'ESTABLISHED', 10_000);
  return { p, cli, conn, srv, sconn: conns[0] };
}

function after(segs: Seg[], t0: number): Seg[] {
  return segs.filter((s) => s.t >= t0);
}

function traced(p: Pair, host: 'a' | 'b' = 'a'): TraceEvent[] {
  const events: TraceEvent[] = [];
  (host === 'a' ? p.a : p.b).tracer.on((e) => events.push(e));
  return events;
}

// ---------------------------------------------------------------- Nagle

function oneByteWrites(noDelay: boolean): { data: Seg[]; received: number } {
  const c = connected({ link: { delayMs: 25 }, configA: { tcp: { noDelay } } });
  const t0 = c.p.lab.now();
  for (let i = 0; i < 100; i++) c.conn.send(new Uint8Array([i]));
  c.p.lab.run(2000);
  return { data: after(segments(c.p.lab), t0).filter((s) => s.from === 'a' && s.len > 0), received: c.srv.bytes };
}

test('Nagle: 100 one-byte writes go out as one segment per round trip', (t) => {
  const { data, received } = oneByteWrites(false);
  t.is(received, 100);
  // The first byte alone, the other 99 held until its ACK comes back, then sent together.
  t.deepEqual(data.map((s) => s.len), [1, 99]);
  t.is(data[1].t - data[0].t, 50); // one round trip (quick ACK at connection start)
});

test('Nagle off (noDelay): one segment per write', (t) => {
  const { data, received } = oneByteWrites(true);
  t.is(received, 100);
  t.is(data.length, 100);
  t.true(data.every((s) => s.len === 1 && s.t === data[0].t));
});

test('Nagle never holds full-sized segments, and traces what it holds', (t) => {
  const c = connected({ link: { delayMs: 10 } });
  const ev = traced(c.p);
  const t0 = c.p.lab.now();
  c.conn.send(new Uint8Array(1448 * 3 + 100));
  c.conn.send(new Uint8Array(10));
  c.p.lab.run(5);
  const sent = after(segments(c.p.lab), t0).filter((s) => s.from === 'a' && s.len > 0);
  // Three full segments and the 100-byte tail go at once (no earlier small segment was
  // outstanding: Linux's Minshall test); the next 10 bytes wait for the tail's ACK.
  t.deepEqual(sent.map((s) => s.len), [1448, 1448, 1448, 100]);
  t.true(ev.some((e) => e.type === 'nagle' && e.held === 10));
  c.p.lab.run(100);
  const later = after(segments(c.p.lab), t0).filter((s) => s.from === 'a' && s.len > 0);
  t.deepEqual(later.map((s) => s.len), [1448, 1448, 1448, 100, 10]);
});

/** Client writes a request in two pieces, then waits for the reply: the classic write-write-read. */
function writeWriteRead(noDelay: boolean): number {
  const c = connected({ link: { delayMs: 1 }, configA: { tcp: { noDelay, quickAckSegments: 0 } }, configB: { tcp: { quickAckSegments: 0 } } });
  c.p.lab.run(1000);
  let replyAt = -1;
  c.srv.onReadable = (conn) => {
    c.srv.drain(conn);
    if (c.srv.bytes === 110 && replyAt < 0) conn.send(new Uint8Array(5));
  };
  c.cli.onReadable = (conn) => { c.cli.drain(conn); if (replyAt < 0) replyAt = c.p.lab.now(); };
  const t0 = c.p.lab.now();
  c.conn.send(new Uint8Array(100)); // header
  c.conn.send(new Uint8Array(10)); // body
  c.p.lab.run(1000);
  return replyAt - t0;
}

test('the Nagle + delayed-ACK stall on write-write-read, and noDelay removes it', (t) => {
  const stalled = writeWriteRead(false);
  const fast = writeWriteRead(true);
  // With Nagle the body waits for the ACK of the header, which the server delays 40 ms.
  t.is(stalled, 2 + 40 + 2);
  t.is(fast, 2);
});

// ---------------------------------------------------------------- delayed ACK

test('delayed ACK: a lone segment is acknowledged after 40 ms', (t) => {
  const c = connected({ link: { delayMs: 5 }, configB: { tcp: { quickAckSegments: 0 } } });
  const ev = traced(c.p, 'b');
  c.p.lab.run(100);
  const t0 = c.p.lab.now();
  c.conn.send(new Uint8Array(100));
  c.p.lab.run(200);
  const acks = after(segments(c.p.lab), t0).filter((s) => s.from === 'b' && s.len === 0);
  t.is(acks.length, 1);
  t.is(acks[0].t - t0, 5 + 40);
  t.true(ev.some((e) => e.type === 'ack' && e.action === 'delayed' && e.delayMs === 40));
});

test('delayed ACK: at least every second full-sized segment is acknowledged at once', (t) => {
  const c = connected({ link: { delayMs: 5, rateBps: 10e6 }, configB: { tcp: { quickAckSegments: 0 } } });
  c.p.lab.run(100);
  const t0 = c.p.lab.now();
  c.conn.send(new Uint8Array(1448 * 8)); // 8 full segments, within the initial window
  c.p.lab.run(500);
  const segs = after(segments(c.p.lab), t0);
  const data = segs.filter((s) => s.from === 'a' && s.len > 0);
  const acks = segs.filter((s) => s.from === 'b' && s.len === 0);
  t.is(data.length, 8);
  t.is(acks.length, 4);
  // Each ACK covers two segments and leaves as the second one arrives (1.2 ms serialization each).
  for (let i = 0; i < 4; i++) t.is(acks[i].ack, (data[2 * i + 1].seq + 1448) >>> 0);
  t.true(acks.every((a) => a.t - t0 < 20));
});

test('delayed ACK: an out-of-order segment is acknowledged at once (duplicate ACK), and so is the one filling the hole', (t) => {
  const c = connected({ link: { delayMs: 5 }, configB: { tcp: { quickAckSegments: 0 } } });
  c.p.lab.run(100);
  const link = c.p.lab.links.get('a-b')!;
  // Lose exactly the first data segment: the link drops while we send it, then heals.
  link.set({ aToB: { loss: 1 } });
  c.conn.send(new Uint8Array(1448));
  c.p.lab.run(0);
  link.set({ aToB: { loss: 0 } });
  const t0 = c.p.lab.now();
  c.conn.send(new Uint8Array(1448));
  c.p.lab.run(1000);
  const segs = after(segments(c.p.lab), t0);
  const acks = segs.filter((s) => s.from === 'b' && s.len === 0);
  t.true(acks.length >= 2);
  t.is(acks[0].t - t0, 5); // duplicate ACK, no delay
  const fill = segs.filter((s) => s.from === 'a' && s.len > 0).pop()!;
  const fillAck = acks.find((a) => a.t > fill.t)!;
  t.is(fillAck.t - fill.t, 5); // the retransmission filled the hole: ACK at once
  t.is(c.srv.bytes, 2896);
});

test('quick ACK phase: the first segments of a connection are acknowledged at once', (t) => {
  const c = connected({ link: { delayMs: 5 } });
  const t0 = c.p.lab.now();
  for (let i = 0; i < 3; i++) {
    c.conn.send(new Uint8Array(100));
    c.p.lab.run(100);
  }
  const acks = after(segments(c.p.lab), t0).filter((s) => s.from === 'b' && s.len === 0);
  t.deepEqual(acks.map((a) => Math.round(a.t - t0)), [5, 105, 205]);
});

// ---------------------------------------------------------------- keepalive

const ka = { keepAlive: true, keepAliveIdleMs: 10_000, keepAliveIntervalMs: 2_000, keepAliveProbes: 3 };

test('keepalive: off by default; probes at the idle time, answered by the peer, connection stays up', (t) => {
  const plain = connected();
  plain.p.lab.run(3 * 3600_000);
  t.is(segments(plain.p.lab).filter((s) => s.from === 'a' && s.len === 0 && s.flags === '.').length, 1); // the handshake's ACK only
  const c = connected({ link: { delayMs: 5 }, configA: { tcp: ka } });
  const t0 = c.p.lab.now();
  c.p.lab.run(35_000);
  const probes = after(segments(c.p.lab), t0).filter((s) => s.from === 'a');
  const answers = after(segments(c.p.lab), t0).filter((s) => s.from === 'b');
  // The client last heard the server at its SYN-ACK (t0 - 5). A probe follows every idle
  // period; each is answered 10 ms later, so the next comes 10 s after that answer.
  const lastHeard = t0 - 5;
  t.deepEqual(probes.map((s) => Math.round(s.t - lastHeard)), [10_000, 20_010, 30_020]);
  t.true(probes.every((s) => s.len === 0 && s.seq === ((c.conn.sndNxt - 1) >>> 0)));
  t.is(answers.length, 3);
  t.is(c.conn.state, 'ESTABLISHED');
  t.is(c.conn.probesOut, 0);
});

test('keepalive: a partitioned peer -> probes at idle, idle+interval, ... and ETIMEDOUT exactly after the last', (t) => {
  const c = connected({ link: { delayMs: 5 }, configA: { tcp: ka } });
  const ev = traced(c.p);
  const lastRx = c.p.lab.now() - 5; // the handshake's last segment arrived then... the SYN-ACK
  c.p.lab.links.get('a-b')!.set({ up: false });
  c.p.lab.runUntilIdle();
  const probes = ev.filter((e) => e.type === 'probe');
  t.is(probes.length, 3);
  const times = probes.map((e) => e.t);
  t.is(times[1] - times[0], 2000);
  t.is(times[2] - times[1], 2000);
  t.true(Math.abs(times[0] - lastRx - 10_000) <= 5);
  t.is(c.cli.error?.code, 'ETIMEDOUT');
  const end = ev.find((e) => e.type === 'state' && e.to === 'CLOSED')!;
  t.is(end.t - times[2], 2000);
});

test('keepalive finds a half-open connection: the peer crashed and rebooted answers the probe with RST -> ECONNRESET', (t) => {
  const c = connected({ link: { delayMs: 5 }, configA: { tcp: ka } });
  // The server host loses all its state (reboot): its connection table is empty.
  c.p.b.tcp.table.remove(c.sconn);
  c.p.lab.run(20_000);
  const segs = segments(c.p.lab);
  const rst = segs.find((s) => s.from === 'b' && s.flags.includes('R'));
  t.truthy(rst);
  t.is(c.cli.error?.code, 'ECONNRESET');
  t.is(c.conn.state, 'CLOSED');
});

test('keepalive: traffic resets the idle timer', (t) => {
  const c = connected({ link: { delayMs: 5 }, configA: { tcp: ka } });
  const ev = traced(c.p);
  const t0 = c.p.lab.now();
  c.p.lab.run(8000);
  c.sconn.send(new Uint8Array(10)); // the peer talks at t0+8 s
  c.p.lab.run(12_000);
  const probes = ev.filter((e) => e.type === 'probe');
  t.is(probes.length, 1);
  t.is(Math.round(probes[0].t - t0), 8000 + 5 + 10_000);
});

test('keepalive can be enabled per connection with its own settings (setKeepAlive)', (t) => {
  const c = connected({ link: { delayMs: 1 } });
  c.conn.setKeepAlive(true, 3000, 1000, 2);
  c.p.lab.links.get('a-b')!.set({ up: false });
  const t0 = c.p.lab.now();
  c.p.lab.runUntilIdle();
  t.is(c.cli.error?.code, 'ETIMEDOUT');
  t.true(Math.abs(c.p.lab.now() - t0 - (3000 + 1000 + 1000)) <= 2);
});

// ---------------------------------------------------------------- zero window

test('zero window: the reader stops for 60 s, the sender probes with backoff, the transfer completes byte-identical', (t) => {
  const c = connected({ link: { delayMs: 10 }, configB: { tcp: { receiveBufferBytes: 64 * 1024 } } });
  const ev = traced(c.p);
  const data = payload(500_000, 3);
  c.srv.reading = false;
  sendAll(c.conn, data, c.cli);
  c.p.lab.run(60_000);
  const probes = ev.filter((e) => e.type === 'probe' && e.kind === 'zero-window');
  t.true(probes.length >= 5, `${probes.length} probes`);
  const gaps = probes.slice(1).map((e, i) => e.t - probes[i].t);
  t.true(gaps.every((g, i) => i === 0 || g >= gaps[i - 1]), `backoff: ${gaps.join(',')}`);
  t.is(c.conn.state, 'FIN-WAIT-1'); // everything written and FIN queued; never given up while the peer answers
  c.srv.reading = true;
  c.srv.drain(c.sconn);
  c.p.lab.runUntilIdle();
  t.is(sha256(c.srv.received), sha256([data]));
  t.true(c.srv.ended);
});

test('a window update is sent as soon as the reader drains', (t) => {
  const c = connected({ link: { delayMs: 10 }, configB: { tcp: { receiveBufferBytes: 64 * 1024 } } });
  c.srv.reading = false;
  c.conn.send(new Uint8Array(200_000));
  c.p.lab.run(1000);
  const t0 = c.p.lab.now();
  c.srv.reading = true;
  c.srv.drain(c.sconn);
  c.p.lab.run(0);
  const update = after(segments(c.p.lab), t0).find((s) => s.from === 'b');
  t.truthy(update);
  t.is(update!.t, t0);
  t.true(update!.win > 0);
});

// ---------------------------------------------------------------- window scaling, timestamps

test('window scaling: with 4 MB buffers over 100 Mbit/s and 100 ms RTT, goodput is above 80% of the link', (t) => {
  const tcp = { sendBufferBytes: 4 << 20, receiveBufferBytes: 4 << 20 };
  // No queue limit: this measures what window scaling allows, not loss recovery.
  const c = connected({ link: { delayMs: 50, rateBps: 100e6 }, config: { tcp } });
  t.true(c.conn.wscaleOn);
  t.is(c.conn.rcvWscale, 7); // 65535 << 7 covers 4 MiB
  const size = 40 << 20;
  const t0 = c.p.lab.now();
  let doneAt = -1;
  c.srv.onEnd = () => { doneAt = c.p.lab.now(); };
  sendAll(c.conn, payload(size, 1), c.cli);
  c.p.lab.runWhile(() => doneAt < 0, 600_000);
  const goodput = (c.srv.bytes * 8) / ((doneAt - t0) / 1000);
  t.is(c.srv.bytes, size);
  t.true(goodput > 80e6, `goodput ${(goodput / 1e6).toFixed(1)} Mbit/s`);
});

test('PAWS: a segment with an old timestamp is dropped and answered with an ACK', (t) => {
  const c = connected({ link: { delayMs: 1 } });
  c.conn.send(new Uint8Array([1, 2, 3]));
  c.p.lab.run(100);
  // Replay the data segment the client sent, a minute later (its timestamp is now old).
  const sent = c.p.lab.frames.filter((f) => f.stage === 'send' && f.from === 'a' && f.bytes.length === 20 + 32 + 3);
  t.is(sent.length, 1);
  c.conn.send(new Uint8Array([4]));
  c.p.lab.run(60_000);
  c.p.lab.links.get('a-b')!.a.send([sent[0].bytes]);
  c.p.lab.run(100);
  t.is(c.p.b.counter('tcp-paws'), 1);
  t.is(c.srv.bytes, 4);
});

// ---------------------------------------------------------------- congestion control

function cwndTrace(p: Pair): Array<Extract<TraceEvent, { type: 'cwnd' }>> {
  const out: Array<Extract<TraceEvent, { type: 'cwnd' }>> = [];
  p.a.tracer.on((e) => { if (e.type === 'cwnd') out.push(e); });
  return out;
}

/** A device that passes everything through but drops the n-th data frame it is asked to send. */
function dropNth(inner: Device, n: number): Device {
  let count = 0;
  return {
    name: inner.name, linkType: inner.linkType, mtu: inner.mtu, mac: inner.mac,
    attach: (r) => inner.attach(r),
    close: () => inner.close(),
    send: (frames) => inner.send(frames.filter((f) => !(f.length > 100 && ++count === n))),
  };
}

for (const sack of [true, false]) {
  test(`congestion control: a single loss -> fast retransmit and fast recovery, no RTO (${sack ? 'SACK, RFC 6675' : 'NewReno, RFC 6582'})`, (t) => {
    const lab = new Lab({ seed: 2 });
    const a = lab.host('a', { config: { tcp: { sack } } });
    const b = lab.host('b', { config: { tcp: { sack } } });
    const link = new Link(lab.clock, new SeededRandom(2), { delayMs: 20, rateBps: 50e6 });
    a.addInterface(dropNth(link.a, 30), { address: '10.0.0.1/24' });
    b.addInterface(link.b, { address: '10.0.0.2/24' });
    const c = { p: { lab, a, b } as Pair, cli: new Recorder(), srv: new Recorder() };
    b.tcp.listen({ port: 80 }, { onConnection(conn) { conn.attach(c.srv); } });
    const cw = cwndTrace(c.p);
    const ev = traced(c.p);
    const conn = a.tcp.connect({ remoteAddress: ip(B), remotePort: 80 }, c.cli);
    const data = payload(2_000_000, 4);
    c.cli.onConnect = () => sendAll(conn, data, c.cli);
    lab.runWhile(() => !c.srv.ended, 60_000);
    t.is(conn.sackOk, sack);
    t.is(sha256(c.srv.received), sha256([data]));
    const lossEvents = cw.filter((e) => e.cause !== 'slow start' && e.cause !== 'congestion avoidance');
    t.deepEqual(lossEvents.map((e) => e.cause), ['fast retransmit', 'recovery complete']);
    // Growth is traced too: slow start before the loss, congestion avoidance after it.
    t.true(cw.some((e) => e.cause === 'slow start'));
    t.true(cw.some((e) => e.cause === 'congestion avoidance'));
    // RFC 5681 3.2: ssthresh = max(FlightSize / 2, 2*SMSS); then cwnd = ssthresh + 3*SMSS
    // (NewReno's inflation), or cwnd = ssthresh with SACK (RFC 6675 5, the pipe limits sending).
    const fr = lossEvents[0];
    t.is(fr.ssthresh, Math.max(Math.floor(fr.flight / 2), 2 * 1448));
    t.is(fr.cwnd, sack ? fr.ssthresh : fr.ssthresh + 3 * 1448);
    // Leaving recovery, cwnd = min(ssthresh, FlightSize + SMSS) (RFC 6582 3.2 step 6).
    t.true(lossEvents[1].cwnd <= lossEvents[1].ssthresh);
    const rtx = ev.filter((e) => e.type === 'retransmit');
    t.is(rtx.length, 1);
    // With SACK, RFC 6675's IsLost (three segments' worth SACKed above the hole) may decide first.
    if (sack) t.regex((rtx[0] as { reason: string }).reason, /^(third duplicate ACK|SACKed data above a hole)$/);
    else t.is((rtx[0] as { reason: string }).reason, 'third duplicate ACK');
    t.is(a.counter('tcp-retransmit'), 1);
  });
}

test('SACK: the receiver reports what it holds out of order, newest block first (RFC 2018 4)', (t) => {
  const lab = new Lab({ seed: 2 });
  const a = lab.host('a');
  const b = lab.host('b');
  const link = new Link(lab.clock, new SeededRandom(2), { delayMs: 5 });
  a.addInterface(dropNth(link.a, 3), { address: '10.0.0.1/24' });
  b.addInterface(link.b, { address: '10.0.0.2/24' });
  const sacks: Array<Array<[number, number]>> = [];
  b.tracer.on((e) => { if (e.type === 'segment' && e.dir === 'out' && e.sack !== undefined) sacks.push(e.sack); });
  const srv = new Recorder();
  b.tcp.listen({ port: 80 }, { onConnection(conn) { conn.attach(srv); } });
  const conn = a.tcp.connect({ remoteAddress: ip(B), remotePort: 80 }, new Recorder());
  lab.run(100);
  conn.send(new Uint8Array(6 * 1448));
  lab.run(1000);
  t.is(srv.bytes, 6 * 1448);
  // Segment 3 was lost: segments 4, 5, 6 arrive out of order, each ACK SACKs the growing block.
  const base = (conn.iss + 1 + 3 * 1448) >>> 0;
  t.deepEqual(sacks.slice(0, 3), [1, 2, 3].map((k) => [[base, (base + k * 1448) >>> 0]]));
});

test('congestion control: an RTO collapses cwnd to one segment and ssthresh to half the flight', (t) => {
  const c = connected({ link: { delayMs: 20, rateBps: 50e6 } });
  const cw = cwndTrace(c.p);
  sendAll(c.conn, payload(300_000, 5), c.cli);
  c.p.lab.run(60);
  c.p.lab.links.get('a-b')!.set({ up: false });
  c.p.lab.run(1000);
  c.p.lab.links.get('a-b')!.set({ up: true });
  c.p.lab.runWhile(() => !c.srv.ended, 60_000);
  const rto = cw.find((e) => e.cause === 'RTO')!;
  t.truthy(rto);
  t.is(rto.cwnd, 1448);
  t.true(rto.ssthresh >= 2 * 1448);
  t.is(c.srv.bytes, 300_000);
});

test('congestion control: slow start roughly doubles the segments sent per round trip, from an initial window of 10', (t) => {
  const c = connected({ link: { delayMs: 50 } });
  const t0 = c.p.lab.now();
  sendAll(c.conn, payload(3_000_000, 6), c.cli);
  c.p.lab.run(450);
  const data = after(segments(c.p.lab), t0).filter((s) => s.from === 'a' && s.len > 0);
  // Group by round trip (100 ms).
  const perRtt = [0, 0, 0, 0];
  for (const s of data) {
    const k = Math.floor((s.t - t0) / 100);
    if (k < 4) perRtt[k]++;
  }
  t.is(perRtt[0], 10);
  for (let k = 1; k < 4; k++) t.true(perRtt[k] >= 1.8 * perRtt[k - 1] && perRtt[k] <= 2.2 * perRtt[k - 1], perRtt.join(','));
});

// ---------------------------------------------------------------- user timeout

test('user timeout: a peer that vanishes mid-transfer ends the connection with ETIMEDOUT after the limit', (t) => {
  const c = connected({ link: { delayMs: 10 }, configA: { tcp: { userTimeoutMs: 5000 } } });
  sendAll(c.conn, payload(1_000_000, 7), c.cli);
  c.p.lab.run(100);
  const vanished = c.p.lab.now();
  c.p.lab.links.get('a-b')!.set({ up: false });
  c.p.lab.runUntilIdle();
  t.is(c.cli.error?.code, 'ETIMEDOUT');
  const closedAfter = c.p.lab.now() - vanished;
  t.true(closedAfter >= 4900 && closedAfter <= 5100, `closed after ${closedAfter} ms`);
});

test('silly window syndrome: a reader draining 100 bytes at a time never makes the sender dribble small segments (RFC 9293 3.8.6.2)', (t) => {
  const c = connected({ link: { delayMs: 5 }, configB: { tcp: { receiveBufferBytes: 16 * 1024 } } });
  c.srv.reading = false;
  const data = payload(200_000, 8);
  sendAll(c.conn, data, c.cli);
  c.p.lab.run(1000);
  const t0 = c.p.lab.now();
  // The slow reader: 100 bytes every 20 ms.
  for (let i = 0; i < 1000 && !c.srv.ended; i++) {
    let chunk: Uint8Array | null;
    let n = 0;
    while (n < 100 && (chunk = c.sconn.read(100 - n)) !== null) {
      c.srv.received.push(chunk);
      c.srv.bytes += chunk.length;
      n += chunk.length;
    }
    c.p.lab.run(20);
  }
  c.srv.reading = true;
  c.srv.drain(c.sconn);
  c.p.lab.runUntilIdle();
  t.is(sha256(c.srv.received), sha256([data]));
  const late = after(segments(c.p.lab), t0);
  const dataSegs = late.filter((s) => s.from === 'a' && s.len > 0);
  // Sender side: nothing smaller than a full segment except the very last one.
  t.true(dataSegs.length > 10);
  t.deepEqual(dataSegs.slice(0, -1).filter((s) => s.len < 1448).map((s) => s.len), []);
  // Receiver side: the window it offers grows by at least one MSS at a time, or not at all.
  const edges = late.filter((s) => s.from === 'b' && s.flags.includes('.')).map((s) => (s.ack + s.win) >>> 0);
  const growth = edges.slice(1).map((e, i) => (e - edges[i]) | 0).filter((g) => g > 0);
  t.true(growth.length > 0);
  t.deepEqual(growth.filter((g) => g < 1448), []);
});
