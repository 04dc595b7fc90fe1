import test from 'ava';
import { RouteTable } from '../../../stack/ip/routes';
import type { Route } from '../../../stack/ip/routes';
import { parseIpv4Address as ip, prefixMask } from '../../../stack/wire/ipv4';

function table(): RouteTable<string> {
  const r = new RouteTable<string>();
  r.add({ prefix: ip('10.0.0.0'), prefixLength: 8, gateway: 0, iface: 'eth0' });
  r.add({ prefix: ip('10.1.0.0'), prefixLength: 16, gateway: ip('10.0.0.254'), iface: 'eth1' });
  r.add({ prefix: ip('10.1.2.0'), prefixLength: 24, gateway: 0, iface: 'eth2' });
  r.add({ prefix: ip('192.168.1.7'), prefixLength: 32, gateway: 0, iface: 'tun0' });
  return r;
}

test('longest prefix wins', (t) => {
  const r = table();
  t.is(r.lookup(ip('10.9.9.9'))?.iface, 'eth0');
  t.is(r.lookup(ip('10.1.9.9'))?.iface, 'eth1');
  t.is(r.lookup(ip('10.1.9.9'))?.gateway, ip('10.0.0.254'));
  t.is(r.lookup(ip('10.1.2.3'))?.iface, 'eth2');
  t.is(r.lookup(ip('10.1.2.255'))?.iface, 'eth2');
  t.is(r.lookup(ip('10.1.3.0'))?.iface, 'eth1');
  t.is(r.lookup(ip('192.168.1.7'))?.iface, 'tun0');
  t.is(r.lookup(ip('192.168.1.8')), null);
  t.is(r.lookup(ip('11.0.0.1')), null);
});

test('the default route 0.0.0.0/0 catches the rest, and only the rest', (t) => {
  const r = table();
  r.add({ prefix: 0, prefixLength: 0, gateway: ip('10.0.0.1'), iface: 'eth0' });
  t.like(r.lookup(ip('8.8.8.8')), { prefix: 0, prefixLength: 0, gateway: ip('10.0.0.1') });
  t.is(r.lookup(ip('255.255.255.255'))?.prefixLength, 0);
  t.is(r.lookup(0)?.prefixLength, 0);
  t.is(r.lookup(ip('10.1.2.3'))?.iface, 'eth2');
  t.is(r.remove(0, 0), 1);
  t.is(r.lookup(ip('8.8.8.8')), null);
});

test('addresses above 127.255.255.255 (sign bit set) match', (t) => {
  const r = new RouteTable<string>();
  r.add({ prefix: ip('192.168.0.0'), prefixLength: 16, gateway: 0, iface: 'a' });
  r.add({ prefix: ip('255.255.255.255'), prefixLength: 32, gateway: 0, iface: 'bcast' });
  r.add({ prefix: ip('128.0.0.0'), prefixLength: 1, gateway: 0, iface: 'upper' });
  t.is(r.lookup(ip('192.168.200.1'))?.iface, 'a');
  t.is(r.lookup(ip('255.255.255.255'))?.iface, 'bcast');
  t.is(r.lookup(ip('200.0.0.1'))?.iface, 'upper');
  t.is(r.lookup(ip('127.0.0.1')), null);
  t.is(r.lookup(ip('192.168.0.1'))?.prefix, ip('192.168.0.0'));
});

test('equal prefixes: the lower metric wins, then the earlier route', (t) => {
  const r = new RouteTable<string>();
  r.add({ prefix: ip('10.0.0.0'), prefixLength: 24, gateway: 0, iface: 'slow', metric: 100 });
  r.add({ prefix: ip('10.0.0.0'), prefixLength: 24, gateway: 0, iface: 'fast', metric: 10 });
  r.add({ prefix: ip('10.0.0.0'), prefixLength: 24, gateway: 0, iface: 'fast2', metric: 10 });
  t.is(r.lookup(ip('10.0.0.5'))?.iface, 'fast');
  t.is(r.remove(ip('10.0.0.0'), 24, 'fast'), 1);
  t.is(r.lookup(ip('10.0.0.5'))?.iface, 'fast2');
  t.is(r.remove(ip('10.0.0.0'), 24, 'fast2'), 1);
  t.is(r.lookup(ip('10.0.0.5'))?.iface, 'slow');
  // A longer prefix beats any metric.
  r.add({ prefix: ip('10.0.0.4'), prefixLength: 30, gateway: 0, iface: 'narrow', metric: 1000 });
  t.is(r.lookup(ip('10.0.0.5'))?.iface, 'narrow');
  t.is(r.lookup(ip('10.0.0.8'))?.iface, 'slow');
});

test('add clears host bits and replaces a route with the same prefix, interface and metric', (t) => {
  const r = new RouteTable<string>();
  const route = r.add({ prefix: ip('10.0.0.77'), prefixLength: 24, gateway: ip('10.0.0.1'), iface: 'eth0' });
  t.is(route.prefix, ip('10.0.0.0'));
  t.is(route.metric, 0);
  r.add({ prefix: ip('10.0.0.0'), prefixLength: 24, gateway: ip('10.0.0.2'), iface: 'eth0' });
  t.is(r.size, 1);
  t.is(r.lookup(ip('10.0.0.9'))?.gateway, ip('10.0.0.2'));
  t.throws(() => r.add({ prefix: 0, prefixLength: 33, gateway: 0, iface: 'x' }), { instanceOf: RangeError });
  t.throws(() => r.add({ prefix: 0, prefixLength: -1, gateway: 0, iface: 'x' }), { instanceOf: RangeError });
});

test('remove: by prefix (all interfaces or one), removeInterface, list order', (t) => {
  const r = table();
  r.add({ prefix: ip('10.1.2.0'), prefixLength: 24, gateway: 0, iface: 'eth0', metric: 5 });
  r.add({ prefix: 0, prefixLength: 0, gateway: ip('10.0.0.1'), iface: 'eth0' });
  t.deepEqual(r.list().map((x) => `${x.prefixLength}:${x.iface}:${x.metric}`), [
    '32:tun0:0', '24:eth2:0', '24:eth0:5', '16:eth1:0', '8:eth0:0', '0:eth0:0',
  ]);
  t.is(r.remove(ip('10.1.2.0'), 24, 'nope'), 0);
  t.is(r.remove(ip('10.1.2.9'), 24, 'eth2'), 1);
  t.is(r.lookup(ip('10.1.2.3'))?.iface, 'eth0');
  t.is(r.removeInterface('eth0'), 3);
  t.is(r.lookup(ip('10.1.2.3'))?.iface, 'eth1');
  t.is(r.lookup(ip('8.8.8.8')), null);
  t.is(r.remove(ip('10.1.0.0'), 16), 1);
  t.is(r.remove(ip('10.1.0.0'), 16), 0);
  t.is(r.lookup(ip('10.1.2.3')), null);
  t.is(r.size, 1);
});

test('matches a brute-force longest-prefix search on random tables', (t) => {
  let s = 0x1234567;
  const next = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
  for (let round = 0; round < 20; round++) {
    const r = new RouteTable<number>();
    const all: Route<number>[] = [];
    for (let i = 0; i < 150; i++) {
      // Few distinct prefixes so that nesting and ties happen.
      const len = [0, 1, 8, 12, 16, 20, 24, 28, 31, 32][next() % 10];
      const prefix = (next() & 0xf0f000ff & prefixMask(len)) >>> 0;
      all.push(r.add({ prefix, prefixLength: len, gateway: 0, iface: i, metric: next() % 4 }));
    }
    for (let k = 0; k < 500; k++) {
      const dst = k % 2 === 0 ? (next() & 0xf0f000ff) >>> 0 : next();
      let best: Route<number> | null = null;
      for (const x of all) {
        if (((dst & prefixMask(x.prefixLength)) >>> 0) !== x.prefix) continue;
        // Replaced routes: the table keeps the later of two with the same prefix, iface and metric; ifaces are unique here.
        if (best === null || x.prefixLength > best.prefixLength || (x.prefixLength === best.prefixLength && x.metric < best.metric)) best = x;
      }
      t.is(r.lookup(dst), best);
    }
  }
});
