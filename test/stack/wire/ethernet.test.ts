import test from 'ava';
import {
  BROADCAST_MAC, ETHERTYPE_ARP, ETHERTYPE_IPV4, EthernetHeader, formatMac, isBroadcastMac, isMulticastMac, macEquals,
  parseEthernet, parseMac, writeEthernetHeader,
} from '../../../stack/wire/ethernet';
import { hex, SYN } from './linux-captures';

test('parses a real loopback frame header as captured on lo (zero MACs, IPv4)', (t) => {
  const frame = new Uint8Array(14 + SYN.bytes.length);
  frame.set(hex('000000000000 000000000000 0800'));
  frame.set(SYN.bytes, 14);
  const h = new EthernetHeader();
  t.is(parseEthernet(frame, h), null);
  t.is(h.etherType, ETHERTYPE_IPV4);
  t.is(formatMac(h.dst), '00:00:00:00:00:00');
  t.is(h.payloadOffset, 14);
  t.is(h.payloadLength, 60);
});

test('write then parse round trip, at an offset', (t) => {
  const dst = parseMac('ff:ff:ff:ff:ff:ff');
  const src = parseMac('02:00:5e:10:20:3f');
  const b = new Uint8Array(4 + 14 + 28);
  t.is(writeEthernetHeader(b, 4, dst, src, ETHERTYPE_ARP), 14);
  t.deepEqual(b.subarray(4, 18), hex('ffffffffffff 02005e10203f 0806'));
  const h = new EthernetHeader();
  t.is(parseEthernet(b, h, 4), null);
  t.deepEqual(h.dst, dst);
  t.deepEqual(h.src, src);
  t.is(h.etherType, ETHERTYPE_ARP);
  t.is(h.payloadOffset, 18);
  t.is(h.payloadLength, 28);
  // The parsed MACs are copies: the frame can be reused.
  b.fill(0);
  t.is(formatMac(h.src), '02:00:5e:10:20:3f');
});

test('drop: frame shorter than 14 bytes', (t) => {
  t.is(parseEthernet(new Uint8Array(13), new EthernetHeader()), 'ethernet-truncated');
  t.is(parseEthernet(new Uint8Array(20), new EthernetHeader(), 10), 'ethernet-truncated');
  t.is(parseEthernet(new Uint8Array(14), new EthernetHeader()), null);
});

test('MAC helpers', (t) => {
  t.is(formatMac(parseMac('AA-bb-0C-dd-ee-0f')), 'aa:bb:0c:dd:ee:0f');
  t.is(formatMac(hex('0011223344556677'), 2), '22:33:44:55:66:77');
  for (const bad of ['', 'aa:bb:cc:dd:ee', 'aa:bb:cc:dd:ee:ff:00', 'aa:bb-cc:dd:ee:ff', 'g0:bb:cc:dd:ee:ff', 'a:bb:cc:dd:ee:ff', 'aabbccddeeff']) {
    t.throws(() => parseMac(bad), { instanceOf: TypeError }, bad);
  }
  t.true(isBroadcastMac(BROADCAST_MAC));
  t.false(isBroadcastMac(parseMac('ff:ff:ff:ff:ff:fe')));
  t.true(isBroadcastMac(hex('00ffffffffffff'), 1));
  t.true(isMulticastMac(parseMac('01:00:5e:00:00:01')));
  t.true(isMulticastMac(BROADCAST_MAC));
  t.false(isMulticastMac(parseMac('02:00:00:00:00:01')));
  t.true(macEquals(parseMac('02:00:00:00:00:01'), hex('9999020000000001'), 0, 2));
  t.false(macEquals(parseMac('02:00:00:00:00:01'), parseMac('02:00:00:00:00:02')));
});
