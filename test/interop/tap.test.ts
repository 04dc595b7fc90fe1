// TAP: Ethernet frames between the kernel and tcplab inside a private
// namespace. First the device alone (the kernel's ARP requests and pings
// arrive as Ethernet frames; we answer ARP by hand), then a stack with ARP
// on it (ping and TCP).

import { NetNamespace } from '../../devices/netns';
import { TapDevice, randomLocalMac } from '../../devices/tap';
import { ArpPacket, ARP_REQUEST, parseArp, writeArpReply, ARP_LENGTH } from '../../stack/wire/arp';
import { EthernetHeader, ETHERTYPE_ARP, ETHERTYPE_IPV4, BROADCAST_MAC, formatMac, parseEthernet, writeEthernetHeader, ETHERNET_HEADER_LENGTH } from '../../stack/wire/ethernet';
import { interop, tapLab, python, Peer, pattern, sha256, sleep, KERNEL, US, ip } from './helpers';
import { ECHO_SERVER, RAW_PING, BULK_CLIENT } from './pyprogs';

const MiB = 1024 * 1024;

interop('TAP: our MAC is random, locally administered, unicast, and not the kernel side\'s', (t) => {
  const ns = NetNamespace.create();
  t.teardown(() => ns.delete());
  const dev = ns.openTap({ kernelAddress: `${KERNEL}/24` });
  t.is(dev.linkType, 'ethernet');
  t.is(dev.mtu, 1500);
  const mac = dev.mac;
  const kernel = dev.kernelMac!;
  t.is(mac.length, 6);
  t.is(mac[0] & 0x03, 0x02); // locally administered, unicast
  t.notDeepEqual(mac, kernel);
  // The kernel's MAC is what `ip link` shows for the interface.
  t.regex(ns.ip(['-o', 'link', 'show', 'dev', dev.name]), new RegExp(`link/ether ${formatMac(kernel)}`));
  const given = new TapDevice({ netns: ns.name, mac: new Uint8Array([2, 0, 0, 0, 0, 9]) });
  t.deepEqual(given.mac, new Uint8Array([2, 0, 0, 0, 0, 9]));
  given.close();
  t.throws(() => new TapDevice({ netns: ns.name, mac: new Uint8Array([1, 0, 0, 0, 0, 9]) }), { message: /unicast/ });
  t.is(randomLocalMac()[0] & 3, 2);
});

interop("TAP: the kernel's ARP request and, once answered, its ICMP echo arrive as Ethernet frames", async (t) => {
  const ns = NetNamespace.create();
  t.teardown(() => ns.delete());
  const dev = ns.openTap({ kernelAddress: `${KERNEL}/24` });
  const kernelMac = dev.kernelMac!;
  const eth = new EthernetHeader();
  const arp = new ArpPacket();
  const seen: string[] = [];
  let echoRequests = 0;
  dev.attach((frames) => {
    for (const f of frames) {
      if (parseEthernet(f, eth) !== null) continue;
      if (eth.etherType === ETHERTYPE_ARP && parseArp(f, eth.payloadOffset, eth.payloadLength, arp) === null && arp.op === ARP_REQUEST && arp.targetIp === ip(US)) {
        seen.push(`arp who-has ${US} from ${formatMac(eth.src)} to ${formatMac(eth.dst)} sender ${formatMac(arp.senderMac)}`);
        t.is(arp.senderIp, ip(KERNEL));
        // Answer by hand: US is at our MAC.
        const reply = new Uint8Array(ETHERNET_HEADER_LENGTH + ARP_LENGTH);
        writeEthernetHeader(reply, 0, eth.src, dev.mac, ETHERTYPE_ARP);
        writeArpReply(reply, ETHERNET_HEADER_LENGTH, dev.mac, ip(US), arp.senderMac, arp.senderIp);
        dev.send([reply]);
      } else if (eth.etherType === ETHERTYPE_IPV4 && f[eth.payloadOffset + 9] === 1 && f[eth.payloadOffset + 20] === 8) {
        // ICMP echo request, sent to the MAC we announced.
        t.deepEqual(eth.dst, dev.mac);
        t.deepEqual(eth.src, kernelMac);
        echoRequests++;
      }
    }
  });
  // Nobody answers the echoes here: wait 0.3 s for each.
  const py = python(ns, RAW_PING, [US, '2', '0.3']);
  await py.line('transmitted');
  t.true(seen.length >= 1);
  t.is(seen[0], `arp who-has ${US} from ${formatMac(kernelMac)} to ${formatMac(BROADCAST_MAC)} sender ${formatMac(kernelMac)}`);
  t.is(echoRequests, 2);
  // The kernel's neighbour table took our answer.
  t.regex(ns.ip(['neigh', 'show', US]), new RegExp(`lladdr ${formatMac(dev.mac)}`));
});

interop('TAP + stack: the kernel pings tcplab (ARP resolved by the stack) and tcplab pings the kernel', async (t) => {
  const lab = tapLab(t);
  const py = python(lab.ns, RAW_PING, [US, '3']);
  t.is(await py.line('transmitted'), 'transmitted 3 received 3');
  t.regex(lab.ns.ip(['neigh', 'show', US]), new RegExp(`lladdr ${formatMac(lab.dev.mac)}`));
  const reply = new Promise<number>((resolve) => {
    lab.stack.ip.onEchoReply = (r) => resolve(r.sequence);
  });
  t.true(lab.stack.ip.ping(ip(KERNEL), 7, 42, pattern(3000)));
  t.is(await Promise.race([reply, sleep(5000).then(() => -1)]), 42);
});

interop('TAP + stack: tcplab client to a kernel echo server, 1 MiB byte for byte', async (t) => {
  const lab = tapLab(t);
  const py = python(lab.ns, ECHO_SERVER, [KERNEL, '7']);
  await py.line('ready');
  const data = pattern(MiB, 12);
  const client = new Peer({ keep: true });
  const conn = lab.stack.tcp.connect({ remoteAddress: ip(KERNEL), remotePort: 7 }, client);
  client.write(conn, data, 'shutdown');
  await client.until('echo and FIN', () => client.ended && client.received === data.length);
  t.is(sha256(client.chunks!), sha256(data));
  t.is(await py.line('eof'), `eof ${data.length}`);
});

interop('TAP + stack: kernel client to tcplab server, 16 MiB each way, equal SHA-256', async (t) => {
  t.timeout(60_000);
  const lab = tapLab(t);
  const data = pattern(16 * MiB, 8);
  const server = new Peer();
  lab.stack.tcp.listen({ port: 5001 }, {
    onConnection(c) {
      c.attach(server);
      server.write(c, data, 'shutdown');
    },
  });
  const py = python(lab.ns, BULK_CLIENT, [US, '5001', String(16 * MiB)]);
  const result = await py.exited;
  t.is(result.code, 0, result.stderr);
  await server.until('close', () => server.closed);
  t.is(py.lines.find((l) => l.startsWith('sent')), `sent ${16 * MiB} ${server.digest}`);
  t.is(py.lines.find((l) => l.startsWith('received')), `received ${16 * MiB} ${sha256(data)}`);
});
