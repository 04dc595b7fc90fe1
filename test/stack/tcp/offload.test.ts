// Checksum offload on a loopback, as Linux does on lo: segments carry only the
// pseudo-header sum and are not verified; any device that may damage frames
// (a fault injector in front of the loopback, a link) gets full checksums.

import test from 'ava';
import { VirtualClock } from '../../../stack/time/virtual-clock';
import { SeededRandom } from '../../../stack/random';
import { Stack } from '../../../stack/stack';
import { LoopbackDevice } from '../../../devices/loopback';
import { FaultInjector } from '../../../devices/fault';
import { WrapperDevice } from '../../../devices/wrapper';
import type { Device, FrameReceiver } from '../../../stack/device';
import { copyBytes } from '../../../stack/buffers';
import { Ipv4Header, parseIpv4, parseIpv4Address, IPPROTO_TCP } from '../../../stack/wire/ipv4';
import { checksumFoldSum, checksumValid, pseudoHeaderSum } from '../../../stack/wire/checksum';

/** Remembers a copy of every frame sent through it (frames are Buffers: slice() would be a view). */
class Recording extends WrapperDevice {
  frames: Uint8Array[] = [];
  constructor(inner: Device) {
    super(inner);
  }
  attach(r: FrameReceiver): void { this.inner.attach(r); }
  send(frames: readonly Uint8Array[]): void { this.frames.push(...frames.map((f) => copyBytes(f))); this.inner.send(frames); }
  close(): void { this.inner.close(); }
}

function run(wrap: (lo: Device, clock: VirtualClock) => Device): { frames: Uint8Array[]; got: number; damaged: number } {
  const clock = new VirtualClock();
  const stack = new Stack({ name: 'lo', clock, random: new SeededRandom(1) });
  const rec = new Recording(wrap(new LoopbackDevice(clock), clock));
  stack.addInterface(rec, { address: '127.0.0.1/8' });
  let got = 0;
  let damaged = 0;
  stack.tcp.listen({ port: 9 }, { onConnection(c) { c.attach({ onReadable(c) {
    let x;
    while ((x = c.read()) !== null) {
      got += x.length;
      for (const b of x) if (b !== 9) damaged++;
    }
  } }); } });
  stack.tcp.connect({ remoteAddress: parseIpv4Address('127.0.0.1'), remotePort: 9 }, { onConnect(c) { c.send(new Uint8Array(300_000).fill(9)); } });
  clock.runUntilIdle();
  return { frames: rec.frames.filter((f) => f[9] === IPPROTO_TCP), got, damaged };
}

function tcpChecksums(frames: Uint8Array[]): Array<{ valid: boolean; partial: boolean }> {
  const h = new Ipv4Header();
  return frames.map((f) => {
    parseIpv4(f, h, false);
    const field = (f[h.payloadOffset + 16] << 8) | f[h.payloadOffset + 17];
    return {
      valid: checksumValid(f, h.payloadOffset, h.payloadLength, pseudoHeaderSum(h.src, h.dst, IPPROTO_TCP, h.payloadLength)),
      partial: field === checksumFoldSum(pseudoHeaderSum(h.src, h.dst, IPPROTO_TCP, h.payloadLength)),
    };
  });
}

test('on a loopback, TCP segments carry only the pseudo-header sum (CHECKSUM_PARTIAL) and still arrive', (t) => {
  const { frames, got } = run((lo) => lo);
  t.is(got, 300_000);
  const sums = tcpChecksums(frames);
  t.true(sums.length > 5);
  t.true(sums.every((s) => s.partial));
  t.true(sums.some((s) => !s.valid));
});

test('a fault injector in front of the loopback may damage frames, so full checksums are computed and verified', (t) => {
  const { frames, got } = run((lo, clock) => new FaultInjector(lo, clock, new SeededRandom(2)));
  t.is(got, 300_000);
  t.true(tcpChecksums(frames).every((s) => s.valid));
});

test('a corrupted segment is dropped for its checksum behind a fault injector, and the transfer still completes', (t) => {
  const { got, damaged } = run((lo, clock) => new FaultInjector(lo, clock, new SeededRandom(3), { corrupt: 0.05 }));
  t.is(got, 300_000);
  t.is(damaged, 0);
});
