// UNIX domain sockets: listen(path) / connect(path) use the kernel's UNIX
// sockets (Node's own net) behind the same Socket and Server classes.

import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshNet, once } from './helpers';

const hasNc = spawnSync('sh', ['-c', 'command -v nc'], { encoding: 'utf8' }).status === 0;

function sockPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'tcplab-unix-')), 'echo.sock');
}

function echoServer(net: ReturnType<typeof freshNet>, log: string[]) {
  return net.createServer((c) => {
    log.push('client connected');
    c.on('end', () => log.push('client disconnected'));
    c.write('hello\r\n');
    c.pipe(c);
  });
}

test('server.listen(path[, backlog][, callback]) and net.connect({path}): the echo example over a UNIX socket', async (t) => {
  const net = freshNet();
  const path = sockPath();
  const log: string[] = [];
  const server = echoServer(net, log);
  server.on('error', (err) => {
    throw err;
  });
  await new Promise<void>((resolve) => server.listen(path, () => {
    log.push('server bound');
    resolve();
  }));
  t.is(server.address(), path);
  t.true(server.listening);
  const client = net.connect({ path });
  t.true(client instanceof net.Socket);
  let text = '';
  client.on('connect', () => client.write('world!\r\n'));
  client.setEncoding('utf8').on('data', (d) => {
    text += d;
    if (text.endsWith('world!\r\n')) client.end();
  });
  await once(client, 'close');
  t.is(text, 'hello\r\nworld!\r\n');
  await new Promise((r) => server.close(r));
  t.deepEqual(log, ['server bound', 'client connected', 'client disconnected']);
});

test('net.createConnection(path[, connectListener]) to a missing path: ENOENT', async (t) => {
  const net = freshNet();
  const c = net.createConnection(join(tmpdir(), 'tcplab-no-such.sock'));
  const err: any = await once(c, 'error');
  t.is(err.code, 'ENOENT');
  t.is(err.syscall, 'connect');
});

test('the UNIX-socket example with nc -U', async (t) => {
  if (!hasNc) {
    t.fail('nc (netcat-openbsd) is not installed');
    return;
  }
  const net = freshNet();
  const path = sockPath();
  const log: string[] = [];
  const server = echoServer(net, log);
  await new Promise<void>((resolve) => server.listen(path, () => resolve()));
  // nc -U /tmp/echo.sock, typing one line and then EOF (-N: shut down the socket at EOF).
  const nc = spawn('nc', ['-N', '-U', path], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  nc.stdout.setEncoding('utf8').on('data', (d) => (out += d));
  nc.stdin.end('typed into nc\n');
  const code = await new Promise((resolve) => nc.on('close', resolve));
  t.is(code, 0);
  t.is(out, 'hello\r\ntyped into nc\n');
  await new Promise((r) => server.close(r));
  t.deepEqual(log, ['client connected', 'client disconnected']);
});
