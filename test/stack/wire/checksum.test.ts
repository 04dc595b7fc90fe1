import test from 'ava';
import {
  checksumAdd, checksumFold, checksumFoldSum, checksumUpdate16, checksumValid, internetChecksum, pseudoHeaderSum,
} from '../../../stack/wire/checksum';
import * as captures from './linux-captures';
import { hex } from './linux-captures';
import { rng } from '../../helpers/rng';

/** Byte-at-a-time reference: 16-bit big-endian words, odd byte padded on the right, folded at once. */
function referenceSum(buf: Uint8Array, offset: number, length: number): number {
  let sum = 0;
  for (let i = 0; i < length; i++) sum += (i & 1) === 0 ? buf[offset + i] << 8 : buf[offset + i];
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 65536);
  return sum;
}


function randomBytes(n: number, next: () => number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = next() & 0xff;
  return b;
}

test('RFC 1071 section 3 example: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2', (t) => {
  const b = hex('0001f203f4f5f6f7');
  t.is(checksumFoldSum(checksumAdd(b, 0, 8)), 0xddf2);
  t.is(internetChecksum(b, 0, 8), 0x220d);
  t.is(checksumFold(checksumAdd(b, 0, 8)), 0x220d);
});

test('an odd trailing byte is padded with zero on the right', (t) => {
  t.is(checksumAdd(hex('01'), 0, 1), 0x0100);
  t.is(checksumAdd(hex('0102ab'), 0, 3), 0x0102 + 0xab00);
  t.is(checksumAdd(new Uint8Array(0), 0, 0), 0);
  t.is(checksumAdd(hex('ffff'), 0, 2, 5), 0xffff + 5);
});

test('checksumAdd equals the byte-at-a-time reference for every offset and length, including odd ones', (t) => {
  const next = rng(7);
  const backing = randomBytes(700, next);
  // A view whose byteOffset is odd exercises the DataView path at unaligned addresses.
  for (const buf of [backing, backing.subarray(1), backing.subarray(3, 650)]) {
    for (let offset = 0; offset < 9; offset++) {
      for (let length = 0; length <= 600; length += length < 80 ? 1 : 37) {
        t.is(checksumFoldSum(checksumAdd(buf, offset, length)), referenceSum(buf, offset, length), `offset ${offset} length ${length}`);
      }
    }
  }
});

test('checksumAdd chains over even-length pieces and folds correctly past 4 MiB', (t) => {
  const next = rng(99);
  const big = randomBytes(5 * 1024 * 1024 + 3, next);
  t.is(checksumFoldSum(checksumAdd(big, 0, big.length)), referenceSum(big, 0, big.length));
  big.fill(0xff);
  t.is(checksumFoldSum(checksumAdd(big, 0, big.length)), referenceSum(big, 0, big.length));
  const b = randomBytes(301, next);
  const whole = checksumFoldSum(checksumAdd(b, 0, 301));
  t.is(checksumFoldSum(checksumAdd(b, 100, 201, checksumAdd(b, 0, 100))), whole);
});

test('checksumFold: complement of the folded sum', (t) => {
  t.is(checksumFold(0), 0xffff);
  t.is(checksumFold(0xffff), 0);
  t.is(checksumFold(0x1fffe), 0);
  t.is(checksumFold(0x12345), ~0x2346 & 0xffff);
  t.is(checksumFoldSum(2 ** 40 + 5), checksumFoldSum((2 ** 40) % 0xffff + 5));
});

test('every real Linux IPv4 header and ICMP message verifies, and recomputing gives the stored value', (t) => {
  for (const [name, c] of Object.entries(captures)) {
    if (typeof c === 'function') continue;
    const b = c.bytes;
    const ihl = (b[0] & 15) * 4;
    t.true(checksumValid(b, 0, ihl), name);
    const copy = b.slice(0, ihl);
    copy[10] = 0;
    copy[11] = 0;
    t.is(internetChecksum(copy, 0, ihl), (b[10] << 8) | b[11], name);
    if (b[9] === 1) t.true(checksumValid(b, ihl, b.length - ihl), `${name} ICMP`);
  }
});

test('pseudoHeaderSum: Linux leaves exactly the folded pseudo-header sum in offloaded TCP checksums', (t) => {
  const lo = 0x7f000001;
  let n = 0;
  for (const [name, c] of Object.entries(captures)) {
    if (typeof c === 'function' || !c.offloaded) continue;
    const tcpLength = c.bytes.length - 20;
    t.is(checksumFoldSum(pseudoHeaderSum(lo, lo, 6, tcpLength)), (c.bytes[36] << 8) | c.bytes[37], name);
    n++;
  }
  t.true(n >= 8);
  t.is(pseudoHeaderSum(0xc0a80001, 0x0a000002, 17, 100), 0xc0a8 + 0x0001 + 0x0a00 + 0x0002 + 17 + 100);
});

test('checksumValid covers the pseudo-header through initialSum (real RST from Linux)', (t) => {
  const b = captures.RST.bytes;
  const pseudo = pseudoHeaderSum(0x7f000001, 0x7f000001, 6, 20);
  t.true(checksumValid(b, 20, 20, pseudo));
  t.false(checksumValid(b, 20, 20, pseudo + 1));
  t.false(checksumValid(b, 20, 20));
});

test('RFC 1624 incremental update equals recomputation on random data', (t) => {
  const next = rng(12345);
  for (let trial = 0; trial < 2000; trial++) {
    const len = 2 * (1 + (next() % 40));
    const b = randomBytes(len, next);
    b[0] |= 1; // never all zeros (the one case RFC 1624 eqn. 3 differs)
    const field = 2 * (next() % (len / 2));
    let w = 2 * (next() % (len / 2));
    if (w === field) w = (w + 2) % len;
    if (w === field) continue;
    b[field] = 0;
    b[field + 1] = 0;
    const before = internetChecksum(b, 0, len);
    b[field] = before >>> 8;
    b[field + 1] = before & 0xff;
    const oldWord = (b[w] << 8) | b[w + 1];
    const newWord = next() & 0xffff;
    b[w] = newWord >>> 8;
    b[w + 1] = newWord & 0xff;
    if (w === 0) b[0] |= 1;
    const updated = checksumUpdate16(before, oldWord, (b[w] << 8) | b[w + 1]);
    b[field] = 0;
    b[field + 1] = 0;
    t.is(updated, internetChecksum(b, 0, len));
  }
});

test('RFC 1624 section 4 example: the update avoids -0', (t) => {
  // HC = 0xdd2f, m = 0x5555 -> m' = 0x3285 gives HC' = 0x0000 (eqn. 3), not 0xffff.
  t.is(checksumUpdate16(0xdd2f, 0x5555, 0x3285), 0x0000);
});
