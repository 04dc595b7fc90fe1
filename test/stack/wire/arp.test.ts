import test from 'ava';
import {
  ARP_LENGTH, ARP_REPLY, ARP_REQUEST, ArpPacket, parseArp, writeArp, writeArpReply, writeArpRequest,
} from '../../../stack/wire/arp';
import { formatMac, parseMac } from '../../../stack/wire/ethernet';
import { parseIpv4Address } from '../../../stack/wire/ipv4';
import { hex } from './linux-captures';

const MAC_A = parseMac('02:00:00:00:00:0a');
const MAC_B = parseMac('02:00:00:00:00:0b');
const IP_A = parseIpv4Address('10.0.0.1');
const IP_B = parseIpv4Address('10.0.0.2');

// RFC 826 packet layout: htype 1, ptype 0x0800, hlen 6, plen 4, op, sha, spa, tha, tpa.
const REQUEST = hex('0001 0800 06 04 0001 02000000000a 0a000001 000000000000 0a000002');
const REPLY = hex('0001 0800 06 04 0002 02000000000b 0a000002 02000000000a 0a000001');

test('writeArpRequest: who has 10.0.0.2? tell 10.0.0.1 (target MAC zero, as Linux)', (t) => {
  const b = new Uint8Array(ARP_LENGTH);
  t.is(writeArpRequest(b, 0, MAC_A, IP_A, IP_B), 28);
  t.deepEqual(b, REQUEST);
});

test('writeArpReply: 10.0.0.2 is at 02:00:00:00:00:0b', (t) => {
  const b = new Uint8Array(30);
  t.is(writeArpReply(b, 2, MAC_B, IP_B, MAC_A, IP_A), 28);
  t.deepEqual(b.subarray(2), REPLY);
});

test('parse round trip, with Ethernet padding after the packet', (t) => {
  const a = new ArpPacket();
  const padded = new Uint8Array(46);
  padded.set(REPLY);
  t.is(parseArp(padded, 0, padded.length, a), null);
  t.is(a.op, ARP_REPLY);
  t.is(formatMac(a.senderMac), '02:00:00:00:00:0b');
  t.is(a.senderIp, IP_B);
  t.deepEqual(a.targetMac, MAC_A);
  t.is(a.targetIp, IP_A);
  t.is(parseArp(REQUEST, 0, 28, a), null);
  t.is(a.op, ARP_REQUEST);
  t.deepEqual([...a.targetMac], [0, 0, 0, 0, 0, 0]);
  const high = new Uint8Array(28);
  writeArp(high, 0, ARP_REQUEST, MAC_A, 0xffffffff, MAC_B, 0xc0a80001);
  t.is(parseArp(high, 0, 28, a), null);
  t.is(a.senderIp, 0xffffffff);
  t.is(a.targetIp, 0xc0a80001);
});

test('drop: truncated ARP', (t) => {
  t.is(parseArp(REQUEST, 0, 27, new ArpPacket()), 'arp-truncated');
  t.is(parseArp(REQUEST.subarray(0, 27), 0, 28, new ArpPacket()), 'arp-truncated');
  t.is(parseArp(REQUEST, 1, 28, new ArpPacket()), 'arp-truncated');
});

test('drop: not Ethernet/IPv4', (t) => {
  for (const [at, value] of [[1, 6], [2, 0x86], [4, 8], [5, 16]]) {
    const b = REQUEST.slice();
    b[at] = value;
    t.is(parseArp(b, 0, 28, new ArpPacket()), 'arp-unsupported', `byte ${at}`);
  }
});

test('drop: opcode neither request nor reply (e.g. RARP)', (t) => {
  const b = REQUEST.slice();
  b[7] = 3;
  t.is(parseArp(b, 0, 28, new ArpPacket()), 'arp-bad-opcode');
});
