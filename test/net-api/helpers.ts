// Helpers for the net-api tests: a fresh tcplab stack per test (own loopback,
// own ports), event recorders, and small promise utilities.

import type { EventEmitter } from 'node:events';
import { Stack } from '../../stack/stack';
import { VirtualClock } from '../../stack/time/virtual-clock';
import { RealClock } from '../../net-api/real-clock';
import { CryptoRandom } from '../../net-api/crypto-random';
import { SeededRandom } from '../../stack/random';
import { LoopbackDevice } from '../../devices/loopback';
import type { StackConfigInput } from '../../stack/config';
import { createNet, type Net } from '../../net-api/index';

export function freshNet(config?: StackConfigInput): Net {
  const clock = new RealClock();
  const stack = new Stack({ name: 'test', clock, random: new CryptoRandom(), config });
  stack.addInterface(new LoopbackDevice(clock), { address: '127.0.0.1/8', mtu: 65535 });
  return createNet(stack);
}

export function virtualNet(seed = 1): { net: Net; clock: VirtualClock } {
  const clock = new VirtualClock();
  const stack = new Stack({ name: 'sim', clock, random: new SeededRandom(seed) });
  stack.addInterface(new LoopbackDevice(clock), { address: '127.0.0.1/8', mtu: 65535 });
  return { net: createNet(stack), clock };
}

/** Record the named events of an emitter as strings (data as text, errors as their code). */
export function record(em: EventEmitter, names: string[], log: string[] = [], prefix = ''): string[] {
  for (const n of names) {
    em.on(n, (arg?: unknown) => {
      let s = prefix + n;
      if (n === 'data') s += `:${String(arg)}`;
      else if (n === 'error') s += `:${(arg as { code?: string }).code}`;
      else if (n === 'close' && typeof arg === 'boolean') s += `:${arg}`;
      log.push(s);
    });
  }
  return log;
}

export function once<T = unknown>(em: EventEmitter, name: string): Promise<T> {
  return new Promise((resolve) => em.once(name, (v: T) => resolve(v)));
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting for condition');
    await sleep(2);
  }
}

export function listening(server: { listen: (...a: any[]) => unknown; address: () => unknown }, ...args: any[]): Promise<number> {
  return new Promise((resolve) => {
    server.listen(...args, () => resolve((server.address() as { port: number }).port));
  });
}
