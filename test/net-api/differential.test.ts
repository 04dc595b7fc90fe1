// The same scenario code runs against Node's own net over the kernel's
// loopback and against tcplab's net over its own loopback stack; the
// sequences of events, error codes and received bytes must be the same.

import test from 'ava';
import * as nodeNet from 'node:net';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freshNet, record, sleep, until } from './helpers';

type AnyNet = typeof nodeNet | ReturnType<typeof freshNet>;
const HOST = '127.0.0.1';
const SOCKET_EVENTS = ['connect', 'ready', 'data', 'end', 'finish', 'timeout', 'error', 'close'];

function port(s: { address(): unknown }): number {
  return (s.address() as { port: number }).port;
}

function listen(server: any, opts: object = {}): Promise<number> {
  return new Promise((resolve) => server.listen({ host: HOST, port: 0, ...opts }, () => resolve(port(server))));
}

async function freePort(net: AnyNet): Promise<number> {
  const s = (net as any).createServer();
  const p = await listen(s);
  await new Promise((r) => s.close(r));
  return p;
}

type Scenario = (net: AnyNet) => Promise<Record<string, unknown>>;

const scenarios: Record<string, Scenario> = {
  async 'connect/data/end/close'(net) {
    const srv: string[] = [];
    const cli: string[] = [];
    const server = (net as any).createServer((c: any) => {
      record(c, SOCKET_EVENTS, srv);
      c.setEncoding('utf8');
      c.write('hello');
      c.on('end', () => c.end('bye'));
    });
    const p = await listen(server);
    const client = (net as any).connect(p, HOST);
    record(client, SOCKET_EVENTS, cli);
    client.setEncoding('utf8');
    client.on('connect', () => client.end('ping'));
    await new Promise((r) => client.on('close', r));
    await until(() => srv.some((e) => e.startsWith('close')));
    let text = '';
    for (const e of cli) if (e.startsWith('data:')) text += e.slice(5);
    await new Promise((r) => server.close(r));
    return { cli: cli.filter((e) => !e.startsWith('data:')), text, srv: srv.filter((e) => !e.startsWith('data:')), srvText: srv.filter((e) => e.startsWith('data:')).join('') };
  },

  async refused(net) {
    const p = await freePort(net);
    const log: string[] = [];
    const client = (net as any).connect(p, HOST);
    record(client, SOCKET_EVENTS, log);
    const err: any = await new Promise((r) => client.on('error', r));
    await new Promise((r) => client.on('close', r));
    return { log, code: err.code, errno: err.errno, syscall: err.syscall, address: err.address, portOk: err.port === p, message: err.message.replace(String(p), 'PORT') };
  },

  async 'half-open: server allowHalfOpen, client ends first'(net) {
    const srv: string[] = [];
    const cli: string[] = [];
    const server = (net as any).createServer({ allowHalfOpen: true }, (c: any) => {
      record(c, SOCKET_EVENTS, srv);
      c.resume();
      c.on('end', () => setTimeout(() => {
        c.write('late data');
        c.end();
      }, 20));
    });
    const p = await listen(server);
    const client = (net as any).connect(p, HOST);
    record(client, SOCKET_EVENTS, cli);
    client.on('connect', () => client.end());
    await new Promise((r) => client.on('close', r));
    await until(() => srv.some((e) => e.startsWith('close')));
    await new Promise((r) => server.close(r));
    return { cli, srv };
  },

  async 'half-open: client allowHalfOpen, server ends first'(net) {
    const srv: string[] = [];
    const cli: string[] = [];
    const server = (net as any).createServer((c: any) => {
      record(c, SOCKET_EVENTS, srv);
      c.resume();
      c.end('srv done');
    });
    const p = await listen(server);
    const client = (net as any).connect({ port: p, host: HOST, allowHalfOpen: true });
    record(client, SOCKET_EVENTS, cli);
    client.on('end', () => setTimeout(() => client.end('client after end'), 20));
    await new Promise((r) => client.on('close', r));
    await until(() => srv.some((e) => e.startsWith('close')));
    await new Promise((r) => server.close(r));
    return { cli, srv };
  },

  async 'destroy with unread data resets'(net) {
    const cli: string[] = [];
    let serverSide: any;
    const server = (net as any).createServer({ pauseOnConnect: true }, (c: any) => {
      serverSide = c;
    });
    const p = await listen(server);
    const client = (net as any).connect(p, HOST);
    record(client, SOCKET_EVENTS, cli);
    client.on('connect', () => client.write('unread bytes'));
    await until(() => serverSide !== undefined);
    await sleep(50);
    serverSide.destroy();
    await new Promise((r) => client.on('close', r));
    await new Promise((r) => server.close(r));
    return { cli };
  },

  async 'idle timeout'(net) {
    const cli: string[] = [];
    const server = (net as any).createServer((c: any) => c.resume());
    const p = await listen(server);
    const client = (net as any).connect(p, HOST);
    record(client, SOCKET_EVENTS, cli);
    client.setTimeout(60);
    client.on('timeout', () => {
      client.setTimeout(0);
      client.destroy();
    });
    await new Promise((r) => client.on('close', r));
    await new Promise((r) => server.close(r));
    return { cli, timeout: client.timeout };
  },

  async 'server close with open connections'(net) {
    const log: string[] = [];
    let conn: any;
    const server = (net as any).createServer((c: any) => {
      conn = c;
      log.push('connection');
      c.resume();
      c.on('end', () => log.push('srv socket end'));
      c.on('close', () => log.push('srv socket close'));
    });
    const p = await listen(server);
    const client = (net as any).connect(p, HOST);
    client.resume();
    await until(() => conn !== undefined);
    server.close(() => log.push('close callback'));
    server.on('close', () => log.push('server close'));
    log.push(`listening=${server.listening}`);
    await sleep(30);
    log.push('ending client');
    client.end();
    await until(() => log.includes('close callback'));
    return { log };
  },

  async maxConnections(net) {
    const log: string[] = [];
    const srv: string[] = [];
    const server = (net as any).createServer((c: any) => {
      srv.push('connection');
      c.resume();
    });
    server.maxConnections = 1;
    server.on('drop', (d: any) => srv.push(`drop ${d.remoteAddress.replace('::ffff:', '')} ${d.remotePort === b.localPort}`));
    const p = await listen(server);
    const a = (net as any).connect(p, HOST);
    let b: any;
    a.resume();
    await new Promise((r) => a.on('connect', r));
    await until(() => srv.includes('connection'));
    b = (net as any).connect(p, HOST);
    record(b, SOCKET_EVENTS, log, 'b ');
    b.resume();
    await new Promise((r) => b.on('close', r));
    await until(() => srv.length === 2);
    a.destroy();
    await new Promise((r) => server.close(r));
    return { log, srv };
  },
};

for (const [name, scenario] of Object.entries(scenarios)) {
  test(`differential: ${name}`, async (t) => {
    const kernel = await scenario(nodeNet);
    const tcplab = await scenario(freshNet());
    t.log(JSON.stringify(kernel));
    t.deepEqual(tcplab, kernel);
  });
}

// A child process that only has an unref'd server (and an unref'd client) must exit.
const here = fileURLToPath(new URL('.', import.meta.url));
const dist = `${here}../../dist/net.js`;
const childScript = (mod: string, unref: boolean) => `
const net = require(${JSON.stringify(mod)});
const s = net.createServer((c) => { c.resume(); ${unref ? 'c.unref();' : ''} });
s.listen(0, '127.0.0.1', () => {
  const c = net.connect(s.address().port, '127.0.0.1');
  c.on('connect', () => { console.log('connected'); ${unref ? 'c.unref(); s.unref();' : ''} });
});
${unref ? '' : "setTimeout(() => { console.log('still alive'); process.exit(0); }, 700).unref();"}
`;

test('differential: unref\'d server and socket let the process exit; ref\'d ones keep it alive', (t) => {
  if (!existsSync(dist)) {
    t.fail('dist/net.js missing: run node tools/build.mjs');
    return;
  }
  for (const mod of ['node:net', dist]) {
    const exits = spawnSync(process.execPath, ['-e', childScript(mod, true)], { timeout: 5000, encoding: 'utf8' });
    t.is(exits.status, 0, `${mod}: ${exits.stderr}`);
    t.is(exits.stdout.trim(), 'connected', mod);
    const stays = spawnSync(process.execPath, ['-e', childScript(mod, false)], { timeout: 5000, encoding: 'utf8' });
    t.is(stays.stdout.trim(), 'connected\nstill alive', mod);
  }
});
