// The module-level API: net.connect / net.createConnection / net.createServer,
// isIP*, createNet and stack.net, and the tcplab/net drop-in (dist/net.js).

import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Stack } from '../../stack/stack';
import { RealClock } from '../../net-api/real-clock';
import { CryptoRandom } from '../../net-api/crypto-random';
import { LoopbackDevice } from '../../devices/loopback';
import { createNet } from '../../net-api/index';
import netModule, { defaultNet } from '../../net-api/default';
import { freshNet, listening, once, record } from './helpers';

const dist = fileURLToPath(new URL('../../dist/net.js', import.meta.url));

test('createNet(stack) and stack.net (cached per stack)', (t) => {
  const clock = new RealClock();
  const stack = new Stack({ name: 's', clock, random: new CryptoRandom() });
  stack.addInterface(new LoopbackDevice(clock), { address: '127.0.0.1/8' });
  const a = stack.net;
  t.is(stack.net, a);
  t.is(a.stack, stack);
  for (const k of ['Socket', 'Server', 'Stream', 'createServer', 'createConnection', 'connect', 'isIP', 'isIPv4', 'isIPv6'] as const) {
    t.truthy(a[k], k);
  }
  t.is(a.Stream, a.Socket);
  const b = createNet(stack);
  t.not(b, a);
  t.false(new b.Socket() instanceof a.Socket);
});

test('net.isIP(input), net.isIPv4(input), net.isIPv6(input)', (t) => {
  const net = freshNet();
  t.is(net.isIP('127.0.0.1'), 4);
  t.is(net.isIP('::1'), 6);
  t.is(net.isIP('fe80::1%eth0'), 6);
  t.is(net.isIP('1.2.3'), 0);
  t.is(net.isIP('localhost'), 0);
  t.is(net.isIP(5), 0);
  t.true(net.isIPv4('10.0.0.1'));
  t.false(net.isIPv4('::1'));
  t.true(net.isIPv6('::ffff:1.2.3.4'));
  t.false(net.isIPv6('1.2.3.4'));
});

test('net.createServer([options][, connectionListener]): the echo server example (telnet replaced by a client)', async (t) => {
  const net = freshNet();
  const log: string[] = [];
  const server = net.createServer((c) => {
    // 'connection' listener
    log.push('client connected');
    c.on('end', () => {
      log.push('client disconnected');
    });
    c.write('hello\r\n');
    c.pipe(c);
  });
  server.on('error', (err) => {
    throw err;
  });
  await new Promise<void>((resolve) => server.listen(8124, () => {
    log.push('server bound');
    resolve();
  }));
  // telnet localhost 8124
  const telnet = net.connect(8124, 'localhost');
  let text = '';
  telnet.setEncoding('utf8').on('data', (d) => {
    text += d;
    if (text === 'hello\r\n') telnet.write('typed line\r\n');
    if (text.endsWith('typed line\r\n')) telnet.end();
  });
  await once(telnet, 'close');
  t.is(text, 'hello\r\ntyped line\r\n');
  t.deepEqual(log, ['server bound', 'client connected', 'client disconnected']);
  server.close();
});

test('net.createServer: allowHalfOpen and pauseOnConnect options', async (t) => {
  const net = freshNet();
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
  const port = await listening(server, 0);
  const c = net.connect(port);
  c.end('paused data');
  const peer: any = await once(server, 'connection');
  t.true(peer.allowHalfOpen);
  t.true(peer.isPaused());
  let got = '';
  peer.on('data', (d: Buffer) => (got += d));
  await new Promise((r) => setTimeout(r, 30));
  t.is(got, '');
  peer.resume();
  await once(peer, 'end');
  t.is(got, 'paused data');
  t.false(peer.writableEnded); // half-open: our side stays writable
  peer.end('reply');
  let reply = '';
  c.on('data', (d) => (reply += d));
  await once(c, 'close');
  t.is(reply, 'reply');
  server.close();
});

async function clientExample(t: any, factory: 'connect' | 'createConnection'): Promise<void> {
  const net = freshNet();
  const server = net.createServer((c) => {
    c.write('hello\r\n');
    c.pipe(c);
  });
  await listening(server, 8124);
  const log: string[] = [];
  const client = net[factory]({ port: 8124 }, () => {
    // 'connect' listener
    log.push('connected to server!');
    client.write('world!\r\n');
  });
  client.on('data', (data) => {
    log.push(data.toString());
    client.end();
  });
  client.on('end', () => {
    log.push('disconnected from server');
  });
  await once(client, 'close');
  t.is(log[0], 'connected to server!');
  t.true(log[1].startsWith('hello\r\n'));
  t.is(log[log.length - 1], 'disconnected from server');
  t.is(log.join('').replace('disconnected from server', '').replace('connected to server!', ''), 'hello\r\nworld!\r\n');
  server.close();
}

test('net.connect(options[, connectListener]): the client example', (t) => clientExample(t, 'connect'));
test('net.createConnection(options[, connectListener]): the client example', (t) => clientExample(t, 'createConnection'));

test('net.connect(port[, host][, connectListener]) and net.createConnection(port[, host][, connectListener]): host defaults to localhost', async (t) => {
  const net = freshNet();
  const server = net.createServer((c) => c.end());
  const port = await listening(server, 0);
  for (const f of [net.connect, net.createConnection]) {
    let cb = false;
    const c = f(port, () => (cb = true));
    const lookups: any[] = [];
    c.on('lookup', (...a: any[]) => lookups.push(a));
    await once(c, 'connect');
    t.true(cb);
    t.deepEqual(lookups, [[null, '127.0.0.1', 4, 'localhost']]);
    c.resume();
    await once(c, 'close');
    const c2 = f(port, '127.0.0.1');
    await once(c2, 'connect');
    c2.destroy();
  }
  server.close();
});

test('net.createConnection: the timeout option calls setTimeout before connecting', async (t) => {
  const net = freshNet();
  const server = net.createServer((c) => c.resume());
  const port = await listening(server, 0);
  const c = net.createConnection({ port, timeout: 40 });
  t.is(c.timeout, 40);
  const log = record(c, ['connect', 'timeout']);
  await once(c, 'timeout');
  t.deepEqual(log, ['connect', 'timeout']);
  c.destroy();
  server.close();
});

test('net.connect(path[, connectListener]) / net.createConnection(path[, connectListener]): see unix.test.ts', (t) => {
  const net = freshNet();
  const s = net.connect('/nonexistent/tcplab.sock');
  return new Promise<void>((resolve) => s.on('error', (e: any) => {
    t.is(e.code, 'ENOENT');
    t.is(e.syscall, 'connect');
    resolve();
  }));
});

test('the default module: lazily created stack with loopback 127.0.0.1/8', async (t) => {
  const net = netModule;
  t.is(defaultNet().stack, net.stack);
  const iface = net.stack.ip.interfaces[0];
  t.is(iface.device.mtu, 65536);
  const server = net.createServer((c) => c.end('default'));
  const port = await listening(server, 0);
  const c = net.connect(port, 'localhost');
  let text = '';
  c.on('data', (d) => (text += d));
  await once(c, 'close');
  t.is(text, 'default');
  const bad = net.connect(port, 'example.com');
  const e: any = await once(bad, 'error');
  t.is(e.code, 'ENOTFOUND');
  server.close();
});

test('tcplab/net (dist/net.js) works with require() and with import', (t) => {
  t.true(existsSync(dist), 'run node tools/build.mjs first');
  const dir = mkdtempSync(join(tmpdir(), 'tcplab-net-'));
  const body = `
    const server = net.createServer((c) => c.end('hi ' + (c instanceof net.Socket)));
    server.listen(0, () => {
      const c = net.connect(server.address().port);
      let s = '';
      c.on('data', (d) => (s += d));
      c.on('close', () => { console.log(s, typeof net.isIP, net.stack.name); server.close(); });
    });`;
  writeFileSync(join(dir, 'a.cjs'), `const net = require(${JSON.stringify(dist)});\n${body}`);
  writeFileSync(join(dir, 'b.mjs'), `import net from ${JSON.stringify(dist)};\n${body}`);
  for (const f of ['a.cjs', 'b.mjs']) {
    const r = spawnSync(process.execPath, [join(dir, f)], { encoding: 'utf8', timeout: 5000 });
    t.is(r.status, 0, r.stderr);
    t.is(r.stdout.trim(), 'hi true function default', f);
  }
});
