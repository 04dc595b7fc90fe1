// net.Server, section by section of spec/node-net-api.md.

import test from 'ava';
import { freshNet, listening, once, record, sleep, until } from './helpers';

test('new net.Server([options][, connectionListener])', async (t) => {
  const net = freshNet();
  const server = new net.Server({ allowHalfOpen: true }, (c) => c.end('x'));
  t.true(server instanceof net.Server);
  t.is(server.listenerCount('connection'), 1);
  t.throws(() => new net.Server(5 as any), { code: 'ERR_INVALID_ARG_TYPE', instanceOf: TypeError });
  const port = await listening(server, 0);
  const c = net.connect(port);
  c.resume();
  await once(c, 'close');
  server.close();
});

test("Event: 'close' is not emitted until all connections are ended", async (t) => {
  const net = freshNet();
  const log: string[] = [];
  let serverSide: any;
  const server = net.createServer((c) => {
    serverSide = c;
    c.resume();
  });
  const port = await listening(server, 0);
  const c = net.connect(port);
  c.resume();
  await until(() => serverSide !== undefined);
  server.on('close', () => log.push('close'));
  server.close();
  await sleep(20);
  t.deepEqual(log, []);
  t.false(server.listening);
  c.end();
  await until(() => log.length > 0);
  t.deepEqual(log, ['close']);
  t.true(serverSide.destroyed);
});

test("Event: 'connection' gives a net.Socket", async (t) => {
  const net = freshNet();
  const server = net.createServer();
  const port = await listening(server, 0);
  const c = net.connect(port);
  const [socket] = await Promise.all([once<any>(server, 'connection'), once(c, 'connect')]);
  t.true(socket instanceof net.Socket);
  t.is(socket.remotePort, c.localPort);
  t.is(socket.localPort, port);
  c.destroy();
  socket.destroy();
  server.close();
});

test("Event: 'error' (EADDRINUSE) has Node's shape and no 'close' follows", async (t) => {
  const net = freshNet();
  const a = net.createServer();
  const port = await listening(a, 0);
  const b = net.createServer();
  const log = record(b, ['listening', 'close']);
  b.listen(port, '127.0.0.1');
  const err: any = await once(b, 'error');
  t.is(err.code, 'EADDRINUSE');
  t.is(err.errno, -98);
  t.is(err.syscall, 'listen');
  t.is(err.address, '127.0.0.1');
  t.is(err.port, port);
  t.is(err.message, `listen EADDRINUSE: address already in use 127.0.0.1:${port}`);
  await sleep(20);
  t.deepEqual(log, []);
  t.false(b.listening);
  a.close();
});

test("Event: 'listening' is emitted asynchronously after listen()", async (t) => {
  const net = freshNet();
  const server = net.createServer();
  let fired = false;
  server.on('listening', () => (fired = true));
  server.listen(0);
  t.false(fired);
  t.true(server.listening);
  await once(server, 'listening');
  server.close();
});

test('server.address() (the spec example: an arbitrary unused port)', async (t) => {
  const net = freshNet();
  const server = net.createServer((socket) => socket.end('goodbye\n')).on('error', (err) => {
    throw err;
  });
  t.is(server.address(), null);
  const addr: any = await new Promise((resolve) => server.listen(() => resolve(server.address())));
  t.is(addr.family, 'IPv4');
  t.is(addr.address, '0.0.0.0');
  t.true(addr.port >= 32768 && addr.port <= 60999);
  const c = net.connect(addr.port);
  let text = '';
  c.setEncoding('utf8').on('data', (d) => (text += d));
  await once(c, 'end');
  t.is(text, 'goodbye\n');
  server.close();
});

test('server.close([callback]): callback after close; ERR_SERVER_NOT_RUNNING when not open', async (t) => {
  const net = freshNet();
  const server = net.createServer();
  const err: any = await new Promise((resolve) => server.close(resolve));
  t.true(err instanceof Error);
  t.is(err.code, 'ERR_SERVER_NOT_RUNNING');
  t.is(err.message, 'Server is not running.');
  await listening(server, 0);
  const ok = await new Promise((resolve) => server.close(resolve));
  t.is(ok, undefined);
});

test('server.connections (deprecated): the count, with a DEP0020 warning once', async (t) => {
  const net = freshNet();
  const warnings: any[] = [];
  const onWarning = (w: any) => warnings.push(w);
  process.on('warning', onWarning);
  const server = net.createServer((c) => c.resume());
  const port = await listening(server, 0);
  const c = net.connect(port);
  await once(server, 'connection');
  t.is(server.connections, 1);
  t.is(server.connections, 1);
  await sleep(10);
  process.off('warning', onWarning);
  t.is(warnings.filter((w) => w.code === 'DEP0020').length, 1);
  t.is(warnings[0].name, 'DeprecationWarning');
  c.destroy();
  server.close();
});

test('server.getConnections(callback)', async (t) => {
  const net = freshNet();
  const server = net.createServer((c) => c.resume());
  const port = await listening(server, 0);
  const a = net.connect(port);
  const b = net.connect(port);
  await until(() => server._connections === 2);
  const count = await new Promise((resolve) => server.getConnections((err, n) => resolve(err ?? n)));
  t.is(count, 2);
  t.throws(() => server.getConnections(5 as any), { code: 'ERR_INVALID_ARG_TYPE', message: /"callback" argument must be of type function/ });
  a.destroy();
  b.destroy();
  await until(() => server._connections === 0);
  server.close();
});

test('server.listen(): the EADDRINUSE retry example', async (t) => {
  const net = freshNet();
  const blocker = net.createServer();
  const PORT = await listening(blocker, 0);
  const HOST = '127.0.0.1';
  const server = net.createServer();
  const log: string[] = [];
  server.on('error', (e: any) => {
    if (e.code === 'EADDRINUSE') {
      log.push('Address in use, retrying...');
      setTimeout(() => {
        server.close();
        server.listen(PORT, HOST);
      }, 50);
    }
  });
  server.listen(PORT, HOST);
  await until(() => log.length === 1);
  blocker.close();
  await once(server, 'listening');
  t.deepEqual(server.address(), { address: HOST, family: 'IPv4', port: PORT });
  server.close();
});

test('server.listen(): calling listen() again after close re-opens; while open it throws', async (t) => {
  const net = freshNet();
  const server = net.createServer();
  await listening(server, 0);
  t.throws(() => server.listen(0), { code: 'ERR_SERVER_ALREADY_LISTEN', instanceOf: Error, message: 'Listen method has been called more than once without closing.' });
  await new Promise((r) => server.close(r));
  const port = await listening(server, 0);
  t.true(server.listening);
  const c = net.connect(port);
  await once(c, 'connect');
  c.destroy();
  server.close();
});

test('server.listen(): backlog bounds the accept queue', async (t) => {
  const net = freshNet();
  const server = net.createServer({ pauseOnConnect: true });
  server.listen(0, 2);
  await once(server, 'listening');
  t.is(server._listener!.backlog, 2);
  const port = (server.address() as any).port;
  // Stop accepting: the accept queue holds at most `backlog` connections; further SYNs are dropped.
  server._listener!.pause();
  const clients = [0, 1, 2, 3].map(() => net.connect(port));
  const connected: number[] = [];
  clients.forEach((c, i) => c.on('connect', () => connected.push(i)));
  await sleep(100);
  t.is(connected.length, 2);
  t.is(server._listener!.acceptQueue.length, 2);
  for (const c of clients) c.destroy();
  server.close();
});

test('server.listen(handle[, backlog][, callback])', async (t) => {
  const net = freshNet();
  const first = net.createServer();
  const port = await listening(first, 0);
  const second = net.createServer((c) => c.end('from second'));
  await new Promise<void>((resolve) => second.listen(first, () => resolve()));
  t.is((second.address() as any).port, port);
  t.false(first.listening);
  const c = net.connect(port);
  let text = '';
  c.setEncoding('utf8').on('data', (d) => (text += d));
  await once(c, 'close');
  t.is(text, 'from second');
  second.close();

  // A connected socket cannot listen (EINVAL); a kernel fd cannot be used by a userspace stack.
  const s3 = net.createServer();
  const sock = new net.Socket();
  s3.listen(sock);
  const e1: any = await once(s3, 'error');
  t.is(e1.code, 'EINVAL');
  t.is(e1.syscall, 'listen');
  const s4 = net.createServer();
  s4.listen({ fd: 3 });
  const e2: any = await once(s4, 'error');
  t.is(e2.code, 'ENOTSUP');
  t.is(e2.syscall, 'listen');
  t.regex(e2.message, /^listen ENOTSUP: .*kernel file descriptor 3/);
  // A handle of another stack is refused outright.
  const other = freshNet().createServer();
  await listening(other, 0);
  t.throws(() => net.createServer().listen(other), { code: 'ERR_INVALID_ARG_VALUE' });
  other.close();
});

test('server.listen(options[, callback])', async (t) => {
  const net = freshNet();
  const server = net.createServer((c) => c.end('ok'));
  await new Promise<void>((resolve) => server.listen({ host: 'localhost', port: 8080, exclusive: true, backlog: 10 }, () => resolve()));
  t.deepEqual(server.address(), { address: '127.0.0.1', family: 'IPv4', port: 8080 });
  t.is(server._listener!.backlog, 10);
  server.close();
  t.throws(() => net.createServer().listen({}), {
    instanceOf: TypeError, code: 'ERR_INVALID_ARG_VALUE',
    message: 'The argument \'options\' must have the property "port" or "path". Received {}',
  });
  t.throws(() => net.createServer().listen({ port: 70000 }), {
    instanceOf: RangeError, code: 'ERR_SOCKET_BAD_PORT',
    message: 'options.port should be >= 0 and < 65536. Received type number (70000).',
  });
  t.throws(() => net.createServer().listen({ port: true } as any), { code: 'ERR_INVALID_ARG_VALUE' });
  const bad = net.createServer();
  bad.listen({ port: 0, host: 'no.such.host' });
  const err: any = await once(bad, 'error');
  t.is(err.code, 'ENOTFOUND');
  t.is(err.syscall, 'getaddrinfo');
  t.is(err.hostname, 'no.such.host');
  const notLocal = net.createServer();
  notLocal.listen({ port: 0, host: '10.9.9.9' });
  const err2: any = await once(notLocal, 'error');
  t.is(err2.code, 'EADDRNOTAVAIL');
});

test('server.listen([port][, host][, backlog][, callback]): port 0 is ephemeral, host binds one address', async (t) => {
  const net = freshNet();
  const a = net.createServer();
  await new Promise<void>((r) => a.listen(0, '127.0.0.2', 5, () => r()));
  const addr: any = a.address();
  t.is(addr.address, '127.0.0.2');
  t.true(addr.port > 0);
  t.is(a._listener!.backlog, 5);
  // Not reachable on another address of the same port.
  const refused = net.connect(addr.port, '127.0.0.1');
  const err: any = await once(refused, 'error');
  t.is(err.code, 'ECONNREFUSED');
  const ok = net.connect(addr.port, '127.0.0.2');
  await once(ok, 'connect');
  t.is(ok.remoteAddress, '127.0.0.2');
  ok.destroy();
  a.close();
  const b = net.createServer();
  await new Promise<void>((r) => b.listen(() => r()));
  t.true((b.address() as any).port >= 32768);
  b.close();
});

test('server.listening', async (t) => {
  const net = freshNet();
  const server = net.createServer();
  t.false(server.listening);
  await listening(server, 0);
  t.true(server.listening);
  server.close();
  t.false(server.listening);
});

test('server.maxConnections: connections beyond it are closed and dropped', async (t) => {
  const net = freshNet();
  const server = net.createServer((c) => c.resume());
  server.maxConnections = 1;
  const drops: any[] = [];
  server.on('drop', (d) => drops.push(d));
  const port = await listening(server, 0);
  const a = net.connect(port);
  await once(server, 'connection');
  const b = net.connect(port);
  const log = record(b, ['connect', 'end', 'close']);
  b.resume();
  await once(b, 'close');
  t.deepEqual(log, ['connect', 'end', 'close:false']);
  t.is(drops.length, 1);
  t.is(drops[0].remotePort, b.localPort);
  t.is(server._connections, 1);
  a.destroy();
  server.close();
});

test('server.ref() / server.unref() return the server', (t) => {
  const net = freshNet();
  const server = net.createServer();
  t.is(server.unref(), server);
  t.is(server.ref(), server);
  // Process exit behaviour is checked in a child process (differential.test.ts).
});
