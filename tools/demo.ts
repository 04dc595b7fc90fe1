// The demo: two hosts in simulation over a link with delay and loss. A client
// sends data to a server and both close; every segment is printed as one line,
// with state changes, retransmissions and link losses between them, then the
// final state of both ends. Virtual time only: every run prints the same text.

import { Lab } from './lab/lab';
import { eventLine, formatTime, flagString } from './format';
import { Ipv4Header, parseIpv4 } from '../stack/wire/ipv4';
import { TcpSegment, parseTcp } from '../stack/wire/tcp';
import { parseIpv4Address } from '../stack/wire/ipv4';
import type { TcpConnection } from '../stack/tcp/connection';

export interface DemoOptions {
  seed?: number;
  bytes?: number;
  lossPercent?: number;
  delayMs?: number;
  rateBps?: number;
}

export function runDemo(print: (line: string) => void, opts: DemoOptions = {}): { client: TcpConnection; server: TcpConnection | null; lab: Lab } {
  const seed = opts.seed ?? 4;
  const bytes = opts.bytes ?? 40_000;
  const lab = new Lab({ seed, record: false });
  const client = lab.host('client');
  const server = lab.host('server');
  const delayMs = opts.delayMs ?? 20;
  const loss = (opts.lossPercent ?? 5) / 100;
  const link = lab.link(client, server, {
    addressA: '10.0.0.1/24', addressB: '10.0.0.2/24', delayMs, rateBps: opts.rateBps ?? 10e6, loss,
  });
  print(`tcplab demo: client 10.0.0.1 -> server 10.0.0.2:80, ${bytes} bytes, link ${delayMs} ms one way, `
    + `${(opts.rateBps ?? 10e6) / 1e6} Mbit/s, ${loss * 100}% loss, seed ${seed}`);
  print('');
  for (const host of [client, server]) {
    host.tracer.on((ev) => {
      if (ev.type === 'segment' && ev.dir === 'in') return;
      const line = eventLine(ev);
      if (line !== null) print(line);
    });
  }
  const h = new Ipv4Header();
  const seg = new TcpSegment();
  link.onFrame((ev) => {
    if (ev.stage !== 'send' || ev.fate !== 'lost') return;
    if (parseIpv4(ev.frame, h, false) !== null || parseTcp(ev.frame, h.payloadOffset, h.payloadLength, h.src, h.dst, seg, false) !== null) return;
    print(`${formatTime(ev.time)}  link   LOST [${flagString(seg.flags)}] seq ${seg.seq} len ${seg.payloadLength} (${ev.from === 'a' ? 'client -> server' : 'server -> client'})`);
  });

  let serverConn: TcpConnection | null = null;
  let received = 0;
  server.tcp.listen({ port: 80 }, {
    onConnection(c) {
      serverConn = c;
      c.attach({
        onReadable(conn) {
          let chunk: Uint8Array | null;
          while ((chunk = conn.read()) !== null) received += chunk.length;
        },
        onEnd(conn) {
          conn.shutdown();
        },
      });
    },
  });
  const data = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) data[i] = (i * 31 + 7) & 0xff;
  let offset = 0;
  const pump = (conn: TcpConnection): void => {
    while (offset < bytes) {
      const n = conn.send(data.subarray(offset));
      if (n === 0) return;
      offset += n;
    }
    conn.shutdown();
  };
  const conn = client.tcp.connect({ remoteAddress: parseIpv4Address('10.0.0.2'), remotePort: 80 }, {
    onConnect: pump,
    onWritable: pump,
  });
  lab.runUntilIdle();
  print('');
  const sc = serverConn as TcpConnection | null;
  print(`final state at ${lab.now().toFixed(3)} ms (virtual):`);
  print(`  client ${conn.id}: ${conn.state}, sent ${offset} bytes, ${conn.retransmissions} retransmissions, srtt ${conn.rto.srtt.toFixed(1)} ms, rto ${conn.rto.rto.toFixed(1)} ms`);
  print(`  server ${sc?.id ?? '-'}: ${sc?.state ?? 'never connected'}, received ${received} bytes`);
  print(`  link: ${link.stats.aToB.lost + link.stats.bToA.lost} frames lost of ${link.stats.aToB.sent + link.stats.bToA.sent}`);
  return { client: conn, server: sc, lab };
}
