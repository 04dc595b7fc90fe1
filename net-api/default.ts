// The drop-in for Node's `net`: the same API over a default stack, made on
// first use, with a loopback interface at 127.0.0.1/8 on the wall clock.

import { Stack } from '../stack/stack';
import { RealClock } from './real-clock';
import { CryptoRandom } from './crypto-random';
import { LoopbackDevice } from '../devices/loopback';
import { isIP, isIPv4, isIPv6 } from './common';
import { createNet, type Net } from './index';

let instance: Net | null = null;

/** The default stack's net API (created on first call). */
export function defaultNet(): Net {
  if (instance === null) {
    const clock = new RealClock();
    const stack = new Stack({ name: 'default', clock, random: new CryptoRandom() });
    // The device's MTU is Linux lo's 65536, but an IPv4 packet is at most 65535 bytes: the
    // interface uses 65535 so TCP's MSS is 65495, as on Linux (the stack derives MSS = MTU - 40).
    stack.addInterface(new LoopbackDevice(clock, { name: 'lo', mtu: 65536 }), { address: '127.0.0.1/8', mtu: 65535 });
    instance = stack.net;
  }
  return instance;
}

/** What `require('tcplab/net')` returns: Node's net surface, bound to the default stack lazily. */
export const netModule = {
  get Socket() { return defaultNet().Socket; },
  get Stream() { return defaultNet().Stream; },
  get Server() { return defaultNet().Server; },
  createServer: (...args: Parameters<Net['createServer']>) => defaultNet().createServer(...args),
  createConnection: (...args: any[]) => defaultNet().createConnection(...args),
  connect: (...args: any[]) => defaultNet().connect(...args),
  isIP,
  isIPv4,
  isIPv6,
  /** The default Stack (tcplab introspection). */
  get stack() { return defaultNet().stack; },
  createNet,
};

export default netModule;
