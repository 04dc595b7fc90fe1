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
