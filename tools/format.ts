// Human-readable lines for trace events: one tcpdump-like line per segment,
// with virtual time, endpoints, flags, seq, ack, window, length and options.

import type { TraceEvent, SegmentFields } from '../stack/trace';
import { TCP_ACK, TCP_CWR, TCP_ECE, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG } from '../stack/wire/tcp';

const FLAG_CHARS: Array<[number, string]> = [[TCP_SYN, 'S'], [TCP_FIN, 'F'], [TCP_RST, 'R'], [TCP_PSH, 'P'], [TCP_URG, 'U'], [TCP_ECE, 'E'], [TCP_CWR, 'W']];

/** tcpdump's flag notation: S, F, R, P, U, E, W, and '.' for ACK. */
export function flagString(flags: number): string {
  let s = '';
  for (const [bit, ch] of FLAG_CHARS) if (flags & bit) s += ch;
  if (flags & TCP_ACK) s += '.';
  return s === '' ? 'none' : s;
}

/** Milliseconds as "  1234.567 ms", fixed width so columns line up. */
export function formatTime(ms: number): string {
  return `${ms.toFixed(3).padStart(11)} ms`;
}

export function optionString(s: SegmentFields): string {
  const o: string[] = [];
  if (s.mss !== undefined) o.push(`mss ${s.mss}`);
  if (s.sackPermitted) o.push('sackOK');
  if (s.tsVal !== undefined) o.push(`TS val ${s.tsVal} ecr ${s.tsEcr}`);
  if (s.windowScale !== undefined) o.push(`wscale ${s.windowScale}`);
  if (s.sack !== undefined) o.push(`sack ${s.sack.map(([l, r]) => `{${l}:${r}}`).join('')}`);
  return o.length === 0 ? '' : ` <${o.join(',')}>`;
}

/** One line for a segment event. */
export function segmentLine(ev: Extract<TraceEvent, { type: 'segment' }>): string {
  const arrow = ev.dir === 'out' ? '>' : '<';
  const ends = ev.dir === 'out'
    ? `${ev.src}:${ev.srcPort} > ${ev.dst}:${ev.dstPort}`
    : `${ev.dst}:${ev.dstPort} < ${ev.src}:${ev.srcPort}`;
  void arrow;
  return `${formatTime(ev.t)}  ${ev.stack.padEnd(6)} ${ends}  [${flagString(ev.flags)}]`
    + ` seq ${ev.seq} ack ${ev.ack} win ${ev.window} len ${ev.len}${optionString(ev)}`;
}

/** One line for any event worth showing a reader; null for events left out. */
export function eventLine(ev: TraceEvent): string | null {
  switch (ev.type) {
    case 'segment':
      return segmentLine(ev);
    case 'state':
      return `${formatTime(ev.t)}  ${ev.stack.padEnd(6)} state ${ev.from} -> ${ev.to} (${ev.cause})`;
    case 'retransmit':
      return `${formatTime(ev.t)}  ${ev.stack.padEnd(6)} retransmit seq ${ev.seq} len ${ev.len}: ${ev.reason}`;
    case 'drop':
      return `${formatTime(ev.t)}  ${ev.stack.padEnd(6)} drop (${ev.layer}): ${ev.reason}`;
    case 'cwnd':
      return `${formatTime(ev.t)}  ${ev.stack.padEnd(6)} cwnd ${ev.cwnd} ssthresh ${ev.ssthresh} flight ${ev.flight} (${ev.cause})`;
    default:
      return null;
  }
}
