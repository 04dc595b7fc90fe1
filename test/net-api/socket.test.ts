// net.Socket, section by section of spec/node-net-api.md.

import test from 'ava';
import { Readable, Writable, pipeline } from 'node:stream';
import { createHash } from 'node:crypto';
import { freshNet, listening, once, record, sleep, until, virtualNet } from './helpers';
import { Stack } from '../../stack/stack';
import { VirtualClock } from '../../stack/time/virtual-clock';
import { SeededRandom } from '../../stack/random';
import { LoopbackDevice } from '../../devices/loopback';
import { Link } from '../../devices/link';
import { createNet, runSettled } from '../../net-api/index';

async function pair(net = freshNet(), serverOpts: object = {}): Promise<{ net: ReturnType<typeof freshNet>; server: any; client: any; peer: any }> {
  const server = net.createServer(serverOpts);
  const port = await listening(server, 0);
  const client = net.connect(port);
  const [peer] = await Promise.all([once<any>(server, 'connection'), once(client, 'connect')]);
  return { net, server, client, peer };
}

test('new net.Socket([options])', (t) => {
  const net = freshNet();
  const s = new net.Socket();
  t.true(s instanceof net.Socket);
  t.true(s instanceof net.Stream);
  t.false(s.allowHalfOpen);
  t.true(new net.Socket({ allowHalfOpen: true }).allowHalfOpen);
  t.is(s.readyState, 'open');
  t.true(s.pending);
  t.false(s.connecting);
  t.deepEqual(s.address(), {});
  t.throws(() => new net.Socket({ fd: 3 }), { code: 'ERR_TCPLAB_FD_UNSUPPORTED', message: /kernel file descriptor 3/ });
  t.throws(() => new net.Socket('x' as any), { code: 'ERR_INVALID_ARG_TYPE' });
});

test("Event: 'close' with had_error", async (t) => {
  const { client, peer, server } = await pair();
  const log = record(client, ['close']);
  client.destroy(new Error('boom'));
  client.on('error', () => {});
  await once(client, 'close');
  t.deepEqual(log, ['close:true']);
  await once(peer.resume(), 'close');
  const c2 = await pair();
  c2.client.end();
  c2.peer.resume().end();
  const [hadError] = await Promise.all([once(c2.client.resume(), 'close')]);
  t.false(hadError);
  server.close();
  c2.server.close();
});

test("Event: 'connect' then 'ready', connecting flips before it", async (t) => {
  const net = freshNet();
  const server = net.createServer((c) => c.resume());
  const port = await listening(server, 0);
  const c = net.connect(port);
  t.true(c.connecting);
  t.true(c.pending);
  t.is(c.readyState, 'opening');
  const log: string[] = [];
  c.on('connect', () => log.push(`connect connecting=${c.connecting}`));
  c.on('ready', () => log.push('ready'));
  await once(c, 'ready');
  t.deepEqual(log, ['connect connecting=false', 'ready']);
  t.false(c.pending);
  t.is(c.readyState, 'open');
  c.destroy();
  server.close();
});

test("Event: 'data' (Buffer, or string after setEncoding)", async (t) => {
  const { client, peer, server } = await pair();
  peer.write(Buffer.from('héllo'));
  const d = await once<any>(client, 'data');
  t.true(Buffer.isBuffer(d));
  t.is(d.toString(), 'héllo');
  client.setEncoding('utf8');
  peer.write('wörld');
  t.is(await once(client, 'data'), 'wörld');
  client.destroy();
  server.close();
});

test("Event: 'drain' and write()'s return value: backpressure from a peer that does not read", async (t) => {
  const net = freshNet({ tcp: { sendBufferBytes: 64 * 1024, receiveBufferBytes: 64 * 1024 } });
  const { client, peer, server } = await pair(net, { pauseOnConnect: true });
  const total = 1024 * 1024;
  t.false(client.write(Buffer.alloc(total, 1)));
  // The peer is not reading: its receive buffer fills, the window closes, our send buffer fills.
  await sleep(60);
  t.true(client.writableNeedDrain);
  const unread = peer.connection.readableLength;
  t.true(unread > 60 * 1024 && unread <= 64 * 1024);
  t.is(client.connection.sendQueue.length, 64 * 1024);
  t.is(client.bufferSize, total); // the write is still in progress
  t.is(client.bytesWritten, total);
  let got = 0;
  peer.on('data', (d: Buffer) => (got += d.length));
  const drained = once(client, 'drain');
  peer.resume();
  await drained;
  await until(() => got === total);
  t.is(peer.bytesRead, total);
  client.destroy();
  server.close();
});

test("Event: 'end' (allowHalfOpen false: our side ends after pending writes)", async (t) => {
  const { client, peer, server } = await pair();
  const log = record(peer, ['end', 'finish', 'close']);
  peer.resume();
  let text = '';
  client.setEncoding('utf8').on('data', (d: string) => (text += d));
  peer.on('end', () => peer.write('after end still goes out'));
  client.end();
  await once(client, 'close');
  t.deepEqual(log, ['end', 'finish', 'close:false']);
  t.is(text, 'after end still goes out');
  // Writing after our automatic end fails with EPIPE, as Node's writeAfterFIN.
  server.close();
});

test("Event: 'error' then 'close' (ECONNRESET, Node's shape)", async (t) => {
  const { client, peer, server } = await pair();
  const log = record(client, ['error', 'close']);
  peer.resetAndDestroy();
  const err: any = await once(client, 'error');
  await once(client, 'close');
  t.deepEqual(log, ['error:ECONNRESET', 'close:true']);
  t.is(err.message, 'read ECONNRESET');
  t.is(err.errno, -104);
  t.is(err.syscall, 'read');
  server.close();
});

test("Event: 'lookup' (hostname resolved before connecting; not for IP literals)", async (t) => {
  const net = freshNet();
  const server = net.createServer((c) => c.destroy());
  const port = await listening(server, 0);
  const c = net.connect(port, 'localhost');
  const args = await new Promise<any[]>((resolve) => c.on('lookup', (...a) => resolve(a)));
  t.deepEqual(args, [null, '127.0.0.1', 4, 'localhost']);
  const c2 = net.connect(port, '127.0.0.1');
  let looked = false;
  c2.on('lookup', () => (looked = true));
  await once(c2, 'connect');
  t.false(looked);
  const c3 = net.connect(port, 'nowhere.example');
  const errP = once(c3, 'error');
  const l3 = await new Promise<any[]>((resolve) => c3.on('lookup', (...a) => resolve(a)));
  t.is(l3[0].code, 'ENOTFOUND');
  t.is(l3[3], 'nowhere.example');
  const err: any = await errP;
  t.is(err.message, 'getaddrinfo ENOTFOUND nowhere.example');
  t.is(err.errno, -3008);
  t.is(err.syscall, 'getaddrinfo');
  t.is(err.hostname, 'nowhere.example');
  c.destroy();
  c2.destroy();
  server.close();
});

test("Event: 'timeout' and socket.setTimeout(timeout[, callback])", async (t) => {
  const { client, server } = await pair();
  let count = 0;
  t.is(client.setTimeout(30, () => count++), client);
  await once(client, 'timeout');
  t.is(count, 1);
  t.false(client.destroyed); // only a notification
  t.is(client.timeout, 30);
  client.setTimeout(0);
  await sleep(60);
  t.is(count, 1);
  t.throws(() => client.setTimeout('x'), { code: 'ERR_INVALID_ARG_TYPE', message: 'The "msecs" argument must be of type number. Received type string (\'x\')' });
  t.throws(() => client.setTimeout(-1), { code: 'ERR_OUT_OF_RANGE', instanceOf: RangeError });
  client.destroy();
  server.close();
});

test('socket.setTimeout: activity postpones the idle timeout', async (t) => {
  const { client, peer, server } = await pair();
  client.resume();
  let fired = 0;
  client.setTimeout(60, () => fired++);
  for (let i = 0; i < 5; i++) {
    peer.write('x');
    await sleep(25);
  }
  t.is(fired, 0);
  await once(client, 'timeout');
  client.destroy();
  server.close();
});

test('socket.address(), localAddress/localPort, remoteAddress/remoteFamily/remotePort', async (t) => {
  const { client, peer, server } = await pair();
  t.deepEqual(client.address(), { address: '127.0.0.1', family: 'IPv4', port: client.localPort });
  t.is(client.localAddress, '127.0.0.1');
  t.is(client.localFamily, 'IPv4');
  t.is(client.remoteAddress, '127.0.0.1');
  t.is(client.remoteFamily, 'IPv4');
  t.is(client.remotePort, (server.address() as any).port);
  t.is(peer.remotePort, client.localPort);
  t.is(peer.localPort, client.remotePort);
  client.destroy();
  server.close();
});

test('socket.bufferSize, bytesRead, bytesWritten', async (t) => {
  const { client, peer, server } = await pair();
  t.is(client.bufferSize, 0);
  client.write('12345');
  client.write(Buffer.from('678'));
  t.is(client.bytesWritten, 8);
  let got = '';
  peer.setEncoding('utf8').on('data', (d: string) => (got += d));
  await until(() => got.length === 8);
  t.is(peer.bytesRead, 8);
  t.is(client.bytesRead, 0);
  client.destroy();
  server.close();
});

test('socket.connect(options[, connectListener]): localAddress, localPort, family, hints, lookup', async (t) => {
  const net = freshNet();
  const server = net.createServer((c) => c.end());
  const port = await listening(server, 0);
  const s = new net.Socket();
  const lookups: any[] = [];
  const lookup = (host: string, opts: any, cb: any) => {
    lookups.push([host, opts.family, opts.hints]);
    process.nextTick(cb, null, '127.0.0.1', 4);
  };
  let connected = false;
  s.connect({ port, host: 'my.test', localAddress: '127.0.0.3', localPort: 40001, family: 4, hints: 0, lookup }, () => (connected = true));
  await once(s, 'connect');
  t.true(connected);
  t.deepEqual(lookups, [['my.test', 4, 0]]);
  t.is(s.localAddress, '127.0.0.3');
  t.is(s.localPort, 40001);
  s.resume();
  await once(s, 'close');
  t.throws(() => new net.Socket().connect({} as any), {
    instanceOf: TypeError, code: 'ERR_MISSING_ARGS', message: 'The "options" or "port" or "path" argument must be specified',
  });
  t.throws(() => net.connect({ port: -1 }), { instanceOf: RangeError, code: 'ERR_SOCKET_BAD_PORT', message: 'Port should be >= 0 and < 65536. Received type number (-1).' });
  t.throws(() => net.connect({ port: 80, family: 5 }), { code: 'ERR_INVALID_ARG_VALUE', message: "The property 'options.family' must be one of: 0, 4, 6. Received 5" });
  t.throws(() => net.connect({ port: 80, host: 'x', lookup: 5 as any }), { code: 'ERR_INVALID_ARG_TYPE', message: 'The "options.lookup" property must be of type function. Received type number (5)' });
  t.throws(() => net.connect({ port: 80, localAddress: 'x' }), { code: 'ERR_INVALID_IP_ADDRESS', message: 'Invalid IP address: x' });
  t.throws(() => net.connect({ port: 80, localPort: 'x' as any }), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => net.connect({ port: {} as any }), { code: 'ERR_INVALID_ARG_TYPE', message: 'The "options.port" property must be one of type number or string. Received an instance of Object' });
  server.close();
});

test('socket.connect: ECONNREFUSED, ENETUNREACH and EADDRNOTAVAIL with Node\'s error shape', async (t) => {
  const net = freshNet();
  const a = net.connect(1, '127.0.0.1');
  const e1: any = await once(a, 'error');
  t.is(e1.message, 'connect ECONNREFUSED 127.0.0.1:1');
  t.like(e1, { code: 'ECONNREFUSED', errno: -111, syscall: 'connect', address: '127.0.0.1', port: 1 });
  t.deepEqual(Object.keys(e1), ['errno', 'code', 'syscall', 'address', 'port']);
  const b = net.connect(80, '192.0.2.1');
  const e2: any = await once(b, 'error');
  t.is(e2.message, 'connect ENETUNREACH 192.0.2.1:80');
  t.like(e2, { code: 'ENETUNREACH', errno: -101, syscall: 'connect', address: '192.0.2.1', port: 80 });
  const c = net.connect({ port: 80, localAddress: '10.1.1.1' });
  const e3: any = await once(c, 'error');
  t.like(e3, { code: 'EADDRNOTAVAIL', syscall: 'bind', address: '10.1.1.1' });
});

test('socket.connect: ETIMEDOUT after the SYN retries (virtual time)', async (t) => {
  const clock = new VirtualClock();
  const stack = new Stack({ name: 'sim', clock, random: new SeededRandom(3), config: { tcp: { synRetries: 2 } } });
  stack.addInterface(new LoopbackDevice(clock), { address: '127.0.0.1/8' });
  // A route into a network nobody answers on: SYNs vanish.
  stack.addInterface(new LoopbackDevice(clock, { name: 'void' }), { address: '10.0.0.1/24' });
  const net = createNet(stack);
  const s = net.connect(80, '10.0.0.2');
  const log = record(s, ['connect', 'error', 'close']);
  let err: any;
  s.on('error', (e) => (err = e));
  await runSettled(clock, 60_000);
  t.deepEqual(log, ['error:ETIMEDOUT', 'close:true']);
  t.is(err.message, 'connect ETIMEDOUT 10.0.0.2:80');
  t.like(err, { errno: -110, syscall: 'connect', address: '10.0.0.2', port: 80 });
  t.is(clock.now(), 7000); // 1 s + 2 s + 4 s
});

test('socket.connect(path[, connectListener]) and socket.connect(port[, host][, connectListener])', async (t) => {
  const net = freshNet();
  const server = net.createServer((c) => c.end('hi'));
  const port = await listening(server, 0);
  const s = new net.Socket();
  let called = false;
  s.connect(port, '127.0.0.1', () => (called = true));
  await once(s, 'connect');
  t.true(called);
  s.resume();
  const s2 = new net.Socket();
  s2.connect(port, () => s2.end());
  await once(s2.resume(), 'close');
  server.close();
  // connect(path): see unix.test.ts.
});

test('socket.connecting', async (t) => {
  const { net, server, client } = await pair();
  client.destroy();
  const s = net.connect((server.address() as any).port);
  t.true(s.connecting);
  await once(s, 'connect');
  t.false(s.connecting);
  s.destroy();
  server.close();
});

test('socket.destroy([exception]) and socket.destroyed: unread data is answered with RST', async (t) => {
  const net = freshNet();
  const server = net.createServer({ pauseOnConnect: true });
  const port = await listening(server, 0);
  const client = net.connect(port);
  const [peer] = await Promise.all([once<any>(server, 'connection'), once(client, 'connect')]);
  client.write('never read');
  await until(() => peer.connection.readableLength > 0);
  const cliLog = record(client, ['end', 'error', 'close']);
  t.false(peer.destroyed);
  peer.destroy();
  t.true(peer.destroyed);
  await once(client, 'close');
  t.deepEqual(cliLog, ['error:ECONNRESET', 'close:true']);
  // destroy(err): 'error' with that error, then 'close' with had_error.
  const { client: c2, server: s2 } = await pair(net);
  const log = record(c2, ['error', 'close']);
  const boom = Object.assign(new Error('boom'), { code: 'EBOOM' });
  c2.destroy(boom);
  await once(c2, 'close');
  t.deepEqual(log, ['error:EBOOM', 'close:true']);
  server.close();
  s2.close();
});

test('socket.end([data][, encoding]): half-close, every byte of a burst arrives before the FIN', async (t) => {
  const net = freshNet({ tcp: { sendBufferBytes: 32 * 1024 } });
  const server = net.createServer({ allowHalfOpen: true });
  const port = await listening(server, 0);
  const hash = createHash('sha256');
  let total = 0;
  let replied = '';
  server.on('connection', (c: any) => {
    c.on('data', (d: Buffer) => {
      hash.update(d);
      total += d.length;
    });
    c.on('end', () => c.end('done'));
  });
  const client = net.connect(port);
  const expect = createHash('sha256');
  for (let i = 0; i < 200; i++) {
    const b = Buffer.alloc(4096, i);
    expect.update(b);
    client.write(b);
  }
  client.end('tail', 'utf8');
  expect.update('tail');
  client.setEncoding('utf8').on('data', (d: string) => (replied += d));
  await once(client, 'close');
  t.is(total, 200 * 4096 + 4);
  t.is(hash.digest('hex'), expect.digest('hex'));
  t.is(replied, 'done');
  server.close();
});

test('socket.pause() / socket.resume(): a paused socket closes the TCP window', async (t) => {
  const net = freshNet({ tcp: { receiveBufferBytes: 64 * 1024 } });
  const { client, peer, server } = await pair(net);
  let got = 0;
  client.on('data', (d: Buffer) => (got += d.length));
  client.pause();
  const total = 1024 * 1024;
  peer.write(Buffer.alloc(total, 7));
  await sleep(80);
  // Our socket buffers its highWaterMark; the connection its receive buffer; the rest waits at the sender.
  t.is(got, 0);
  t.true(client.connection.readableLength <= 64 * 1024);
  t.true(peer.connection.sendQueue.length > total / 2);
  client.resume();
  await until(() => got === total);
  t.is(got, total);
  client.destroy();
  server.close();
});

test('socket.ref() / socket.unref() return the socket', async (t) => {
  const { client, server } = await pair();
  t.is(client.unref(), client);
  t.is(client.ref(), client);
  client.destroy();
  server.close();
});

test('socket.setEncoding([encoding])', async (t) => {
  const { client, peer, server } = await pair();
  client.setEncoding('hex');
  peer.write(Buffer.from([0xde, 0xad]));
  t.is(await once(client, 'data'), 'dead');
  client.destroy();
  server.close();
});

test('socket.setKeepAlive([enable][, initialDelay]) (+ interval and count)', async (t) => {
  const { client, server } = await pair();
  t.is(client.setKeepAlive(true, 5000), client);
  let c = client.connection.config;
  t.true(c.keepAlive);
  t.is(c.keepAliveIdleMs, 5000);
  client.setKeepAlive(true, 0, 1000, 3);
  c = client.connection.config;
  t.is(c.keepAliveIdleMs, 5000); // 0 leaves it unchanged
  t.is(c.keepAliveIntervalMs, 1000);
  t.is(c.keepAliveProbes, 3);
  client.setKeepAlive();
  t.false(client.connection.config.keepAlive);
  client.destroy();
  server.close();
});

test('socket.setNoDelay([noDelay]) defaults to true', async (t) => {
  const { client, server } = await pair();
  t.false(client.connection.config.noDelay);
  t.is(client.setNoDelay(), client);
  t.true(client.connection.config.noDelay);
  client.setNoDelay(false);
  t.false(client.connection.config.noDelay);
  const s = new client.constructor({ noDelay: true });
  s.connect((server.address() as any).port);
  await once(s, 'connect');
  t.true(s.connection.config.noDelay);
  s.destroy();
  client.destroy();
  server.close();
});

test('socket.write(data[, encoding][, callback])', async (t) => {
  const { client, peer, server } = await pair();
  const done = await new Promise((resolve) => t.true(client.write('aGk=', 'base64', resolve)));
  t.falsy(done);
  t.is(String(await once(peer, 'data')), 'hi');
  t.throws(() => client.write(5), { code: 'ERR_INVALID_ARG_TYPE' });
  client.on('error', () => {});
  client.end();
  const err: any = await new Promise((resolve) => client.write('late', resolve));
  t.is(err.code, 'ERR_STREAM_WRITE_AFTER_END');
  // Writing on a socket that never connected: ERR_SOCKET_CLOSED, as Node.
  const s = new (client.constructor)();
  s.on('error', () => {});
  const e2: any = await new Promise((resolve) => s.write('x', resolve));
  t.is(e2.code, 'ERR_SOCKET_CLOSED');
  peer.destroy();
  server.close();
});

test('writes before connect are sent after it; data that arrives before the connection is handled is kept', async (t) => {
  const net = freshNet();
  const server = net.createServer();
  const port = await listening(server, 0);
  const client = net.connect(port);
  client.write('early bird ');
  client.end('and more');
  const [peer] = await Promise.all([once<any>(server, 'connection')]);
  await sleep(30);
  let text = '';
  peer.setEncoding('utf8').on('data', (d: string) => (text += d));
  await once(peer, 'end');
  t.is(text, 'early bird and more');
  server.close();
});

test('stream integration: pipe, stream.pipeline, async iteration', async (t) => {
  const net = freshNet();
  const server = net.createServer((c) => c.pipe(c)); // echo
  const port = await listening(server, 0);
  const client = net.connect(port);
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => pipeline(
    Readable.from([Buffer.from('a'), Buffer.from('b'), Buffer.from('c')]),
    client,
    new Writable({ write(c, _e, cb) { chunks.push(c); cb(); } }),
    (err) => (err ? reject(err) : resolve()),
  ));
  t.is(Buffer.concat(chunks).toString(), 'abc');
  const c2 = net.connect(port);
  c2.end('iterate me');
  let text = '';
  for await (const chunk of c2) text += chunk;
  t.is(text, 'iterate me');
  server.close();
});

test('simulation: the same API on a VirtualClock stack runs with the lab clock', async (t) => {
  const { net, clock } = virtualNet();
  const log: string[] = [];
  const server = net.createServer((c) => c.end('sim'));
  server.listen(7, () => {
    const c = net.connect(7);
    c.setEncoding('utf8');
    c.on('data', (d) => log.push(d));
    c.on('close', () => {
      log.push('close');
      server.close();
    });
  });
  await runSettled(clock, 10_000);
  t.deepEqual(log, ['sim', 'close']);
  t.false(server.listening);
});

test('socket.connect: EHOSTUNREACH when the next hop never answers ARP (virtual time)', async (t) => {
  const clock = new VirtualClock();
  const stack = new Stack({ name: 'sim', clock, random: new SeededRandom(4) });
  // An Ethernet link whose other end has no host on it: ARP for 10.0.0.2 goes unanswered.
  const link = new Link(clock, new SeededRandom(5), { linkType: 'ethernet' });
  stack.addInterface(link.a, { address: '10.0.0.1/24' });
  const net = createNet(stack);
  const s = net.connect(80, '10.0.0.2');
  const log = record(s, ['connect', 'error', 'close']);
  let err: any;
  s.on('error', (e) => (err = e));
  await runSettled(clock, 60_000);
  t.deepEqual(log, ['error:EHOSTUNREACH', 'close:true']);
  t.is(err.message, 'connect EHOSTUNREACH 10.0.0.2:80');
  t.like(err, { errno: -113, syscall: 'connect', address: '10.0.0.2', port: 80 });
  t.is(clock.now(), 3000); // three ARP requests, one second apart
});

test('a Buffer the writer reuses once its write callback ran does not change what the peer receives (Node net and tcplab alike)', async (t) => {
  const run = async (netModule: typeof import('node:net')): Promise<string> => {
    const got: Buffer[] = [];
    const server = netModule.createServer((s) => {
      s.on('data', (d) => got.push(d));
    });
    const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
    const done = new Promise<void>((resolve) => server.on('connection', (s) => s.on('end', () => resolve())));
    const client = netModule.connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    const buf = Buffer.alloc(100_000);
    for (let round = 0; round < 5; round++) {
      buf.fill(0x41 + round);
      await new Promise<void>((resolve) => client.write(buf, () => resolve()));
    }
    buf.fill(0x5a); // after the last callback: must not reach the peer
    client.end();
    await done;
    server.close();
    const all = Buffer.concat(got);
    return `${all.length}:${[0, 1, 2, 3, 4].map((r) => all.subarray(r * 100_000, (r + 1) * 100_000).every((b) => b === 0x41 + r)).join(',')}`;
  };
  const node = await run(await import('node:net'));
  t.is(node, '500000:true,true,true,true,true');
  t.is(await run(freshNet() as unknown as typeof import('node:net')), node);
});
