// Every kind of trace event is produced by the stack, with the fields a reader
// of the trace needs; and a stack nobody listens to builds no events at all.

import test from 'ava';
import { runScenario, scenarios } from '../../tools/scenarios';
import type { TraceEvent } from '../../stack/trace';
import { Lab } from '../../tools/lab/lab';
import { parseIpv4Address } from '../../stack/wire/ipv4';

function allEvents(): TraceEvent[] {
  const events: TraceEvent[] = [];
  for (const s of scenarios) events.push(...runScenario(s, {}).events);
  // ARP and ICMP need an Ethernet link and a ping.
  const lab = new Lab({ seed: 1 });
  const a = lab.host('a');
  const b = lab.host('b');
  a.tracer.on((e) => events.push(e));
  lab.link(a, b, { addressA: '10.0.0.1/24', addressB: '10.0.0.2/24', linkType: 'ethernet' });
  a.ip.ping(parseIpv4Address('10.0.0.2'), 1, 1, new Uint8Array(4));
  lab.runUntilIdle();
  return events;
}

test('every event kind appears, with its fields', (t) => {
  const events = allEvents();
  const byType = new Map<string, TraceEvent[]>();
  for (const e of events) {
    if (!byType.has(e.type)) byType.set(e.type, []);
    byType.get(e.type)!.push(e);
  }
  const kinds = ['segment', 'state', 'drop', 'timer', 'rtt', 'retransmit', 'cwnd', 'probe', 'nagle', 'ack', 'window', 'arp', 'icmp', 'error'];
  t.deepEqual(kinds.filter((k) => !byType.has(k)), []);
  const one = <K extends TraceEvent['type']>(k: K, pred: (e: Extract<TraceEvent, { type: K }>) => boolean): boolean =>
    (byType.get(k) as Array<Extract<TraceEvent, { type: K }>>).some(pred);
  t.true(one('segment', (e) => e.dir === 'out' && e.mss === 1460 && e.windowScale !== undefined && e.tsVal !== undefined));
  t.true(one('state', (e) => e.from === 'SYN-SENT' && e.to === 'ESTABLISHED' && e.cause.length > 0));
  t.true(one('timer', (e) => e.timer === 'rtx' && e.action === 'set' && typeof e.at === 'number'));
  t.true(one('timer', (e) => e.timer === 'rtx' && e.action === 'fired'));
  t.true(one('timer', (e) => e.timer === 'rtx' && e.action === 'cancelled'));
  t.true(one('timer', (e) => e.timer === 'delack' && e.action === 'fired'));
  t.true(one('timer', (e) => e.timer === 'keepalive' && e.action === 'set'));
  t.true(one('rtt', (e) => e.sample > 0 && e.srtt > 0 && e.rttvar >= 0 && e.rto >= 200));
  t.true(one('retransmit', (e) => e.reason.includes('RTO') && e.len > 0));
  t.true(one('cwnd', (e) => e.cause === 'RTO' && e.cwnd > 0 && e.ssthresh > 0));
  t.true(one('probe', (e) => e.kind === 'keepalive' && e.of === 3));
  t.true(one('probe', (e) => e.kind === 'zero-window'));
  t.true(one('nagle', (e) => e.held > 0 && e.outstanding > 0));
  t.true(one('ack', (e) => e.action === 'delayed' && e.delayMs === 40));
  t.true(one('window', (e) => e.side === 'send' && e.window === 0));
  t.true(one('window', (e) => e.side === 'receive'));
  t.true(one('arp', (e) => e.what === 'learned' && e.mac !== null));
  t.true(one('icmp', (e) => e.dir === 'in' && e.icmpType === 0));
  t.true(one('error', (e) => e.code === 'ECONNRESET'));
  t.true(one('drop', (e) => e.layer === 'link'));
});

test('with no listener the tracer stays disabled and no event is built', (t) => {
  const s = scenarios.find((x) => x.name === 'loss')!;
  const run = runScenario(s, {});
  t.true(run.events.length > 100);
  const lab = new Lab({ seed: 1, record: false });
  const a = lab.host('a');
  const b = lab.host('b');
  lab.link(a, b, { addressA: '10.0.0.1/24', addressB: '10.0.0.2/24', loss: 0.05 });
  let emitted = 0;
  const original = a.tracer.emit.bind(a.tracer);
  a.tracer.emit = (e) => { emitted++; original(e); };
  b.tcp.listen({ port: 80 }, { onConnection(c) { c.attach({ onReadable(c) { while (c.read() !== null); }, onEnd(c) { c.shutdown(); } }); } });
  const conn = a.tcp.connect({ remoteAddress: parseIpv4Address('10.0.0.2'), remotePort: 80 }, {});
  conn.attach({ onConnect(c) { c.send(new Uint8Array(300_000)); c.shutdown(); } });
  lab.runUntilIdle();
  t.false(a.tracer.enabled);
  t.is(emitted, 0);
  t.true(a.tcp.segmentsOut > 200);
});
