// The connection lifecycle on the wire: handshakes, every close path, TIME-WAIT,
// RST generation and acceptance, SYN retransmission and its limit.

import test from 'ava';
import { A, B, Recorder, ip, pair, segments } from '../../helpers/sim';
import type { TcpConnection } from '../../../stack/tcp/connection';
import type { Pair } from '../../helpers/sim';

function listen(p: Pair, port = 80, rec = new Recorder()): { rec: Recorder; conns: TcpConnection[] } {
  const conns: TcpConnection[] = [];
  p.b.tcp.listen({ port }, {
    onConnection(c) {
      conns.push(c);
      rec.conn = c;
      c.attach(rec);
    },
  });
  return { rec, conns };
}

test('three-way handshake: flags, seq/ack and the MSS each side announces', (t) => {
  const p = pair({ link: { delayMs: 10 } });
  const srv = listen(p);
  const cli = new Recorder();
  const conn = p.a.tcp.connect({ remoteAddress: ip(B), remotePort: 80 }, cli);
  p.lab.runUntilIdle();
  const segs = segments(p.lab);
  t.true(segs.length >= 3);
  const [syn, synAck, ack] = segs;
  t.is(syn.flags, 'S');
  t.is(syn.from, 'a');
  t.is(syn.dstPort, 80);
  t.is(syn.mss, 1460);
  t.true(syn.sackOk);
  t.true(syn.ts);
  t.true(syn.wscale >= 0);
  t.is(syn.len, 0);
  t.is(syn.t, 0);
  t.is(synAck.flags, 'S.');
  t.is(synAck.from, 'b');
  t.is(synAck.ack, (syn.seq + 1) >>> 0);
  t.is(synAck.mss, 1460);
  t.is(synAck.t, 10);
  t.is(ack.flags, '.');
  t.is(ack.seq, (syn.seq + 1) >>> 0);
  t.is(ack.ack, (synAck.seq + 1) >>> 0);
  t.is(ack.t, 20);
  t.is(conn.state, 'ESTABLISHED');
  t.is(srv.conns.length, 1);
  t.is(srv.conns[0].state, 'ESTABLISHED');
  t.deepEqual(cli.events, ['connect']);
  t.is(conn.localAddr.v4, ip(A));
  t.true(conn.localPort >= 32768 && conn.localPort <= 60999);
  t.is(srv.conns[0].remotePort, conn.localPort);
});

test('without options in the SYN the peer MSS defaults to 536 (RFC 9293 3.7.1)', (t) => {
  const p = pair({ configA: { tcp: { timestamps: false, windowScaling: false, sack: false } } });
  listen(p);
  const conn = p.a.tcp.connect({ remoteAddress: ip(B), remotePort: 80 }, new Recorder());
  p.lab.runUntilIdle();
  const [syn, synAck] = segments(p.lab);
  t.is(syn.wscale, -1);
  t.false(syn.ts);
  t.false(syn.sackOk);
  // The SYN-ACK offers only what the SYN offered.
  t.is(synAck.wscale, -1);
  t.false(synAck.ts);
  t.false(synAck.sackOk);
  t.is(conn.sndMss, 1460);
  t.false(conn.tsOn);
});

test('simultaneous open: both sides send SYN, both reach ESTABLISHED through SYN-RECEIVED', (t) => {
  const p = pair({ link: { delayMs: 5 } });
  const ra = new Recorder();
  const rb = new Recorder();
  const ca = p.a.tcp.connect({ remoteAddress: ip(B), remotePort: 5000, localPort: 6000 }, ra);
  const cb = p.b.tcp.connect({ remoteAddress: ip(A), remotePort: 6000, localPort: 5000 }, rb);
  p.lab.runUntilIdle();
  t.is(ca.state, 'ESTABLISHED');
  t.is(cb.state, 'ESTABLISHED');
  t.deepEqual(ra.states, ['SYN-SENT', 'SYN-RECEIVED', 'ESTABLISHED']);
  t.deepEqual(rb.states, ['SYN-SENT', 'SYN-RECEIVED', 'ESTABLISHED']);
  const flags = segments(p.lab).map((s) => `${s.from}:${s.flags}`);
  t.deepEqual(flags.slice(0, 4).sort(), ['a:S', 'a:S.', 'b:S', 'b:S.'].sort());
  t.true(ra.connected && rb.connected);
});

function established(p: Pair): { cli: Recorder; conn: TcpConnection; srv: Recorder; sconn: TcpConnection } {
  const srv = listen(p);
  const cli = new Recorder();
  const conn = p.a.tcp.connect({ remoteAddress: ip(B), remotePort: 80 }, cli);
  p.lab.runUntilIdle();
  return { cli, conn, srv: srv.rec, sconn: srv.conns[0] };
}

test('active close by the client: FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT for 2*MSL, then CLOSED; server CLOSE-WAIT, LAST-ACK', (t) => {
  const p = pair({ link: { delayMs: 1 } });
  const { cli, conn, srv, sconn } = established(p);
  cli.states.length = 0;
  srv.states.length = 0;
  conn.shutdown();
  p.lab.run(100);
  t.is(conn.state, 'FIN-WAIT-2');
  t.is(sconn.state, 'CLOSE-WAIT');
  t.true(srv.ended);
  sconn.shutdown();
  const tClose = p.lab.now();
  p.lab.run(100);
  t.is(conn.state, 'TIME-WAIT');
  t.is(sconn.state, 'CLOSED');
  t.deepEqual(cli.states, ['FIN-WAIT-1', 'FIN-WAIT-2', 'TIME-WAIT']);
  t.deepEqual(srv.states, ['CLOSE-WAIT', 'LAST-ACK', 'CLOSED']);
  t.true(cli.closed && srv.closed);
  t.is(cli.error, null);
  // TIME-WAIT lasts 2*MSL = 60 s from the arrival of the server's FIN (1 ms after it was sent).
  p.lab.runUntilIdle();
  t.is(conn.state, 'CLOSED');
  const twEnter = tClose + 1;
  t.is(p.lab.now(), twEnter + 60_000);
  t.is(p.a.tcp.table.size, 0);
  t.is(p.b.tcp.table.size, 0);
});

test('TIME-WAIT length follows the configured MSL', (t) => {
  const p = pair({ config: { tcp: { mslMs: 1000 } } });
  const { conn, sconn } = established(p);
  conn.shutdown();
  p.lab.run(10);
  sconn.shutdown();
  const start = p.lab.now();
  p.lab.runUntilIdle();
  t.is(conn.state, 'CLOSED');
  t.is(p.lab.now() - start, 2000);
});

test('active close by the server: the server goes through TIME-WAIT, the client through LAST-ACK', (t) => {
  const p = pair({ link: { delayMs: 1 } });
  const { cli, conn, srv, sconn } = established(p);
  cli.states.length = 0;
  srv.states.length = 0;
  sconn.shutdown();
  p.lab.run(50);
  t.true(cli.ended);
  conn.shutdown();
  p.lab.run(50);
  t.deepEqual(srv.states, ['FIN-WAIT-1', 'FIN-WAIT-2', 'TIME-WAIT']);
  t.deepEqual(cli.states, ['CLOSE-WAIT', 'LAST-ACK', 'CLOSED']);
  p.lab.runUntilIdle();
  t.is(sconn.state, 'CLOSED');
});

test('simultaneous close: both in FIN-WAIT-1 receive FIN -> CLOSING -> TIME-WAIT', (t) => {
  const p = pair({ link: { delayMs: 5 } });
  const { cli, conn, srv, sconn } = established(p);
  cli.states.length = 0;
  srv.states.length = 0;
  conn.shutdown();
  sconn.shutdown();
  p.lab.run(100);
  t.deepEqual(cli.states, ['FIN-WAIT-1', 'CLOSING', 'TIME-WAIT']);
  t.deepEqual(srv.states, ['FIN-WAIT-1', 'CLOSING', 'TIME-WAIT']);
  const fins = segments(p.lab).filter((s) => s.flags.includes('F'));
  t.is(fins.length, 2);
  p.lab.runUntilIdle();
  t.is(conn.state, 'CLOSED');
  t.is(sconn.state, 'CLOSED');
});

test('half-close: after the client FINs, the server keeps sending and the client keeps receiving', (t) => {
  const p = pair({ link: { delayMs: 2 } });
  const { cli, conn, srv, sconn } = established(p);
  conn.send(new TextEncoder().encode('request'));
  conn.shutdown();
  p.lab.run(50);
  t.is(Buffer.concat(srv.received).toString(), 'request');
  t.true(srv.ended);
  t.is(conn.state, 'FIN-WAIT-2');
  for (let i = 0; i < 5; i++) {
    sconn.send(new TextEncoder().encode(`reply ${i};`));
    p.lab.run(20);
  }
  sconn.shutdown();
  p.lab.runUntilIdle();
  t.is(Buffer.concat(cli.received).toString(), 'reply 0;reply 1;reply 2;reply 3;reply 4;');
  t.true(cli.ended);
  t.is(conn.state, 'CLOSED');
  t.is(sconn.state, 'CLOSED');
  t.throws(() => conn.send(new Uint8Array(1)), { code: 'EPIPE' });
});

test('RST to a closed port: <SEQ=0><ACK=SEG.SEQ+1> for a SYN, and the client gets ECONNREFUSED', (t) => {
  const p = pair({ link: { delayMs: 3 } });
  const cli = new Recorder();
  const conn = p.a.tcp.connect({ remoteAddress: ip(B), remotePort: 81 }, cli);
  p.lab.runUntilIdle();
  const [syn, rst] = segments(p.lab);
  t.is(syn.flags, 'S');
  t.is(rst.flags, 'R.');
  t.is(rst.seq, 0);
  t.is(rst.ack, (syn.seq + 1) >>> 0);
  t.is(rst.t, 3);
  t.is(conn.state, 'CLOSED');
  t.is(cli.error?.code, 'ECONNREFUSED');
  t.deepEqual(cli.events, ['close:ECONNREFUSED']);
  t.deepEqual(cli.states, ['SYN-SENT', 'CLOSED']);
  t.is(p.b.counter('tcp-no-socket'), 1);
});

test('an ACK to a closed port is answered with RST <SEQ=SEG.ACK>; a RST is never answered', (t) => {
  const p = pair();
  const { conn, sconn } = established(p);
  // The server vanishes without a word (a crash): its next segments will find no socket.
  p.b.tcp.table.remove(sconn);
  conn.send(new Uint8Array([1, 2, 3]));
  p.lab.runUntilIdle();
  const segs = segments(p.lab);
  const data = segs.find((s) => s.from === 'a' && s.len === 3);
  const rst = segs.find((s) => s.from === 'b' && s.flags === 'R');
  t.truthy(data);
  t.truthy(rst);
  t.is(rst!.seq, data!.ack);
  t.is(conn.state, 'CLOSED');
  t.is(conn.error?.code, 'ECONNRESET');
  t.is(segs.filter((s) => s.from === 'a' && s.flags.includes('R')).length, 0);
});

test('RST in SYN-SENT with an acceptable ACK refuses; a RST with a wrong ACK is ignored', (t) => {
  const p = pair({ link: { delayMs: 1 } });
  const cli = new Recorder();
  const conn = p.a.tcp.connect({ remoteAddress: ip(B), remotePort: 99 }, cli);
  p.lab.runUntilIdle();
  t.is(cli.error?.code, 'ECONNREFUSED');
  t.is(conn.state, 'CLOSED');
});

test('abort sends RST and the peer reports ECONNRESET', (t) => {
  const p = pair({ link: { delayMs: 1 } });
  const { cli, conn, srv, sconn } = established(p);
  conn.abort();
  p.lab.runUntilIdle();
  t.is(conn.state, 'CLOSED');
  t.is(sconn.state, 'CLOSED');
  t.is(srv.error?.code, 'ECONNRESET');
  t.is(cli.error, null);
  t.true(cli.closed);
  const rst = segments(p.lab).find((s) => s.flags.includes('R'));
  t.is(rst?.from, 'a');
});

test('close() with unread data resets the connection (as Linux close)', (t) => {
  const p = pair({ link: { delayMs: 1 } });
  const { conn, srv, sconn } = established(p);
  srv.reading = false;
  conn.send(new Uint8Array(100));
  p.lab.run(10);
  t.is(sconn.readableLength, 100);
  sconn.close();
  p.lab.runUntilIdle();
  t.is(sconn.state, 'CLOSED');
  t.is(conn.state, 'CLOSED');
  t.is(conn.error?.code, 'ECONNRESET');
});

test('a lost SYN is retransmitted at 1 s, 3 s, 7 s ... and the connect fails with ETIMEDOUT after the limit', (t) => {
  const p = pair({ link: { delayMs: 1 } });
  p.lab.links.get('a-b')!.set({ aToB: { loss: 1 } });
  const cli = new Recorder();
  const conn = p.a.tcp.connect({ remoteAddress: ip(B), remotePort: 80 }, cli);
  p.lab.runUntilIdle();
  const syns = segments(p.lab).filter((s) => s.flags === 'S');
  // tcp_syn_retries = 6: SYNs at 0, 1, 3, 7, 15, 31, 63 s, failure at 127 s.
  t.deepEqual(syns.map((s) => s.t), [0, 1000, 3000, 7000, 15000, 31000, 63000]);
  t.true(syns.every((s) => s.seq === syns[0].seq));
  t.is(conn.state, 'CLOSED');
  t.is(cli.error?.code, 'ETIMEDOUT');
  t.is(p.lab.now(), 127_000);
});

test('the SYN retry limit is configurable', (t) => {
  const p = pair({ configA: { tcp: { synRetries: 2 } } });
  p.lab.links.get('a-b')!.set({ up: false });
  const cli = new Recorder();
  p.a.tcp.connect({ remoteAddress: ip(B), remotePort: 80 }, cli);
  p.lab.runUntilIdle();
  t.is(cli.error?.code, 'ETIMEDOUT');
  t.is(p.lab.now(), 7000);
});

test('a lost SYN-ACK: the client retransmits its SYN, the server answers it with the same SYN-ACK', (t) => {
  const p = pair({ link: { delayMs: 10 } });
  const srv = listen(p);
  const link = p.lab.links.get('a-b')!;
  link.set({ bToA: { loss: 1 } });
  const cli = new Recorder();
  const conn = p.a.tcp.connect({ remoteAddress: ip(B), remotePort: 80 }, cli);
  p.lab.run(500);
  link.set({ bToA: { loss: 0 } });
  p.lab.run(5000);
  t.is(conn.state, 'ESTABLISHED');
  t.is(srv.conns[0]?.state, 'ESTABLISHED');
  const synAcks = segments(p.lab).filter((s) => s.flags === 'S.');
  t.true(synAcks.length >= 2);
  t.true(synAcks.every((s) => s.seq === synAcks[0].seq));
});

test('connect without a route fails at once with ENETUNREACH', (t) => {
  const p = pair();
  t.throws(() => p.a.tcp.connect({ remoteAddress: ip('192.0.2.1'), remotePort: 80 }, new Recorder()), { code: 'ENETUNREACH' });
});

test('listen on a port in use fails with EADDRINUSE; port 0 picks a free one', (t) => {
  const p = pair();
  p.b.tcp.listen({ port: 80 }, { onConnection() {} });
  t.throws(() => p.b.tcp.listen({ port: 80 }, { onConnection() {} }), { code: 'EADDRINUSE' });
  const l = p.b.tcp.listen({ port: 0 }, { onConnection() {} });
  t.true(l.localPort >= 32768);
});

test('the accept queue is bounded by the backlog: SYNs beyond it are dropped until the user accepts', (t) => {
  const p = pair({ link: { delayMs: 1 } });
  const accepted: TcpConnection[] = [];
  const l = p.b.tcp.listen({ port: 80, backlog: 2 }, { onConnection(c) { accepted.push(c); c.attach(new Recorder()); } });
  l.pause();
  const clients: TcpConnection[] = [];
  for (let i = 0; i < 4; i++) clients.push(p.a.tcp.connect({ remoteAddress: ip(B), remotePort: 80 }, new Recorder()));
  p.lab.run(500);
  t.is(l.acceptQueue.length, 2);
  t.is(clients.filter((c) => c.state === 'ESTABLISHED').length, 2);
  t.true(p.b.counter('tcp-listen-overflow') >= 2);
  l.resume();
  p.lab.run(5000);
  // The dropped SYNs are retransmitted after 1 s and now find room.
  t.is(accepted.length, 4);
  t.true(clients.every((c) => c.state === 'ESTABLISHED'));
});

test('data arriving for a user-closed connection is answered with RST', (t) => {
  const p = pair({ link: { delayMs: 1 } });
  const { conn, sconn } = established(p);
  sconn.close();
  p.lab.run(100); // past the client's delayed ACK of the FIN
  t.is(sconn.state, 'FIN-WAIT-2');
  conn.send(new Uint8Array(10));
  p.lab.runUntilIdle();
  t.is(conn.error?.code, 'ECONNRESET');
  t.is(sconn.state, 'CLOSED');
});

test('shutdown after the peer FIN while data is still queued: LAST-ACK keeps sending until all of it is acknowledged', (t) => {
  const p = pair({ link: { delayMs: 5 }, configB: { tcp: { receiveBufferBytes: 32 * 1024 } } });
  const { cli, conn, srv, sconn } = established(p);
  conn.shutdown(); // the client half-closes at once
  p.lab.run(100);
  t.is(sconn.state, 'CLOSE-WAIT');
  // The server queues far more than one window, then closes its side.
  cli.reading = true;
  sconn.send(new Uint8Array(500_000).fill(3));
  sconn.shutdown();
  t.is(sconn.state, 'LAST-ACK');
  p.lab.runUntilIdle();
  t.is(cli.bytes, 500_000);
  t.true(cli.ended);
  t.is(sconn.state, 'CLOSED');
  t.is(conn.state, 'CLOSED');
  t.true(srv.closed);
});
