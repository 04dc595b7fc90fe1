import test from 'ava';
import { Reassembler } from '../../../stack/ip/reassembly';
import { fragmentIpv4 } from '../../../stack/ip/fragment';
import { IPPROTO_UDP, Ipv4Header, parseIpv4, writeIpv4Header } from '../../../stack/wire/ipv4';
import { checksumValid, pseudoHeaderSum } from '../../../stack/wire/checksum';
import { FRAGMENT_1, FRAGMENT_2, FRAGMENT_3, ICMP_PORT_UNREACHABLE_576 } from '../wire/linux-captures';
import { rng } from '../../helpers/rng';
import { FrameAllocator } from '../../../stack/buffers';

const A = 0x0a000001;
const B = 0x0a000002;


function datagram(payloadLength: number, id: number, next: () => number, src = A): Uint8Array {
  const b = new Uint8Array(20 + payloadLength);
  writeIpv4Header(b, 0, b.length, id, false, 64, IPPROTO_UDP, src, B);
  for (let i = 20; i < b.length; i++) b[i] = next() & 0xff;
  return b;
}

/** A fragment with the given payload offset (bytes), data and MF. */
function fragment(id: number, offset: number, data: Uint8Array, more: boolean, src = A): Uint8Array {
  const b = new Uint8Array(20 + data.length);
  writeIpv4Header(b, 0, b.length, id, false, 64, IPPROTO_UDP, src, B, 0, more, offset);
  b.set(data, 20);
  return b;
}

function header(packet: Uint8Array): Ipv4Header {
  const h = new Ipv4Header();
  const reason = parseIpv4(packet, h);
  if (reason !== null) throw new Error(reason);
  return h;
}

function feed(r: Reassembler, packet: Uint8Array): Uint8Array | null | string {
  return r.input(header(packet), packet);
}

function shuffle<T>(a: T[], next: () => number): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = next() % (i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

const permutations = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];

test('reassembles real Linux fragments in any order into what Linux reassembled', (t) => {
  const frags = [FRAGMENT_1.bytes, FRAGMENT_2.bytes, FRAGMENT_3.bytes];
  for (const order of permutations) {
    const r = new Reassembler({ now: () => 0 });
    const results = order.map((i) => feed(r, frags[i]));
    t.is(results[0], null);
    t.is(results[1], null);
    const whole = results[2];
    if (!(whole instanceof Uint8Array)) {
      t.fail(String(whole));
      return;
    }
    t.is(whole.length, 3028);
    // Linux's own reassembly, as quoted in the ICMP error it sent about it (the first 548 bytes).
    t.deepEqual(whole.subarray(0, 548), ICMP_PORT_UNREACHABLE_576.bytes.subarray(28));
    // The UDP checksum Linux computed over the whole datagram verifies.
    t.true(checksumValid(whole, 20, 3008, pseudoHeaderSum(0x7f000001, 0x7f000001, IPPROTO_UDP, 3008)));
    const h = header(whole);
    t.like(h, { totalLength: 3028, moreFragments: false, fragmentOffset: 0, id: 46296 });
    t.is(r.bytesHeld, 0);
    t.is(r.pending, 0);
    t.is(r.nextExpiry(), Infinity);
  }
});

test('fragment then reassemble, random order with duplicates, many sizes and MTUs: the original bytes', (t) => {
  const next = rng(42);
  for (let trial = 0; trial < 300; trial++) {
    const original = datagram(1 + (next() % 9000), trial, next);
    const mtu = 68 + (next() % 1500);
    const frags = fragmentIpv4(original, mtu);
    if (typeof frags === 'string') {
      t.fail(frags);
      return;
    }
    const deliveries = shuffle([...frags, ...frags.filter(() => next() % 3 === 0)], next);
    const r = new Reassembler({ now: () => 0 });
    let completed = 0;
    for (const f of deliveries) {
      const out = feed(r, f);
      if (out instanceof Uint8Array) {
        // Duplicates arriving after completion start over (as in Linux) and may complete again.
        completed++;
        if (frags.length === 1) t.is(out, frags[0]);
        else t.deepEqual(out, original);
      } else if (out !== null) {
        t.is(out, 'ipv4-fragment-duplicate');
      }
    }
    t.true(completed >= 1);
  }
});

test('interleaved datagrams are kept apart by (src, dst, protocol, id)', (t) => {
  const next = rng(7);
  const one = datagram(3000, 1, next);
  const two = datagram(3000, 2, next);
  const three = datagram(3000, 1, next, 0x0a000003); // same id, other source
  const pieces = [one, two, three].map((d) => fragmentIpv4(d, 1000) as Uint8Array[]);
  const r = new Reassembler({ now: () => 0 });
  const done: Uint8Array[] = [];
  for (let i = 0; i < 4; i++) {
    for (const p of pieces) {
      const out = feed(r, p[i]);
      if (out instanceof Uint8Array) done.push(out);
      else t.is(out, null);
    }
  }
  t.deepEqual(done, [one, two, three]);
});

test('a packet that is not a fragment is returned as is', (t) => {
  const d = datagram(100, 9, rng(1));
  const r = new Reassembler({ now: () => 0 });
  t.is(feed(r, d), d);
});

test('timeout: 30 s after the first fragment, expire() drops it; ICMP time exceeded gets the first fragment', (t) => {
  let now = 1000;
  const timedOut: Uint8Array[] = [];
  const r = new Reassembler({ now: () => now, onTimeout: (f) => timedOut.push(f) });
  const frags = fragmentIpv4(datagram(3000, 5, rng(3)), 1500) as Uint8Array[];
  t.is(feed(r, frags[0]), null);
  t.is(r.nextExpiry(), 31000);
  now = 20000;
  t.is(feed(r, frags[1]), null);
  t.is(r.nextExpiry(), 31000, 'not restarted by later fragments');
  // Another datagram with only a non-first fragment.
  const other = fragmentIpv4(datagram(3000, 6, rng(4)), 1500) as Uint8Array[];
  t.is(feed(r, other[2]), null);
  now = 30999;
  t.is(r.expire(), 0);
  now = 31000;
  t.is(r.expire(), 1);
  t.is(r.timeouts, 1);
  t.deepEqual(timedOut, [frags[0]]);
  t.is(r.nextExpiry(), 50000);
  // The late last fragment starts a new, incomplete datagram.
  t.is(feed(r, frags[2]), null);
  now = 61000;
  t.is(r.expire(), 2);
  t.is(timedOut.length, 1, 'no first fragment, no ICMP');
  t.is(r.bytesHeld, 0);
  t.is(r.nextExpiry(), Infinity);
});

test('timeoutMs is configurable', (t) => {
  let now = 0;
  const r = new Reassembler({ now: () => now, timeoutMs: 500 });
  const frags = fragmentIpv4(datagram(2000, 5, rng(3)), 1500) as Uint8Array[];
  feed(r, frags[0]);
  t.is(r.nextExpiry(), 500);
  now = 500;
  t.is(r.expire(), 1);
});

test('memory bound: the oldest datagrams are evicted to make room; never more than maxBytes held', (t) => {
  const next = rng(11);
  const r = new Reassembler({ now: () => 0, maxBytes: 4100 });
  const a = fragmentIpv4(datagram(3000, 1, next), 1500) as Uint8Array[]; // 1480 + 1480 + 40
  const original = datagram(3000, 2, next);
  const b = fragmentIpv4(original, 1500) as Uint8Array[];
  t.is(feed(r, a[0]), null);
  t.is(feed(r, a[1]), null);
  t.is(r.bytesHeld, 20 + 2960);
  t.is(feed(r, b[0]), null); // 20 + 1480 more would exceed 4100: a goes
  t.is(r.evictions, 1);
  t.is(r.pending, 1);
  t.is(r.bytesHeld, 1500);
  t.is(feed(r, a[2]), null, 'a was evicted: its last fragment starts over');
  t.is(r.pending, 2);
  t.is(feed(r, b[1]), null);
  t.is(r.bytesHeld, 20 + 2960 + 40);
  t.deepEqual(feed(r, b[2]), original);
  t.is(r.evictions, 1);
  t.is(r.bytesHeld, 40);
});

/** Every ArrayBuffer reachable from `root` through own properties, arrays, Maps and typed arrays: the byte memory it keeps alive. */
function reachableArrayBuffers(root: unknown): Set<ArrayBufferLike> {
  const found = new Set<ArrayBufferLike>();
  const seen = new Set<object>();
  const walk = (v: unknown): void => {
    if (typeof v !== 'object' || v === null || seen.has(v)) return;
    seen.add(v);
    if (ArrayBuffer.isView(v)) {
      found.add(v.buffer);
      return;
    }
    if (v instanceof Map) {
      for (const [k, x] of v) {
        walk(k);
        walk(x);
      }
      return;
    }
    for (const x of Object.values(v)) walk(x);
  };
  walk(root);
  return found;
}

test('held fragments are copied: no slab they arrived in stays alive, and held memory is what bytesHeld counts', (t) => {
  const r = new Reassembler({ now: () => 0 });
  const original = datagram(3000, 7, rng(21));
  // Received frames may be views into a 256 KiB slab (an in-memory link hands over the sender's frames).
  const frames = new FrameAllocator();
  const slabbed = (fragmentIpv4(original, 1500) as Uint8Array[]).map((f) => {
    const frame = frames.alloc(f.length);
    frame.set(f);
    return frame;
  });
  const slab = slabbed[0].buffer;
  t.true(slab.byteLength >= 256 * 1024);
  t.is(feed(r, slabbed[0]), null);
  t.is(feed(r, slabbed[2]), null);
  const held = reachableArrayBuffers(r);
  t.false(held.has(slab), 'a held fragment keeps its slab alive');
  let bytes = 0;
  for (const b of held) bytes += b.byteLength;
  t.true(bytes <= r.bytesHeld, `held fragments keep ${bytes} bytes alive; bytesHeld counts ${r.bytesHeld}`);
  // The bytes were taken when they arrived (input() copies), so later writes to the frames change nothing.
  slabbed[0].fill(0);
  slabbed[2].fill(0);
  t.deepEqual(feed(r, slabbed[1]), original);
});

test('a datagram bigger than the whole budget is dropped', (t) => {
  const r = new Reassembler({ now: () => 0, maxBytes: 2000 });
  const a = fragmentIpv4(datagram(4000, 1, rng(5)), 1500) as Uint8Array[];
  t.is(feed(r, a[0]), null);
  t.is(feed(r, a[1]), 'ipv4-reassembly-over-budget');
  t.is(r.bytesHeld, 0);
  t.is(r.pending, 0);
});

test('default budget is 4 MiB and timeout 30 s (Linux ipfrag_high_thresh, ipfrag_time)', (t) => {
  const r = new Reassembler({ now: () => 0 });
  const next = rng(8);
  for (let id = 0; id < 100; id++) {
    const f = fragmentIpv4(datagram(60000, id, next), 65535 - 8000) as Uint8Array[];
    feed(r, f[0]);
    t.true(r.bytesHeld <= 4 * 1024 * 1024);
  }
  t.true(r.evictions > 0);
  t.is(r.nextExpiry(), 30000);
});

test('partial overlap drops the whole datagram (RFC 5722 / Linux)', (t) => {
  const data = new Uint8Array(64).fill(7);
  const r = new Reassembler({ now: () => 0 });
  t.is(feed(r, fragment(1, 0, data.subarray(0, 32), true)), null);
  t.is(feed(r, fragment(1, 24, data.subarray(0, 16), true)), 'ipv4-fragment-overlap');
  t.is(r.pending, 0);
  t.is(r.bytesHeld, 0);
  // What arrives afterwards starts a new datagram that lacks the dropped pieces.
  t.is(feed(r, fragment(1, 32, data.subarray(0, 32), false)), null);
  t.is(r.pending, 1);
});

test('overlap spanning a hole drops the datagram', (t) => {
  const r = new Reassembler({ now: () => 0 });
  const d = new Uint8Array(8);
  t.is(feed(r, fragment(1, 0, d, true)), null);
  t.is(feed(r, fragment(1, 16, d, true)), null);
  t.is(feed(r, fragment(1, 0, new Uint8Array(24), true)), 'ipv4-fragment-overlap');
  t.is(r.pending, 0);
});

test('a duplicate with the same bytes is dropped alone; with different bytes it drops the datagram', (t) => {
  const next = rng(9);
  const original = datagram(48, 3, next);
  const r = new Reassembler({ now: () => 0 });
  const p = original.subarray(20);
  t.is(feed(r, fragment(3, 0, p.subarray(0, 16), true)), null);
  t.is(feed(r, fragment(3, 16, p.subarray(16, 32), true)), null);
  // Covered by two held pieces together.
  t.is(feed(r, fragment(3, 8, p.subarray(8, 24), true)), 'ipv4-fragment-duplicate');
  t.is(feed(r, fragment(3, 0, p.subarray(0, 16), true)), 'ipv4-fragment-duplicate');
  const done = feed(r, fragment(3, 32, p.subarray(32, 48), false));
  t.deepEqual(done, original);

  t.is(feed(r, fragment(4, 0, p.subarray(0, 16), true)), null);
  const changed = p.slice(0, 16);
  changed[5] ^= 1;
  t.is(feed(r, fragment(4, 0, changed, true)), 'ipv4-fragment-overlap');
  t.is(r.pending, 0);
});

test('the reassembled header: first fragment header, total length set, fragment fields cleared, checksum valid', (t) => {
  const r = new Reassembler({ now: () => 0 });
  const data = new Uint8Array(40).fill(1);
  feed(r, fragment(77, 16, data.subarray(0, 24), false));
  const out = feed(r, fragment(77, 0, data.subarray(0, 16), true));
  if (!(out instanceof Uint8Array)) {
    t.fail(String(out));
    return;
  }
  t.true(checksumValid(out, 0, 20));
  t.like(header(out), { totalLength: 60, id: 77, moreFragments: false, fragmentOffset: 0, ttl: 64, src: A, dst: B });
});

test('drop: datagram larger than 65535 bytes (ping of death)', (t) => {
  const r = new Reassembler({ now: () => 0 });
  t.is(feed(r, fragment(1, 0, new Uint8Array(8), true)), null);
  t.is(feed(r, fragment(1, 65512, new Uint8Array(16), false)), 'ipv4-reassembly-too-big');
  t.is(r.pending, 0);
  t.is(feed(r, fragment(2, 65512, new Uint8Array(3), false)), null); // 20 + 65515 = 65535 fits
});

test('drop: non-final fragment not a multiple of 8 bytes, or empty', (t) => {
  const r = new Reassembler({ now: () => 0 });
  t.is(feed(r, fragment(1, 0, new Uint8Array(12), true)), 'ipv4-fragment-misaligned');
  t.is(feed(r, fragment(1, 8, new Uint8Array(0), true)), 'ipv4-fragment-empty');
  t.is(r.pending, 0);
});

test('drop: inconsistent ends drop the datagram', (t) => {
  const r = new Reassembler({ now: () => 0 });
  t.is(feed(r, fragment(1, 16, new Uint8Array(8), false)), null);
  t.is(feed(r, fragment(1, 32, new Uint8Array(8), false)), 'ipv4-fragment-inconsistent');
  t.is(r.pending, 0);
  t.is(feed(r, fragment(2, 16, new Uint8Array(8), false)), null);
  t.is(feed(r, fragment(2, 24, new Uint8Array(8), true)), 'ipv4-fragment-inconsistent'); // data past the end
  t.is(feed(r, fragment(3, 64, new Uint8Array(8), true)), null);
  t.is(feed(r, fragment(3, 16, new Uint8Array(8), false)), 'ipv4-fragment-inconsistent'); // end before data held
  t.is(r.pending, 0);
  t.is(r.bytesHeld, 0);
});

test('clear() drops everything', (t) => {
  const r = new Reassembler({ now: () => 0 });
  feed(r, fragment(1, 0, new Uint8Array(8), true));
  feed(r, fragment(2, 0, new Uint8Array(8), true));
  r.clear();
  t.is(r.pending, 0);
  t.is(r.bytesHeld, 0);
  t.is(r.nextExpiry(), Infinity);
});
