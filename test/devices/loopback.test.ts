import test from 'ava';
import { VirtualClock } from '../../stack/time/virtual-clock';
import { LoopbackDevice } from '../../devices/loopback';

interface Delivery {
  time: number;
  frames: Uint8Array[];
}

function setup(mtu?: number) {
  const clock = new VirtualClock();
  const lo = new LoopbackDevice(clock, mtu === undefined ? {} : { mtu });
  const deliveries: Delivery[] = [];
  lo.attach((frames) => deliveries.push({ time: clock.now(), frames: [...frames] }));
  return { clock, lo, deliveries };
}

test('describes itself as lo, linkType ip, mtu 65536, no MAC', (t) => {
  const { lo } = setup();
  t.is(lo.name, 'lo');
  t.is(lo.linkType, 'ip');
  t.is(lo.mtu, 65536);
  t.is(lo.mac, null);
});

test('delivery is asynchronous: nothing comes back inside send', (t) => {
  const { clock, lo, deliveries } = setup();
  const frame = Uint8Array.of(0x45, 0, 0, 20);
  lo.send([frame]);
  t.is(deliveries.length, 0);
  clock.runUntilIdle();
  t.is(deliveries.length, 1);
  t.is(deliveries[0]!.time, 0, 'on a 0-delay timer: no virtual time passes');
  t.is(deliveries[0]!.frames.length, 1);
  t.is(deliveries[0]!.frames[0], frame, 'the same frame object comes back');
});

test('consecutive sends before delivery come back as one batch, in order', (t) => {
  const { clock, lo, deliveries } = setup();
  const frames = [1, 2, 3, 4, 5].map((n) => Uint8Array.of(n));
  const reused: Uint8Array[] = [];
  reused.push(frames[0]!, frames[1]!);
  lo.send(reused);
  reused.length = 0; // the caller may reuse its array once send returns
  reused.push(frames[2]!);
  lo.send(reused);
  lo.send([frames[3]!, frames[4]!]);
  clock.runUntilIdle();
  t.is(deliveries.length, 1);
  t.deepEqual(deliveries[0]!.frames, frames);
  t.is(lo.stats.sent, 5);
  t.is(lo.stats.delivered, 5);
});

test('frames sent while a batch is being delivered come back in the next batch', (t) => {
  const clock = new VirtualClock();
  const lo = new LoopbackDevice(clock);
  const seen: number[][] = [];
  lo.attach((frames) => {
    seen.push(frames.map((f) => f[0]!));
    if (seen.length === 1) {
      lo.send([Uint8Array.of(9)]);
      t.is(seen.length, 1, 'not re-entered synchronously');
    }
  });
  lo.send([Uint8Array.of(1), Uint8Array.of(2)]);
  clock.runUntilIdle();
  t.deepEqual(seen, [[1, 2], [9]]);
  t.is(clock.now(), 0);
});

test('separate turns of the clock give separate batches', (t) => {
  const { clock, lo, deliveries } = setup();
  lo.send([Uint8Array.of(1)]);
  clock.runUntilIdle();
  clock.advance(3);
  lo.send([Uint8Array.of(2)]);
  clock.runUntilIdle();
  t.deepEqual(
    deliveries.map((d) => [d.time, d.frames.map((f) => f[0])]),
    [
      [0, [1]],
      [3, [2]],
    ],
  );
});

test('frames larger than the mtu are dropped and counted, never thrown', (t) => {
  const { clock, lo, deliveries } = setup(100);
  lo.send([new Uint8Array(101), new Uint8Array(100)]);
  clock.runUntilIdle();
  t.is(deliveries.length, 1);
  t.is(deliveries[0]!.frames.length, 1);
  t.is(deliveries[0]!.frames[0]!.length, 100);
  t.is(lo.stats.dropped, 1);
});

test('close drops pending and later frames', (t) => {
  const { clock, lo, deliveries } = setup();
  lo.send([Uint8Array.of(1)]);
  lo.close();
  lo.send([Uint8Array.of(2)]);
  clock.runUntilIdle();
  t.is(deliveries.length, 0);
  t.is(lo.stats.dropped, 1);
});
