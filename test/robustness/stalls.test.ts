// The two stalls users met first: segments that outgrew the MTU once they
// carried SACK blocks (and were dropped without a word by our own IP layer),
// and pure ACKs whose sequence number went back with SND.NXT after a timeout.
// Each test looks at what crossed the wire.

import test from 'ava';
import { B, Recorder, ip, pair, payload, sendAll, sha256, type Pair, type PairLinkOptions } from '../helpers/sim';
import type { TcpConnection } from '../../stack/tcp/connection';

import type { StackConfigInput } from '../../stack/config';
import { seqAdd, seqGt, seqLt } from '../../stack/tcp/seq';
import { Ipv4Header, parseIpv4 } from '../../stack/wire/ipv4';
import { TcpSegment, parseTcp, TCP_ACK, TCP_FIN, TCP_SYN } from '../../stack/wire/tcp';
import { FilterDevice } from '../../devices/filter';
import type { Device } from '../../stack/device';

interface TwoWay {
  p: Pair;
  cli: Recorder;
  srv: Recorder;
  conn: TcpConnection;
  ok: () => boolean;
}

/** Both ends send `size` bytes at once and shut down after their last byte. */
function twoWay(seed: number, size: number, link: PairLinkOptions, config: StackConfigInput = {}): TwoWay {
  const p = pair({ seed, link, config });
  const da = payload(size, seed);
  const db = payload(size, seed + 1000);
  const srv = new Recorder();
  const cli = new Recorder();
  p.b.tcp.listen({ port: 80 }, {
    onConnection(c) {
      c.attach(srv);
      sendAll(c, db, srv, 'shutdown');
    },
  });
  const conn = p.a.tcp.connect({ remoteAddress: ip(B), remotePort: 80 }, cli);
  cli.onConnect = () => sendAll(conn, da, cli, 'shutdown');
  const ok = (): boolean => sha256(srv.received) === sha256([da]) && sha256(cli.received) === sha256([db])
    && cli.error === null && srv.error === null && cli.closed && srv.closed;
  return { p, cli, srv, conn, ok };
}

/** Data segments that carried SACK blocks, from the frames sent: blocks, payload and IP length. */
function sackDataSegments(p: Pair): Array<{ blocks: number; len: number; ipLength: number }> {
  const h = new Ipv4Header();
  const s = new TcpSegment();
  const out: Array<{ blocks: number; len: number; ipLength: number }> = [];
  for (const f of p.lab.frames) {
    if (f.stage !== 'send' || parseIpv4(f.bytes, h, false) !== null) continue;
    if (parseTcp(f.bytes, h.payloadOffset, h.payloadLength, h.src, h.dst, s, false) !== null) continue;
    if (s.sackCount > 0 && s.payloadLength > 0) out.push({ blocks: s.sackCount, len: s.payloadLength, ipLength: h.totalLength });
  }
  return out;
}

test('two-way transfers at 1% loss complete; data segments give up payload for their SACK blocks; IP refuses none of them', (t) => {
  const failures: string[] = [];
  let sackData = 0;
  let fullSized = 0;
  for (let seed = 1; seed <= 24; seed++) {
    const r = twoWay(seed, 1 << 20, { delayMs: 5, rateBps: 100e6, loss: 0.01 });
    r.p.lab.runWhile(() => !(r.cli.closed && r.srv.closed), 600_000);
    for (const d of sackDataSegments(r.p)) {
      sackData++;
      // MSS 1460 less timestamps (12), the SACK option's NOP, NOP, kind, length (4) and 8 bytes a block.
      const room = 1460 - 12 - 4 - 8 * d.blocks;
      if (d.len === room) fullSized++;
      if (d.len > room || d.ipLength > 1500) failures.push(`seed ${seed}: ${d.blocks} blocks, ${d.len} bytes, IP length ${d.ipLength}`);
    }
    const largest = Math.max(0, ...r.p.lab.frames.filter((f) => f.stage === 'send').map((f) => f.bytes.length));
    const refused = r.p.a.counter('ipv4-needs-fragmentation-df') + r.p.b.counter('ipv4-needs-fragmentation-df');
    if (!r.ok() || largest > 1500 || refused > 0) {
      failures.push(`seed ${seed}: ok=${r.ok()} a=${r.cli.bytes} b=${r.srv.bytes} errors=${r.cli.error?.code}/${r.srv.error?.code} largest=${largest} refused=${refused}`);
    }
  }
  t.deepEqual(failures, []);
  // The case the fix is about happened, with full-sized segments beside the blocks.
  t.true(sackData > 100, `${sackData} data segments with SACK blocks`);
  t.true(fullSized > 50, `${fullSized} of them full-sized`);
});

test('an interface MTU lowered mid-transfer: TCP hears EMSGSIZE from IP, segments again at the new size and completes', (t) => {
  const r = twoWay(5, 2 << 20, { delayMs: 5, rateBps: 100e6 });
  r.p.lab.runWhile(() => r.cli.bytes < 200_000, 60_000);
  const iface = r.p.a.ip.interfaces[0];
  iface.mtu = 1000;
  const from = r.p.lab.frames.length;
  r.p.lab.runWhile(() => !(r.cli.closed && r.srv.closed), 600_000);
  t.true(r.ok(), `a=${r.cli.bytes} b=${r.srv.bytes} ${r.cli.error?.code} ${r.srv.error?.code}`);
  const after = r.p.lab.frames.slice(from).filter((f) => f.stage === 'send' && f.from === 'a');
  t.true(after.length > 100);
  t.true(after.every((f) => f.bytes.length <= 1000), `largest after: ${Math.max(...after.map((f) => f.bytes.length))}`);
  t.true(r.p.a.counter('tcp-mss-reduced') >= 1);
  t.true(r.p.a.counter('tcp-send-EMSGSIZE') >= 1);
});

test('a route that disappears: sends fail with EHOSTUNREACH, the connection ends with it, not with a silent ETIMEDOUT', (t) => {
  const r = twoWay(6, 1 << 20, { delayMs: 5, rateBps: 100e6 }, { tcp: { dataRetries: 4 } });
  r.p.lab.runWhile(() => r.cli.bytes < 100_000, 60_000);
  r.p.a.ip.interfaces[0].up = false;
  r.p.lab.runWhile(() => !r.cli.closed, 600_000);
  t.is(r.cli.error?.code, 'EHOSTUNREACH');
  t.true(r.p.a.counter('tcp-send-EHOSTUNREACH') >= 1);
});

test('an interface that comes back before the retries run out: the transfer completes', (t) => {
  const r = twoWay(7, 1 << 20, { delayMs: 5, rateBps: 100e6 });
  r.p.lab.runWhile(() => r.cli.bytes < 100_000, 60_000);
  const iface = r.p.a.ip.interfaces[0];
  iface.up = false;
  r.p.lab.run(2000);
  iface.up = true;
  r.p.lab.runWhile(() => !(r.cli.closed && r.srv.closed), 600_000);
  t.true(r.ok(), `a=${r.cli.bytes} b=${r.srv.bytes} ${r.cli.error?.code} ${r.srv.error?.code}`);
});

test('after a retransmission timeout, pure ACKs carry SND.MAX, so the peer accepts them and reads their ACK field', (t) => {
  // Both ends send. Then for a second nothing either end sends gets out, while what was
  // already on the wire arrives: each end holds everything the other sent, neither knows
  // it, both time out and go back to SND.UNA. Their ACKs must still be acceptable.
  let checked = 0;
  for (let seed = 1; seed <= 6; seed++) {
    let blackout = false;
    // Everything each end sends, recorded before the blackout drops it.
    const sent: Array<{ from: string; frame: Uint8Array }> = [];
    const dropWhileBlackout = (from: string) => (end: Device): Device => new FilterDevice(end, (frame, dir) => {
      if (dir === 'rx') return true;
      sent.push({ from, frame });
      return !blackout;
    });
    const r = twoWay(seed, 1 << 20, { delayMs: 10, rateBps: 20e6, wrapA: dropWhileBlackout('a'), wrapB: dropWhileBlackout('b') });
    r.p.lab.runWhile(() => r.cli.bytes < 150_000 + seed * 20_000, 60_000);
    blackout = true;
    r.p.lab.run(1000);
    blackout = false;
    r.p.lab.runWhile(() => !(r.cli.closed && r.srv.closed), 600_000);
    t.true(r.ok(), `seed ${seed}: a=${r.cli.bytes} b=${r.srv.bytes} ${r.cli.error?.code} ${r.srv.error?.code}`);
    // Every pure ACK from either end carries the highest sequence number it has sent.
    const h = new Ipv4Header();
    const s = new TcpSegment();
    for (const from of ['a', 'b']) {
      let sndMax: number | null = null;
      let wentBack = false;
      for (const f of sent) {
        if (f.from !== from || parseIpv4(f.frame, h, false) !== null) continue;
        if (parseTcp(f.frame, h.payloadOffset, h.payloadLength, h.src, h.dst, s, false) !== null) continue;
        const syn = (s.flags & TCP_SYN) !== 0;
        const end = seqAdd(s.seq, s.payloadLength + (syn ? 1 : 0) + (s.flags & TCP_FIN ? 1 : 0));
        if (s.payloadLength > 0 && sndMax !== null && seqLt(end, sndMax)) wentBack = true;
        if (s.flags === TCP_ACK && s.payloadLength === 0 && sndMax !== null) {
          if (wentBack) checked++;
          if (s.seq !== sndMax) {
            t.fail(`seed ${seed}: a pure ACK from ${from} carries seq ${s.seq}, highest sent ${sndMax}`);
            return;
          }
        }
        if (sndMax === null || seqGt(end, sndMax)) sndMax = end;
      }
    }
  }
  t.true(checked > 0, `${checked} pure ACKs were sent after going back`);
});
