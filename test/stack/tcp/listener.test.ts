// The LISTEN path: SYNs are answered from small request records in the SYN
// queue, and a connection exists only once the handshake completes. Segments
// are injected on the wire from host a's end of the link; b is the listener.

import test from 'ava';
import { A, B, Recorder, inject, ip, pair, segments, type Pair } from '../../helpers/sim';
import type { TcpConnection } from '../../../stack/tcp/connection';
import type { TcpListener } from '../../../stack/tcp/listener';
import { TCP_ACK, TCP_RST, TCP_SYN } from '../../../stack/wire/tcp';
import type { TraceEvent } from '../../../stack/trace';
import { IPPROTO_ICMP, writeIpv4Header } from '../../../stack/wire/ipv4';
import { ICMP_DEST_UNREACHABLE, writeIcmpError } from '../../../stack/wire/icmp';

interface Setup {
  p: Pair;
  l: TcpListener;
  accepted: TcpConnection[];
  received: Recorder[];
  events: TraceEvent[];
}

/** b listens on port 80; nothing from b reaches a (so a never answers b's SYN-ACKs with RST). */
function setup(backlog = 8): Setup {
  const p = pair({ link: { delayMs: 5 } });
  p.lab.links.get('a-b')!.set({ bToA: { loss: 1 } });
  const accepted: TcpConnection[] = [];
  const received: Recorder[] = [];
  const events: TraceEvent[] = [];
  p.b.tracer.on((e) => events.push(e));
  const l = p.b.tcp.listen({ port: 80, backlog }, {
    onConnection(c) {
      accepted.push(c);
      const r = new Recorder();
      received.push(r);
      c.attach(r);
    },
  });
  return { p, l, accepted, received, events };
}

const synAcks = (p: Pair, port: number): ReturnType<typeof segments> =>
  segments(p.lab).filter((s) => s.from === 'b' && s.flags === 'S.' && s.dstPort === port);

test('a SYN makes a request, not a connection; the SYN-ACK is retransmitted at 1, 3, 7, 15, 31 s and the request is dropped at 63 s', (t) => {
  const { p, l, events } = setup();
  inject(p, 'a', { srcPort: 40000, dstPort: 80, seq: 1000, flags: TCP_SYN, mss: 1460 });
  p.lab.run(6);
  t.is(l.synQueue, 1);
  t.is(p.b.tcp.connections().length, 0, 'no connection object for a half-open handshake');
  p.lab.run(70_000);
  const times = synAcks(p, 40000).map((s) => Math.round(s.t - 5));
  t.deepEqual(times, [0, 1000, 3000, 7000, 15000, 31000]);
  t.true(synAcks(p, 40000).every((s) => s.ack === 1001 && s.mss === 1460));
  t.is(l.synQueue, 0);
  const states = events.filter((e) => e.type === 'state').map((e) => e.type === 'state' ? `${e.to}:${e.cause}` : '');
  t.deepEqual(states, ['SYN-RECEIVED:SYN received', 'CLOSED:retransmission limit']);
  t.is(p.b.tcp.connections().length, 0);
});

test('the backlog counts requests: SYNs beyond it are dropped, and room comes back when requests end', (t) => {
  const { p, l } = setup(4);
  for (let i = 0; i < 6; i++) inject(p, 'a', { srcPort: 41000 + i, dstPort: 80, seq: 1, flags: TCP_SYN });
  p.lab.run(6);
  t.is(l.synQueue, 4);
  t.is(p.b.counter('tcp-listen-overflow'), 2);
  t.deepEqual(segments(p.lab).filter((s) => s.from === 'b').map((s) => s.dstPort), [41000, 41001, 41002, 41003]);
  p.lab.run(64_000);
  t.is(l.synQueue, 0);
  inject(p, 'a', { srcPort: 41010, dstPort: 80, seq: 1, flags: TCP_SYN });
  p.lab.run(6);
  t.is(l.synQueue, 1);
});

test('the ACK of the SYN-ACK makes the connection, with the data it carries', (t) => {
  const { p, accepted, received } = setup();
  inject(p, 'a', { srcPort: 42000, dstPort: 80, seq: 5000, flags: TCP_SYN, mss: 1460 });
  p.lab.run(10);
  const sa = synAcks(p, 42000)[0];
  inject(p, 'a', { srcPort: 42000, dstPort: 80, seq: 5001, ack: sa.seq + 1, flags: TCP_ACK, payload: new TextEncoder().encode('hello') });
  p.lab.run(10);
  t.is(accepted.length, 1);
  const c = accepted[0];
  t.is(c.state, 'ESTABLISHED');
  t.is(c.remotePort, 42000);
  t.is(c.sndMss, 1460);
  t.is(Buffer.concat(received[0].received).toString(), 'hello');
  t.is(p.b.tcp.connections().length, 1);
});

test('an ACK that does not acknowledge our SYN is answered with RST <SEQ=SEG.ACK>; the request stays', (t) => {
  const { p, l, accepted } = setup();
  inject(p, 'a', { srcPort: 43000, dstPort: 80, seq: 7000, flags: TCP_SYN });
  p.lab.run(10);
  const sa = synAcks(p, 43000)[0];
  inject(p, 'a', { srcPort: 43000, dstPort: 80, seq: 7001, ack: sa.seq + 99, flags: TCP_ACK });
  p.lab.run(10);
  const rst = segments(p.lab).filter((s) => s.from === 'b' && s.flags === 'R');
  t.deepEqual(rst.map((s) => s.seq), [(sa.seq + 99) >>> 0]);
  t.is(l.synQueue, 1);
  t.is(accepted.length, 0);
});

test('RST in SYN-RECEIVED: an exact one ends the request quietly, an in-window one draws a challenge ACK, an outside one is dropped', (t) => {
  const { p, l } = setup();
  inject(p, 'a', { srcPort: 44000, dstPort: 80, seq: 9000, flags: TCP_SYN });
  p.lab.run(10);
  const before = segments(p.lab).length;
  inject(p, 'a', { srcPort: 44000, dstPort: 80, seq: 9000 + 1 + 10_000_000, flags: TCP_RST });
  p.lab.run(10);
  t.is(segments(p.lab).length, before + 1, 'outside the window: no reply');
  t.is(l.synQueue, 1);
  inject(p, 'a', { srcPort: 44000, dstPort: 80, seq: 9005, flags: TCP_RST });
  p.lab.run(10);
  const challenge = segments(p.lab).slice(before).filter((s) => s.from === 'b');
  t.deepEqual(challenge.map((s) => [s.flags, s.ack]), [['.', 9001]]);
  t.is(l.synQueue, 1);
  inject(p, 'a', { srcPort: 44000, dstPort: 80, seq: 9001, flags: TCP_RST });
  p.lab.run(10);
  t.is(l.synQueue, 0);
  t.is(segments(p.lab).filter((s) => s.from === 'b').length, 2, 'the SYN-ACK and the challenge ACK, nothing for the exact RST');
});

test('a retransmitted SYN gets the same SYN-ACK again; closing the listener resets the handshakes in progress', (t) => {
  const { p, l } = setup();
  inject(p, 'a', { srcPort: 45000, dstPort: 80, seq: 100, flags: TCP_SYN });
  p.lab.run(10);
  inject(p, 'a', { srcPort: 45000, dstPort: 80, seq: 100, flags: TCP_SYN });
  p.lab.run(10);
  const sa = synAcks(p, 45000);
  t.is(sa.length, 2);
  t.is(sa[0].seq, sa[1].seq);
  l.close();
  p.lab.run(10);
  const rst = segments(p.lab).filter((s) => s.from === 'b' && s.flags === 'R.');
  t.deepEqual(rst.map((s) => [s.seq, s.ack, s.dstPort]), [[(sa[0].seq + 1) >>> 0, 101, 45000]]);
  t.is(l.synQueue, 0);
});

test('a real client connects through the request path, both ways of the address', (t) => {
  const p = pair({ link: { delayMs: 5 } });
  const srv = new Recorder();
  p.b.tcp.listen({ port: 80 }, { onConnection(c) { c.attach(srv); } });
  const cli = new Recorder();
  p.a.tcp.connect({ remoteAddress: ip(B), remotePort: 80 }, cli);
  p.lab.run(100);
  t.true(cli.connected);
  t.is(p.b.tcp.connections().length, 1);
  t.is(p.b.tcp.connections()[0].remoteAddr.v4, ip(A));
});

test('ICMP destination unreachable quoting our SYN-ACK ends the request (RFC 5927); one quoting another sequence number does not', (t) => {
  const { p, l } = setup();
  inject(p, 'a', { srcPort: 46000, dstPort: 80, seq: 300, flags: TCP_SYN });
  p.lab.run(10);
  const frame = p.lab.frames.find((f) => f.stage === 'send' && f.from === 'b')!.bytes;
  const icmpFor = (original: Uint8Array): Uint8Array => {
    const icmp = new Uint8Array(8 + original.length);
    writeIcmpError(icmp, 0, ICMP_DEST_UNREACHABLE, 3, original, 0, original.length);
    const pkt = new Uint8Array(20 + icmp.length);
    writeIpv4Header(pkt, 0, pkt.length, 9, false, 64, IPPROTO_ICMP, ip(A), ip(B));
    pkt.set(icmp, 20);
    return pkt;
  };
  const wrongSeq = new Uint8Array(frame); // a copy (frames are Buffers, whose slice() is a view)
  wrongSeq[27] ^= 0x40; // another sequence number in the quoted TCP header
  p.lab.links.get('a-b')!.a.send([icmpFor(wrongSeq)]);
  p.lab.run(10);
  t.is(l.synQueue, 1);
  p.lab.links.get('a-b')!.a.send([icmpFor(frame)]);
  p.lab.run(10);
  t.is(l.synQueue, 0);
});
