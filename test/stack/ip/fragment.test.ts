import test from 'ava';
import { fragmentIpv4 } from '../../../stack/ip/fragment';
import { Reassembler } from '../../../stack/ip/reassembly';
import { IPPROTO_UDP, Ipv4Header, parseIpv4, setIpv4Checksum, writeIpv4Header } from '../../../stack/wire/ipv4';
import { FRAGMENT_1, FRAGMENT_2, FRAGMENT_3 } from '../wire/linux-captures';

function header(packet: Uint8Array): Ipv4Header {
  const h = new Ipv4Header();
  const reason = parseIpv4(packet, h);
  if (reason !== null) throw new Error(reason);
  return h;
}

function datagram(payloadLength: number, dontFragment = false): Uint8Array {
  const b = new Uint8Array(20 + payloadLength);
  writeIpv4Header(b, 0, b.length, 0x1234, dontFragment, 64, IPPROTO_UDP, 0x0a000001, 0x0a000002);
  for (let i = 20; i < b.length; i++) b[i] = (i * 31) & 0xff;
  return b;
}

function reassembleLinux(): Uint8Array {
  const r = new Reassembler({ now: () => 0 });
  let out: Uint8Array | null | string = null;
  for (const f of [FRAGMENT_1.bytes, FRAGMENT_2.bytes, FRAGMENT_3.bytes]) out = r.input(header(f), f);
  if (!(out instanceof Uint8Array)) throw new Error(String(out));
  return out;
}

test('splits the 3028-byte datagram for MTU 1500 exactly as Linux did', (t) => {
  const frags = fragmentIpv4(reassembleLinux(), 1500);
  t.deepEqual(frags, [FRAGMENT_1.bytes, FRAGMENT_2.bytes, FRAGMENT_3.bytes]);
});

test('offsets are multiples of 8, MF on all but the last, every fragment within the MTU, data preserved', (t) => {
  for (const mtu of [68, 69, 100, 576, 1000, 1499, 1500, 9000]) {
    const d = datagram(8000);
    const frags = fragmentIpv4(d, mtu);
    if (typeof frags === 'string') {
      t.fail(frags);
      return;
    }
    let expectedOffset = 0;
    const data: number[] = [];
    frags.forEach((f, i) => {
      const h = header(f); // checksum verified
      t.true(f.length <= mtu);
      t.is(h.fragmentOffset % 8, 0);
      t.is(h.fragmentOffset, expectedOffset);
      t.is(h.moreFragments, i < frags.length - 1);
      t.like(h, { id: 0x1234, ttl: 64, protocol: IPPROTO_UDP, src: 0x0a000001, dst: 0x0a000002, dontFragment: false });
      if (i < frags.length - 1) t.is(h.payloadLength, (mtu - 20) & ~7);
      expectedOffset += h.payloadLength;
      data.push(...f.subarray(20));
    });
    t.deepEqual(Uint8Array.from(data), d.subarray(20));
  }
});

test('a datagram that fits is returned alone, as is', (t) => {
  const d = datagram(1480);
  const frags = fragmentIpv4(d, 1500);
  t.true(Array.isArray(frags));
  t.is((frags as Uint8Array[])[0], d);
  t.is((frags as Uint8Array[]).length, 1);
  // Trailing bytes past the total length are not sent.
  const padded = new Uint8Array(d.length + 4);
  padded.set(d);
  t.deepEqual(fragmentIpv4(padded, 1500), [d]);
});

test('DF set and too big: ipv4-needs-fragmentation-df', (t) => {
  t.is(fragmentIpv4(datagram(1481, true), 1500), 'ipv4-needs-fragmentation-df');
  t.is((fragmentIpv4(datagram(1480, true), 1500) as Uint8Array[]).length, 1);
});

test('an MTU too small for the header plus 8 bytes is refused', (t) => {
  t.is(fragmentIpv4(datagram(100), 27), 'ipv4-mtu-too-small');
  t.is((fragmentIpv4(datagram(100), 28) as Uint8Array[]).length, 13);
});

test('a bad packet gives the parser reason', (t) => {
  t.is(fragmentIpv4(new Uint8Array(10), 1500), 'ipv4-truncated');
});

test('refragmenting a fragment keeps its offset base and its MF on the last piece', (t) => {
  const frag = FRAGMENT_2.bytes; // offset 1480, MF, 1480 bytes of data
  const pieces = fragmentIpv4(frag, 576) as Uint8Array[];
  t.is(pieces.length, 3);
  const hs = pieces.map(header);
  t.deepEqual(hs.map((h) => h.fragmentOffset), [1480, 1480 + 552, 1480 + 1104]);
  t.deepEqual(hs.map((h) => h.moreFragments), [true, true, true]);
  // A last fragment refragmented: MF only on the new non-last pieces.
  const last = fragmentIpv4(FRAGMENT_3.bytes, 60) as Uint8Array[];
  t.deepEqual(last.map((p) => header(p).moreFragments), [true, false]);
  // And they reassemble with the others into the original.
  const r = new Reassembler({ now: () => 0 });
  let out: Uint8Array | null | string = null;
  for (const p of [...pieces, ...last, FRAGMENT_1.bytes]) out = r.input(header(p), p);
  t.deepEqual(out, reassembleLinux());
});

/** A datagram whose header has record route (7, not copied) and router alert (0x94, copied): 20 + 8 + 4 = 32 bytes. */
function datagramWithOptions(payloadLength: number): Uint8Array {
  const b = new Uint8Array(32 + payloadLength);
  writeIpv4Header(b, 0, b.length, 9, false, 64, IPPROTO_UDP, 0x0a000001, 0x0a000002);
  b[0] = 0x48;
  b.set([7, 7, 4, 0, 0, 0, 0], 20); // record route with one slot: bytes 20..26
  b.set([0x94, 4, 0, 0], 27); // router alert: bytes 27..30
  b[31] = 0; // end of options
  setIpv4Checksum(b, 0);
  return b;
}

test('options: the first fragment keeps all; later ones only copied options, the rest NOPs, same header length', (t) => {
  const b = datagramWithOptions(100);
  const frags = fragmentIpv4(b, 32 + 48) as Uint8Array[];
  t.is(frags.length, 3);
  t.deepEqual(frags[0].subarray(20, 32), b.subarray(20, 32));
  for (const f of frags.slice(1)) {
    t.is(header(f).headerLength, 32);
    t.deepEqual(f.subarray(20, 32), Uint8Array.from([1, 1, 1, 1, 1, 1, 1, 0x94, 4, 0, 0, 0]));
  }
  const r = new Reassembler({ now: () => 0 });
  let out: Uint8Array | null | string = null;
  for (const f of frags.reverse()) out = r.input(header(f), f);
  t.deepEqual(out, b);
});

test('fragmenting a Buffer with options leaves it byte-identical (later headers are built in a copy)', (t) => {
  // Under Node, frames are Buffers: their slice() is a view, so NOPs written "in a copy" would land in the packet.
  const packet = Buffer.from(datagramWithOptions(100));
  const before = Array.from(packet);
  const frags = fragmentIpv4(packet, 32 + 48) as Uint8Array[];
  t.is(frags.length, 3);
  t.deepEqual(Array.from(packet), before);
  t.deepEqual(Array.from(frags[0].subarray(20, 32)), before.slice(20, 32));
});
