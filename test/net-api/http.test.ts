// Node's http over tcplab: an http.Server fed tcplab sockets, and
// http.request through createConnection (keep-alive connections reused).

import test from 'ava';
import * as http from 'node:http';
import { freshNet, listening } from './helpers';

function get(options: http.RequestOptions): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('http.createServer() served through a tcplab Server; http.request({ createConnection }) as the client', async (t) => {
  const net = freshNet();
  const httpServer = http.createServer((req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(`${req.method} ${req.url} from ${req.socket.remoteAddress}`);
  });
  const server = net.createServer((socket) => httpServer.emit('connection', socket));
  const port = await listening(server, 0);
  const r = await get({ host: '127.0.0.1', port, path: '/hello', createConnection: (o: any) => net.createConnection(o) } as any);
  t.is(r.status, 200);
  t.is(r.body, 'GET /hello from 127.0.0.1');
  httpServer.close();
  server.close();
});

test('http.Agent with keepAlive reuses one tcplab connection for several requests', async (t) => {
  const net = freshNet();
  const peers = new Set<number>();
  const httpServer = http.createServer((req, res) => {
    peers.add(req.socket.remotePort!);
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => res.end(`echo:${body}`));
  });
  const server = net.createServer((socket) => httpServer.emit('connection', socket));
  const port = await listening(server, 0);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  (agent as any).createConnection = (opts: any, cb: any) => {
    const s = net.createConnection(opts);
    if (cb) s.once('connect', () => cb(null, s));
    return s;
  };
  for (let i = 0; i < 3; i++) {
    const r = await new Promise<string>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/', agent }, (res) => {
        let b = '';
        res.on('data', (d) => (b += d));
        res.on('end', () => resolve(b));
      });
      req.on('error', reject);
      req.end(`n${i}`);
    });
    t.is(r, `echo:n${i}`);
  }
  t.is(peers.size, 1);
  agent.destroy();
  httpServer.close();
  await new Promise((r) => server.close(r));
});

test('a connection the http client will not reuse is destroyed after the response, without waiting for the server to close (destroySoon), on Node net and tcplab alike', async (t) => {
  // The server answers and then never closes (allowHalfOpen: the client's FIN does not end
  // it): only destroySoon() lets the client go.
  const run = async (netModule: typeof import('node:net')): Promise<string[]> => {
    const log: string[] = [];
    const open: import('node:net').Socket[] = [];
    const server = netModule.createServer({ allowHalfOpen: true }, (socket) => {
      open.push(socket);
      socket.once('data', () => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok'));
    });
    const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
    const agent = new http.Agent({ keepAlive: false });
    (agent as any).createConnection = (opts: any) => netModule.createConnection(opts);
    await new Promise<void>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
        res.resume();
        res.on('end', () => log.push('response end'));
      });
      req.on('error', reject);
      req.on('socket', (s) => s.on('close', () => {
        log.push(`socket close, destroyed=${s.destroyed}`);
        resolve();
      }));
      req.end();
    });
    server.close();
    for (const s of open) s.destroy();
    return log;
  };
  const node = await run(await import('node:net'));
  const ours = await run(freshNet() as unknown as typeof import('node:net'));
  t.deepEqual(node, ['response end', 'socket close, destroyed=true']);
  t.deepEqual(ours, node);
});
