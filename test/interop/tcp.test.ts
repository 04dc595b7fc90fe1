// tcplab against the Linux kernel over TUN, inside a private network
// namespace: the kernel, driven by python3 programs run with `ip netns exec`,
// is the peer. Each test makes and deletes its own namespace.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaultInjector } from '../../devices/fault';
import { SeededRandom } from '../../stack/random';
import type { TcpConnection, TcpState } from '../../stack/tcp/connection';
import type { TraceEvent } from '../../stack/trace';
import { TCP_ACK, TCP_RST, TCP_SYN } from '../../stack/wire/tcp';
import { interop, tunLab, python, kernelProcess, Peer, pattern, sha256, sleep, KERNEL, US, ip } from './helpers';
import {
  BULK_CLIENT, BULK_SERVER, CONNECT_ONCE, ECHO_SERVER, IDLE_ECHO_SERVER, KEEPALIVE_CLIENT,
  READ_THEN_REPLY_SERVER, SEND_THEN_READ_CLIENT,
} from './pyprogs';

const MiB = 1024 * 1024;

interop('tcplab client to a kernel echo server: 1 MiB comes back byte for byte', async (t) => {
  const lab = tunLab(t);
  const py = python(lab.ns, ECHO_SERVER, [KERNEL, '7']);
  await py.line('ready');
  const data = pattern(MiB, 11);
  const client = new Peer({ keep: true });
  const conn = lab.stack.tcp.connect({ remoteAddress: ip(KERNEL), remotePort: 7 }, client);
  client.write(conn, data, 'shutdown');
  await client.until('echo and FIN', () => client.ended && client.received === data.length);
  t.is(sha256(client.chunks!), sha256(data));
  const accepted = await py.line('accepted');
  t.is(accepted, `accepted ${US} ${conn.localPort}`);
  t.is(await py.line('eof'), `eof ${data.length}`);
  await client.until('close', () => client.closed);
  t.is(client.error, null);
  t.is((await py.exited).code, 0);
});

interop('tcplab client fetches a file from python3 -m http.server in the namespace', async (t) => {
  const lab = tunLab(t);
  const dir = mkdtempSync(join(tmpdir(), 'tcplab-http-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const body = pattern(300_000, 5);
  writeFileSync(join(dir, 'blob.bin'), body);
  const server = kernelProcess(lab.ns, 'python3', ['-u', '-m', 'http.server', '8080', '--bind', KERNEL, '--directory', dir]);
  await server.line(/Serving HTTP/);
  const client = new Peer({ keep: true });
  const conn = lab.stack.tcp.connect({ remoteAddress: ip(KERNEL), remotePort: 8080 }, client);
  client.write(conn, new TextEncoder().encode(`GET /blob.bin HTTP/1.0\r\nHost: ${KERNEL}\r\n\r\n`), 'none');
  await client.until('the response and FIN', () => client.ended);
  const response = Buffer.concat(client.chunks!);
  const split = response.indexOf('\r\n\r\n');
  const head = response.subarray(0, split).toString('latin1');
  t.regex(head, /^HTTP\/1\.0 200 OK/);
  t.regex(head, new RegExp(`Content-Length: ${body.length}`));
  t.is(sha256(response.subarray(split + 4)), sha256(body));
  conn.close();
  await client.until('close', () => client.closed);
});

interop('kernel client to tcplab server: 64 MiB each way at once, equal SHA-256 on both ends', async (t) => {
  t.timeout(90_000);
  const lab = tunLab(t);
  const data = pattern(64 * MiB, 3);
  const server = new Peer();
  lab.stack.tcp.listen({ port: 5001 }, {
    onConnection(c) {
      c.attach(server);
      server.write(c, data, 'shutdown');
    },
  });
  const py = python(lab.ns, BULK_CLIENT, [US, '5001', String(64 * MiB)]);
  const result = await py.exited;
  t.is(result.code, 0, result.stderr);
  await server.until('close', () => server.closed);
  t.is(py.lines.find((l) => l.startsWith('sent')), `sent ${64 * MiB} ${server.digest}`);
  t.is(server.received, 64 * MiB);
  t.is(py.lines.find((l) => l.startsWith('received')), `received ${64 * MiB} ${sha256(data)}`);
  t.true(server.ended);
  t.is(server.error, null);
  t.is(lab.dev.stats.dropped, 0);
});

interop('half-close by the kernel: after its shutdown(SHUT_WR) tcplab still sends, and both sides see everything', async (t) => {
  const lab = tunLab(t);
  const reply = pattern(50_000, 9);
  const server = new Peer();
  const states: TcpState[] = [];
  let sentAfterEnd = false;
  lab.stack.tcp.listen({ port: 6000 }, {
    onConnection(c) {
      c.attach({
        onReadable: (cc) => server.onReadable(cc),
        onEnd: (cc) => {
          server.onEnd();
          // The kernel's FIN is in; our direction is still open.
          t.is(cc.state, 'CLOSE-WAIT');
          sentAfterEnd = true;
          server.write(cc, reply, 'shutdown');
        },
        onWritable: () => server.onWritable(),
        onClose: (cc, err) => server.onClose(cc, err),
        onStateChange: (_cc, _from, to) => states.push(to),
      });
    },
  });
  const py = python(lab.ns, SEND_THEN_READ_CLIENT, [US, '6000']);
  const shut = await py.line('shut');
  const eof = await py.line('eof');
  await server.until('close', () => server.closed);
  t.true(sentAfterEnd);
  t.is(shut, `shut 100000 ${server.digest}`);
  t.is(eof, `eof ${reply.length} ${sha256(reply)}`);
  t.deepEqual(states, ['CLOSE-WAIT', 'LAST-ACK', 'CLOSED']);
  t.is(server.error, null);
});

interop('half-close by tcplab: after our shutdown() the kernel still sends, and we read all of it', async (t) => {
  const lab = tunLab(t);
  const py = python(lab.ns, READ_THEN_REPLY_SERVER, [KERNEL, '6001']);
  await py.line('ready');
  const data = pattern(200_000, 4);
  const client = new Peer();
  const states: TcpState[] = [];
  const conn = lab.stack.tcp.connect({ remoteAddress: ip(KERNEL), remotePort: 6001 }, {
    onConnect: (c) => client.onConnect(c),
    onReadable: (c) => client.onReadable(c),
    onWritable: () => client.onWritable(),
    onEnd: () => client.onEnd(),
    onClose: (c, err) => client.onClose(c, err),
    onStateChange: (_c, _from, to) => states.push(to),
  });
  client.write(conn, data, 'shutdown');
  t.is(await py.line('eof'), `eof ${data.length} ${sha256(data)}`);
  const replied = await py.line('replied');
  await client.until('the reply and FIN', () => client.ended);
  t.is(replied, `replied 100000 ${client.digest}`);
  t.is(client.received, 100_000);
  await client.until('close', () => client.closed);
  t.deepEqual(states, ['SYN-SENT', 'ESTABLISHED', 'FIN-WAIT-1', 'FIN-WAIT-2', 'TIME-WAIT']);
  t.is(client.error, null);
});

interop('RST: tcplab connecting to a closed kernel port gets ECONNREFUSED', async (t) => {
  const lab = tunLab(t);
  const client = new Peer();
  const segs: TraceEvent[] = [];
  lab.stack.tracer.on((e) => {
    if (e.type === 'segment') segs.push(e);
  });
  lab.stack.tcp.connect({ remoteAddress: ip(KERNEL), remotePort: 9 }, client);
  await client.until('close', () => client.closed, 10_000);
  t.is(client.error?.code, 'ECONNREFUSED');
  t.false(client.connected);
  const flags = segs.map((s) => (s.type === 'segment' ? `${s.dir}:${s.flags}` : ''));
  t.deepEqual(flags.slice(0, 2), [`out:${TCP_SYN}`, `in:${TCP_RST | TCP_ACK}`]);
});

interop('RST: the kernel connecting to a closed tcplab port gets ECONNREFUSED', async (t) => {
  const lab = tunLab(t);
  // Something listens on another port, so the stack is up and answering.
  lab.stack.tcp.listen({ port: 80 }, { onConnection: (c) => c.close() });
  const py = python(lab.ns, CONNECT_ONCE, [US, '81']);
  t.is(await py.line(/^(refused|connected|error)/), 'refused 111');
  t.is(lab.stack.tcp.connections().length, 0);
});

interop("keepalive: tcplab's probes are answered by the kernel and the connection stays up", async (t) => {
  t.timeout(30_000);
  const lab = tunLab(t);
  const py = python(lab.ns, IDLE_ECHO_SERVER, [KERNEL, '6002']);
  await py.line('ready');
  const probes: number[] = [];
  const acksIn: number[] = [];
  lab.stack.tracer.on((e) => {
    if (e.type === 'probe' && e.kind === 'keepalive') probes.push(e.n);
    if (e.type === 'segment' && e.dir === 'in' && e.len === 0 && e.flags === TCP_ACK) acksIn.push(e.t);
  });
  const client = new Peer({ keep: true });
  const conn = lab.stack.tcp.connect({ remoteAddress: ip(KERNEL), remotePort: 6002 }, client);
  await client.until('connect', () => client.connected);
  conn.setKeepAlive(true, 1000, 500, 3);
  await py.line('accepted');
  const acksBefore = acksIn.length;
  // Idle 1 s, probe, answered, idle 1 s again ...: three probes in 3.9 s.
  await sleep(3900);
  t.true(probes.length >= 3, `probes: ${probes.length}`);
  // Every probe was answered before the next was due: none was ever the 2nd of a run.
  t.deepEqual([...new Set(probes)], [1]);
  t.true(acksIn.length - acksBefore >= probes.length, `kernel ACKs: ${acksIn.length - acksBefore}`);
  t.is(conn.state, 'ESTABLISHED');
  t.is(client.error, null);
  client.write(conn, new TextEncoder().encode('ping'), 'none');
  await client.until('echo', () => client.received === 4);
  t.is(Buffer.concat(client.chunks!).toString(), 'ping');
  conn.close();
});

interop("keepalive: the kernel's probes (TCP_KEEPIDLE=1, TCP_KEEPINTVL=1) are answered by tcplab and the connection stays up", async (t) => {
  t.timeout(30_000);
  const lab = tunLab(t);
  let conn: TcpConnection | null = null;
  const server = new Peer({ keep: true });
  lab.stack.tcp.listen({ port: 6003 }, {
    onConnection(c) {
      conn = c;
      c.attach({
        onReadable: (cc) => {
          server.onReadable(cc);
          if (server.received === 12) cc.send(new TextEncoder().encode('yes'));
        },
        onEnd: (cc) => cc.close(),
        onClose: (cc, err) => server.onClose(cc, err),
      });
    },
  });
  const probesIn: number[] = [];
  const answers: number[] = [];
  lab.stack.tracer.on((e) => {
    if (e.type !== 'segment' || conn === null) return;
    // A keepalive probe: no data, SEG.SEQ = RCV.NXT - 1 (Linux's tcp_xmit_probe_skb).
    if (e.dir === 'in' && e.len === 0 && e.flags === TCP_ACK && e.seq === ((conn.rcvNxt - 1) >>> 0)) probesIn.push(e.t);
    if (e.dir === 'out' && e.len === 0 && e.flags === TCP_ACK && probesIn.length > answers.length) answers.push(e.t);
  });
  const py = python(lab.ns, KEEPALIVE_CLIENT, [US, '6003', '3.9']);
  await py.line('connected');
  t.is(await py.line('reply', 15_000), 'reply yes');
  t.true(probesIn.length >= 3, `kernel probes seen: ${probesIn.length}`);
  t.is(answers.length, probesIn.length);
  t.is(server.error, null);
  t.is(Buffer.concat(server.chunks!).toString(), 'still there?');
  t.is((await py.exited).code, 0);
});

/**
 * A 16 MiB transfer through a FaultInjector that loses 5% of the frames in
 * each direction (data one way, ACKs the other), in the direction given.
 */
function lossyTransfer(direction: 'tcplab -> kernel' | 'kernel -> tcplab'): void {
  interop(`with FaultInjector dropping 5% of frames both ways, 16 MiB ${direction} arrives byte-identical`, async (t) => {
    t.timeout(100_000);
    let fault: FaultInjector | null = null;
    const lab = tunLab(t, {
      wrap: (dev, clock) => (fault = new FaultInjector(dev, clock, new SeededRandom(1), { loss: 0.05 })),
    });
    const ours = direction === 'tcplab -> kernel' ? 16 * MiB : 0;
    const theirs = 16 * MiB - ours;
    const py = python(lab.ns, BULK_SERVER, [KERNEL, '6004', String(theirs)]);
    await py.line('ready');
    const events = new Map<string, number>();
    lab.stack.tracer.on((e) => {
      const key = e.type === 'timer' && e.action === 'fired' ? `${e.timer} timer fired` : e.type === 'retransmit' ? `retransmit (${e.reason.replace(/#\d+ /, '')})` : '';
      if (key !== '') events.set(key, (events.get(key) ?? 0) + 1);
    });
    const data = pattern(ours, 21);
    const client = new Peer();
    const conn = lab.stack.tcp.connect({ remoteAddress: ip(KERNEL), remotePort: 6004 }, client);
    client.write(conn, data, 'shutdown');
    const result = await py.exited;
    t.is(result.code, 0, result.stderr);
    await client.until('end', () => client.ended, 60_000);
    t.is(py.lines.find((l) => l.startsWith('received')), `received ${ours} ${sha256(data)}`);
    t.is(py.lines.find((l) => l.startsWith('sent')), `sent ${theirs} ${client.digest}`);
    t.is(client.received, theirs);
    const stats = fault!.stats;
    t.log(`frames lost: ${stats.tx.lost} of ${stats.tx.sent} sent, ${stats.rx.lost} of ${stats.rx.sent} received`);
    t.log([...events].map(([k, n]) => `${k}: ${n}`).join(', ') || 'no retransmissions by tcplab');
    t.true(stats.tx.lost > 0 && stats.rx.lost > 0);
  });
}

lossyTransfer('kernel -> tcplab');
lossyTransfer('tcplab -> kernel');
