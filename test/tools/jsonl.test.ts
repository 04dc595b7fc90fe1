// Trace export: JSON Lines round trips of real traces, the batched file and
// stream writer, and the diagnostics_channel bridge that costs nothing (the
// tracer stays disabled) while nobody subscribes.

import test from 'ava';
import diagnosticsChannel from 'node:diagnostics_channel';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { B, Recorder, ip, pair, payload, sendAll, type Pair } from '../helpers/sim';
import type { TraceEvent } from '../../stack/trace';
import { Tracer } from '../../stack/trace';
import {
  JsonlWriter, TRACE_EVENT_TYPES, decodeEvent, encodeEvent, parseJsonl, readJsonl, toJsonl, validateEvent,
} from '../../tools/trace/jsonl';
import { TRACE_CHANNEL, isPublished, publishTrace, subscribeTrace, traceChannelName } from '../../tools/trace/channel';

let tmp: string | null = null;
function tmpFile(name: string): string {
  if (tmp === null) tmp = mkdtempSync(join(tmpdir(), 'tcplab-jsonl-'));
  return join(tmp, name);
}
test.after.always(() => {
  if (tmp !== null) rmSync(tmp, { recursive: true, force: true });
});

/** A 200 kB transfer over a lossy, rate-limited link, both ends closing. Returns the lab before running it. */
function lossyTransfer(seed = 3): Pair & { received: () => number } {
  const p = pair({ seed, link: { delayMs: 10, loss: 0.05, rateBps: 10e6 }, record: false });
  const srv = new Recorder();
  p.b.tcp.listen({ port: 80 }, {
    onConnection(c) {
      c.attach(srv);
      srv.onEnd = () => c.shutdown();
    },
  });
  const cli = new Recorder();
  cli.onConnect = (c) => sendAll(c, payload(200_000), cli);
  p.a.tcp.connect({ remoteAddress: ip(B), remotePort: 80 }, cli);
  return { ...p, received: () => srv.bytes };
}

function collect(p: Pair): TraceEvent[] {
  const events: TraceEvent[] = [];
  p.a.tracer.on((e) => events.push(e));
  p.b.tracer.on((e) => events.push(e));
  return events;
}

/** The same event without keys whose value is undefined (JSON cannot hold them; the TraceEvent type treats them as absent). */
function defined(ev: TraceEvent): TraceEvent {
  return Object.fromEntries(Object.entries(ev).filter(([, v]) => v !== undefined)) as TraceEvent;
}

/** One hand-made event of every type, with edge values: optional fields present and absent, numbers JSON cannot write. */
const handMade: TraceEvent[] = [
  { type: 'segment', t: 0, stack: 'a', dir: 'out', src: '10.0.0.1', dst: '10.0.0.2', srcPort: 40000, dstPort: 80, flags: 0x12, seq: 4294967295, ack: 0, window: 65535, len: 0, mss: 1460, windowScale: 7, sackPermitted: true, tsVal: 1, tsEcr: 0 },
  { type: 'segment', t: 1.5, stack: 'b', dir: 'in', conn: 'x', src: '10.0.0.2', dst: '10.0.0.1', srcPort: 80, dstPort: 40000, flags: 0x10, seq: 1, ack: 2, window: 0, len: 0, sack: [[10, 20], [4294967000, 5]] },
  { type: 'state', t: 2, stack: 'a', conn: 'c', from: 'SYN-SENT', to: 'ESTABLISHED', cause: 'rcv SYN-ACK "quoted" \\ back\nslash' },
  { type: 'drop', t: 3, stack: 'a', layer: 'ip', reason: 'ipv4-bad-checksum' },
  { type: 'drop', t: 3, stack: 'a', layer: 'tcp', reason: '{"$n":"NaN"}', conn: 'c' },
  { type: 'timer', t: 4, stack: 'a', conn: 'c', timer: 'rtx', action: 'set', at: Infinity },
  { type: 'timer', t: 4, stack: 'a', conn: 'c', timer: 'rtx', action: 'cancelled' },
  { type: 'rtt', t: 5, stack: 'a', conn: 'c', sample: NaN, srtt: -0, rttvar: 0.1 + 0.2, rto: 1e-300 },
  { type: 'retransmit', t: 6, stack: 'a', conn: 'c', seq: 1, len: 1448, count: 2, reason: 'rto' },
  { type: 'cwnd', t: 7, stack: 'a', conn: 'c', cwnd: 14480, ssthresh: Infinity, flight: 0, cause: 'init' },
  { type: 'probe', t: 8, stack: 'a', conn: 'c', kind: 'keepalive', n: 1, of: 9 },
  { type: 'nagle', t: 9, stack: 'a', conn: 'c', held: 10, outstanding: 100 },
  { type: 'ack', t: 10, stack: 'a', conn: 'c', action: 'delayed', reason: 'data', delayMs: 40 },
  { type: 'window', t: 11, stack: 'a', conn: 'c', side: 'receive', window: -Infinity, reason: 'test' },
  { type: 'arp', t: 11.5, stack: 'a', iface: 'eth0', what: 'request', ip: '10.0.0.2', mac: null },
  { type: 'arp', t: 11.6, stack: 'a', iface: 'eth0', what: 'reply', ip: '10.0.0.2', mac: '02:00:00:00:00:01' },
  { type: 'icmp', t: 12, stack: 'b', dir: 'in', icmpType: 3, code: 3, src: '10.0.0.2', dst: '10.0.0.1' },
  { type: 'error', t: 1e21, stack: 'ünïcødé ✓', conn: 'c', code: 'ECONNRESET' },
];

// ---------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------

test('a real trace of a lossy transfer survives the JSONL round trip exactly', (t) => {
  const p = lossyTransfer();
  const events = collect(p);
  p.lab.runUntilIdle();
  t.is(p.received(), 200_000);
  const types = new Set(events.map((e) => e.type));
  for (const type of ['segment', 'state', 'timer', 'rtt', 'retransmit', 'cwnd'] as const) t.true(types.has(type), `the trace has ${type} events`);
  t.log(`${events.length} events of ${types.size} types: ${[...types].join(', ')}`);

  const text = toJsonl(events);
  const lines = text.split('\n');
  t.is(lines.length, events.length + 1);
  t.is(lines[lines.length - 1], '');
  const back = parseJsonl(text);
  t.deepEqual(back, events.map(defined));
  t.is(toJsonl(back), text);
  // Each line alone is the event.
  t.deepEqual(decodeEvent(lines[0]!), defined(events[0]!));
  t.is(encodeEvent(events[0]!), lines[0]);
});

test('every event type, optional fields, odd strings and numbers JSON cannot write round-trip exactly', (t) => {
  t.deepEqual([...new Set(handMade.map((e) => e.type))].sort(), [...TRACE_EVENT_TYPES].sort());
  const text = toJsonl(handMade);
  t.is(text.split('\n').length, handMade.length + 1, 'one line per event: newlines in strings are escaped');
  const back = parseJsonl(text);
  t.deepEqual(back, handMade);
  const timer = back[5] as Extract<TraceEvent, { type: 'timer' }>;
  t.is(timer.at, Infinity);
  t.false('at' in back[6]!);
  const rtt = back[7] as Extract<TraceEvent, { type: 'rtt' }>;
  t.true(Number.isNaN(rtt.sample));
  t.true(Object.is(rtt.srtt, -0));
  t.is(rtt.rttvar, 0.1 + 0.2);
  t.is((back[4] as Extract<TraceEvent, { type: 'drop' }>).reason, '{"$n":"NaN"}');
  t.is(back[back.length - 1]!.stack, 'ünïcødé ✓');
  // Plain events stay plain JSON; only the odd numbers are wrapped.
  t.is(encodeEvent(handMade[0]!), JSON.stringify(handMade[0]));
  t.regex(encodeEvent(handMade[5]!), /"at":\{"\$n":"Infinity"\}/);
  t.regex(encodeEvent(handMade[7]!), /"sample":\{"\$n":"NaN"\},"srtt":\{"\$n":"-0"\}/);
  // Keys whose value is undefined are left out.
  const withUndefined = { ...handMade[6]!, at: undefined } as TraceEvent;
  t.is(encodeEvent(withUndefined), encodeEvent(handMade[6]!));
});

test('parseJsonl skips blank lines, accepts CRLF and a missing final newline, and names the line of a bad event', (t) => {
  const [a, b] = [encodeEvent(handMade[2]!), encodeEvent(handMade[3]!)];
  t.deepEqual(parseJsonl(`\n${a}\r\n\n  \r\n${b}`), [handMade[2], handMade[3]]);
  t.deepEqual(parseJsonl(''), []);
  t.throws(() => parseJsonl(`${a}\n{"type":"state",`), { instanceOf: SyntaxError, message: /line 2: bad JSON/ });
  t.throws(() => parseJsonl(`${a}\n${b}\n[1,2]`), { instanceOf: SyntaxError, message: /line 3: not a JSON object/ });
  // A type this version does not know still loads (newer traces), checked for type, t and stack.
  t.deepEqual(parseJsonl('{"type":"future","t":0,"stack":"a","x":[1]}'), [{ type: 'future', t: 0, stack: 'a', x: [1] } as unknown as TraceEvent]);
  t.throws(() => parseJsonl('{"type":"future","t":0}'), { message: /line 1: 'stack' must be a string/ });
  t.throws(() => parseJsonl('{"t":0,"stack":"a"}'), { message: /line 1: missing 'type'/ });
  t.throws(() => parseJsonl('{"type":"arp","t":0,"stack":"a","iface":"e","what":"w","ip":"i","mac":5}'), { message: /'mac' must be a string or null/ });
  t.throws(() => parseJsonl('{"type":"state","t":"0","stack":"a","conn":"c","from":"x","to":"y","cause":"z"}'), { message: /'t' must be a number/ });
  t.throws(() => parseJsonl('{"type":"state","t":0,"stack":"a","conn":"c","from":"x","cause":"z"}'), { message: /state event without 'to'/ });
  t.throws(() => parseJsonl('{"type":"timer","t":0,"stack":"a","conn":"c","timer":"rtx","action":"armed"}'), { message: /'action' must be 'set' \| 'fired' \| 'cancelled'/ });
  t.throws(() => parseJsonl('{"type":"segment","t":0,"stack":"a","dir":"in","src":"s","dst":"d","srcPort":1,"dstPort":2,"flags":0,"seq":0,"ack":0,"window":0,"len":0,"sack":[[1]]}'), { message: /'sack' must be an array of \[number, number\]/ });
  t.is(validateEvent(handMade[0]), null);
  t.is(validateEvent(null), 'not a JSON object');
});

// ---------------------------------------------------------------------------
// The writer
// ---------------------------------------------------------------------------

test('JsonlWriter to a file: attach to both stacks, close, read back the same trace', async (t) => {
  const path = tmpFile('trace.jsonl');
  const p = lossyTransfer(5);
  const events = collect(p);
  const writer = new JsonlWriter(path, { batchChars: 4096 });
  writer.attach(p.a.tracer);
  writer.attach(p.b.tracer);
  p.lab.runUntilIdle();
  t.true(readFileSync(path, 'utf8').length > 0, 'full batches are written while running');
  await writer.close();
  t.is(writer.events, events.length);
  t.deepEqual(readJsonl(path), events.map(defined));
  t.is(readFileSync(path, 'utf8'), toJsonl(events));
  // close() detached the writer: only the test's own listeners remain.
  t.true(p.a.tracer.enabled);
  await t.notThrowsAsync(writer.close()); // twice is fine
});

test('JsonlWriter detach stops one tracer; close leaves tracers without listeners disabled', async (t) => {
  const path = tmpFile('detach.jsonl');
  const p = lossyTransfer(6);
  const writer = new JsonlWriter(path);
  const detachA = writer.attach(p.a.tracer);
  writer.attach(p.b.tracer);
  t.true(p.a.tracer.enabled && p.b.tracer.enabled);
  p.lab.run(30);
  detachA();
  t.false(p.a.tracer.enabled);
  const before = writer.events;
  p.lab.runUntilIdle();
  await writer.close();
  t.false(p.b.tracer.enabled);
  const events = readJsonl(path);
  t.is(events.length, writer.events);
  t.true(writer.events > before);
  t.true(events.slice(before).every((e) => e.stack === 'b'));
  t.true(events.slice(0, before).some((e) => e.stack === 'a'));
  t.throws(() => writer.attach(new Tracer()), { message: /closed/ });
});

class CountingStream extends Writable {
  chunks: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.chunks.push(chunk.toString('utf8'));
    done();
  }
}

test('JsonlWriter to a stream writes in batches, one write per batch, and ends the stream on close', async (t) => {
  const p = lossyTransfer(7);
  const stream = new CountingStream();
  const writer = new JsonlWriter(stream);
  writer.attach(p.a.tracer);
  p.lab.runUntilIdle();
  await writer.close();
  t.true(stream.writableFinished);
  const text = stream.chunks.join('');
  t.true(writer.events > 300);
  t.true(stream.chunks.length <= Math.ceil(text.length / 65536) + 1, `${stream.chunks.length} writes for ${writer.events} events`);
  t.is(parseJsonl(text).length, writer.events);

  const kept = new CountingStream();
  const w2 = new JsonlWriter(kept, { end: false });
  w2.write(handMade[0]!);
  await w2.close();
  t.false(kept.writableEnded);
  t.is(kept.chunks.join(''), `${encodeEvent(handMade[0]!)}\n`);
});

test('JsonlWriter reports a failing stream on close', async (t) => {
  const broken = new Writable({
    write(_chunk, _enc, done) {
      done(new Error('EPIPE-ish'));
    },
  });
  const writer = new JsonlWriter(broken, { batchChars: 1 });
  writer.write(handMade[0]!);
  await t.throwsAsync(writer.close(), { message: 'EPIPE-ish' });
});

test('readJsonl reads a file written by hand', (t) => {
  const path = tmpFile('hand.jsonl');
  writeFileSync(path, toJsonl(handMade));
  t.deepEqual(readJsonl(path), handMade);
});

// ---------------------------------------------------------------------------
// diagnostics_channel (serial: subscriptions are process-wide)
// ---------------------------------------------------------------------------

test.serial('diagnostics_channel: the tracer stays disabled until someone subscribes, and builds no event', (t) => {
  const p = lossyTransfer(8);
  const release = publishTrace(p.a);
  t.true(isPublished(p.a));
  t.false(p.a.tracer.enabled, 'nobody subscribed: tracer.enabled is false');
  let emits = 0;
  const emit = p.a.tracer.emit.bind(p.a.tracer);
  p.a.tracer.emit = (ev) => {
    emits++;
    emit(ev);
  };
  p.lab.runUntilIdle();
  t.is(p.received(), 200_000);
  t.is(emits, 0, 'no event was built while nobody listened');
  t.false(p.a.tracer.enabled);
  release();
  t.false(isPublished(p.a));
  t.false(p.a.tracer.enabled);
});

test.serial('diagnostics_channel: events reach tcplab:trace and their own type channel, only while subscribed', (t) => {
  const p = lossyTransfer(9);
  const release = publishTrace(p.a);
  const releaseB = publishTrace(p.b);
  const all: TraceEvent[] = [];
  const segments: TraceEvent[] = [];
  const onAll = (m: unknown): void => void all.push(m as TraceEvent);
  const onSegment = (m: unknown): void => void segments.push(m as TraceEvent);

  t.teardown(() => {
    diagnosticsChannel.unsubscribe(traceChannelName('segment'), onSegment);
    diagnosticsChannel.unsubscribe(TRACE_CHANNEL, onAll);
    release();
    releaseB();
  });
  diagnosticsChannel.subscribe(traceChannelName('segment'), onSegment);
  t.true(p.a.tracer.enabled, 'a type channel subscriber enables the tracer');
  p.lab.run(50);
  t.true(segments.length > 0);
  t.true(segments.every((e) => e.type === 'segment'));
  t.deepEqual([...new Set(segments.map((e) => e.stack))].sort(), ['a', 'b']);

  diagnosticsChannel.subscribe(TRACE_CHANNEL, onAll);
  const nSegments = segments.length;
  p.lab.run(500);
  t.true(new Set(all.map((e) => e.type)).size >= 4, 'the root channel carries every type');
  t.is(segments.length - nSegments, all.filter((e) => e.type === 'segment').length);

  diagnosticsChannel.unsubscribe(traceChannelName('segment'), onSegment);
  diagnosticsChannel.unsubscribe(TRACE_CHANNEL, onAll);
  t.false(p.a.tracer.enabled, 'the last unsubscribe disables it again');
  t.false(p.b.tracer.enabled);
  const seen = all.length;
  p.lab.run(500);
  t.is(all.length, seen);

  // subscribeTrace is the same thing.
  const states: TraceEvent[] = [];
  const off = subscribeTrace((e) => states.push(e), 'state');
  t.true(p.a.tracer.enabled);
  p.lab.runUntilIdle();
  off();
  t.true(states.length > 0 && states.every((e) => e.type === 'state'));
  t.false(p.a.tracer.enabled);
});

test.serial('diagnostics_channel: tracer listeners keep working beside the bridge; releasing restores a plain tracer', (t) => {
  const tracer = new Tracer();
  const ev = handMade[2]!;
  const r1 = publishTrace(tracer);
  const r2 = publishTrace(tracer);
  const viaListener: TraceEvent[] = [];
  const viaChannel: TraceEvent[] = [];
  const off = tracer.on((e) => viaListener.push(e));
  t.true(tracer.enabled);
  tracer.emit(ev);
  t.deepEqual(viaListener, [ev]);
  t.deepEqual(viaChannel, []);
  const unsub = subscribeTrace((e) => viaChannel.push(e));
  t.teardown(unsub);
  off();
  t.true(tracer.enabled, 'still enabled for the channel subscriber');
  tracer.emit(ev);
  t.is(viaListener.length, 1);
  t.deepEqual(viaChannel, [ev]);
  unsub();
  t.false(tracer.enabled);

  r1();
  r1(); // releasing twice counts once
  t.true(isPublished(tracer));
  r2();
  t.false(isPublished(tracer));
  const desc = Object.getOwnPropertyDescriptor(tracer, 'enabled');
  t.is(desc?.value, false);
  t.true(desc?.writable);
  t.false(Object.prototype.hasOwnProperty.call(tracer, 'emit'));
  // Without a bridge, channel subscribers see nothing and the tracer stays off.
  const unsub2 = subscribeTrace((e) => viaChannel.push(e));
  t.false(tracer.enabled);
  tracer.on(() => undefined);
  tracer.emit(ev);
  unsub2();
  t.is(viaChannel.length, 1);
});

test.serial('without publishTrace, a stack ignores the channels entirely', (t) => {
  const p = lossyTransfer(10);
  const got: TraceEvent[] = [];
  const off = subscribeTrace((e) => got.push(e));
  t.false(p.a.tracer.enabled);
  p.lab.runUntilIdle();
  off();
  t.is(got.length, 0);
});

test('JsonlWriter writes a pending batch within flushIntervalMs of real time', async (t) => {
  const path = tmpFile('live.jsonl');
  const writer = new JsonlWriter(path, { flushIntervalMs: 20 });
  writer.write(handMade[3]!);
  t.is(readFileSync(path, 'utf8'), '');
  await new Promise((resolve) => setTimeout(resolve, 80));
  t.deepEqual(readJsonl(path), [handMade[3]]);
  await writer.close();
});
