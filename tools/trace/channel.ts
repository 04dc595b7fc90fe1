// A stack's trace events on node:diagnostics_channel: every event on
// 'tcplab:trace', and each on its own type's channel, 'tcplab:trace:<type>'
// (tcplab:trace:segment, tcplab:trace:state, ...). Subscribers use the plain
// diagnostics_channel API:
//
//   publishTrace(stack);
//   diagnostics_channel.subscribe('tcplab:trace:segment', (ev) => ...);
//
// Costing nothing while nobody subscribes: diagnostics_channel tells no one
// when a subscriber arrives, so instead of listening on the tracer (which
// would set `tracer.enabled` for good) the bridge makes that tracer's
// `enabled` ask the channels. It reads true while the tracer has listeners
// of its own or any of the channels has subscribers, and false otherwise, so
// the stack builds no event at all while nobody listens. Events it does build
// go to the tracer's own listeners and then to the channels that have
// subscribers. The bridge is undone when the last publishTrace handle for
// that tracer is released.

import diagnosticsChannel from 'node:diagnostics_channel';
import type { Channel } from 'node:diagnostics_channel';
import { Tracer, type TraceEvent } from '../../stack/trace';
import { TRACE_EVENT_TYPES, type TraceEventType } from './jsonl';

/** The channel that carries every trace event. */
export const TRACE_CHANNEL = 'tcplab:trace';

/** The channel that carries the events of one type, e.g. 'tcplab:trace:segment'. */
export function traceChannelName(type: TraceEventType): string {
  return `${TRACE_CHANNEL}:${type}`;
}

const rootChannel = diagnosticsChannel.channel(TRACE_CHANNEL);
/** The per-type channels whose subscribers enable a published tracer: every listed type, plus any other type once seen. */
const typedChannels: Channel[] = TRACE_EVENT_TYPES.map((type) => diagnosticsChannel.channel(traceChannelName(type)));
const channelByType = new Map<string, Channel>(TRACE_EVENT_TYPES.map((type, i) => [type, typedChannels[i]!]));

function channelFor(type: TraceEventType): Channel {
  let ch = channelByType.get(type);
  if (ch === undefined) {
    ch = diagnosticsChannel.channel(traceChannelName(type));
    channelByType.set(type, ch);
    typedChannels.push(ch);
  }
  return ch;
}

/** True if any tcplab trace channel has a subscriber. */
export function traceChannelsActive(): boolean {
  if (rootChannel.hasSubscribers) return true;
  for (let i = 0; i < typedChannels.length; i++) if (typedChannels[i]!.hasSubscribers) return true;
  return false;
}

function publish(ev: TraceEvent): void {
  if (rootChannel.hasSubscribers) rootChannel.publish(ev);
  const ch = channelFor(ev.type);
  if (ch.hasSubscribers) ch.publish(ev);
}

interface Bridge {
  handles: number;
  restore(): void;
}

const bridges = new WeakMap<Tracer, Bridge>();

function install(tracer: Tracer): Bridge {
  // What the tracer's own on()/off() last set; they assign `enabled`, which lands in the setter.
  let own = tracer.enabled;
  const emit = Tracer.prototype.emit;
  Object.defineProperty(tracer, 'enabled', {
    configurable: true,
    enumerable: true,
    get: (): boolean => own || traceChannelsActive(),
    set: (value: boolean): void => {
      own = value;
    },
  });
  Object.defineProperty(tracer, 'emit', {
    configurable: true,
    enumerable: false,
    writable: true,
    value: (ev: TraceEvent): void => {
      if (own) emit.call(tracer, ev);
      publish(ev);
    },
  });
  return {
    handles: 0,
    restore(): void {
      Reflect.deleteProperty(tracer, 'emit');
      Object.defineProperty(tracer, 'enabled', { configurable: true, enumerable: true, writable: true, value: own });
    },
  };
}

/**
 * Publish the trace events of a stack (or of any Tracer) on the tcplab
 * diagnostics channels, until the returned function is called. Publishing
 * the same tracer twice shares one bridge; it is removed with the last
 * handle.
 */
export function publishTrace(target: Tracer | { readonly tracer: Tracer }): () => void {
  const tracer = target instanceof Tracer ? target : target.tracer;
  let bridge = bridges.get(tracer);
  if (bridge === undefined) {
    bridge = install(tracer);
    bridges.set(tracer, bridge);
  }
  const b = bridge;
  b.handles++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--b.handles === 0) {
      bridges.delete(tracer);
      b.restore();
    }
  };
}

/** True while publishTrace holds a bridge on this tracer. */
export function isPublished(target: Tracer | { readonly tracer: Tracer }): boolean {
  return bridges.has(target instanceof Tracer ? target : target.tracer);
}

/**
 * Subscribe to published trace events: every type, or one type. A thin
 * wrapper over diagnostics_channel.subscribe; returns the unsubscribe.
 */
export function subscribeTrace(listener: (ev: TraceEvent) => void, type?: TraceEventType): () => void {
  const name = type === undefined ? TRACE_CHANNEL : traceChannelName(type);
  const onMessage = (message: unknown): void => listener(message as TraceEvent);
  diagnosticsChannel.subscribe(name, onMessage);
  return () => {
    diagnosticsChannel.unsubscribe(name, onMessage);
  };
}
