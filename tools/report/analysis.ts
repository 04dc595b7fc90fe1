// Analysis of the trace: its events grouped per TCP connection, each sent
// segment paired with its receipt at the other end (a sent segment with no
// receipt was lost on the link), and per connection the ladder's data,
// statistics per side and what the plots draw.

import type { TraceEvent } from '../../stack/trace';
import { ACK, FIN, K_DUP, K_ESTIMATED, K_LOST, K_PROBE, K_RETX, RST, SYN, type LadderData, type LadderSeg } from './ladder';

type SegmentEvent = Extract<TraceEvent, { type: 'segment' }>;
type StateEvent = Extract<TraceEvent, { type: 'state' }>;
type RttEvent = Extract<TraceEvent, { type: 'rtt' }>;
type CwndEvent = Extract<TraceEvent, { type: 'cwnd' }>;
type RetransmitEvent = Extract<TraceEvent, { type: 'retransmit' }>;

/** A point of a plotted series: [time, value], or [time, low, high] for bars. */
export type Point = number[];

interface Endpoint {
  addr: string;
  port: number;
  key: string;
  host: string;
}

interface ConnEvents {
  key: string;
  firstT: number;
  segs: SegmentEvent[];
  states: StateEvent[];
  rtts: RttEvent[];
  cwnds: CwndEvent[];
  retransmits: RetransmitEvent[];
  /** Local endpoint key of each non-segment event, by event. */
  localOf: Map<TraceEvent, string>;
}

interface SegRecord {
  ev: SegmentEvent;
  d: number;
  ts: number;
  tr: number;
  lost: boolean;
  estimated: boolean;
}

interface SideStats {
  segments: number;
  dataSegments: number;
  payload: number;
  uniquePayload: number;
  lost: number;
  retransmissions: number;
}

export interface ConnAnalysis {
  index: number;
  sides: [Endpoint, Endpoint];
  records: SegRecord[];
  ladder: LadderData;
  stats: [SideStats, SideStats];
  rtts: [RttEvent[], RttEvent[]];
  cwnds: [CwndEvent[], CwndEvent[]];
  retxReasons: Map<string, number>;
  /** Domain of the plots: first event to last segment. */
  t0: number;
  t1: number;
  /** Last state change (may be long after the last segment, e.g. TIME-WAIT). */
  lastStateT: number;
  finalStates: [string, string];
  /** Windows were scaled (both SYNs carried the window scale option). */
  scaled: boolean;
  /** SACK blocks received by each side: [arrival time, left, right] relative to its ISN. */
  sacks: [Point[], Point[]];
}

function endpointKey(addr: string, port: number): string {
  return `${addr}:${port}`;
}

function canonicalKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

/** "local:port-remote:port" (a connection id in the trace) as two endpoint keys. */
function parseConnId(id: string): [string, string] | null {
  const m = /^(.*:\d+)-(.*:\d+)$/.exec(id);
  return m === null ? null : [m[1], m[2]];
}

function splitKey(key: string): { addr: string; port: number } {
  const i = key.lastIndexOf(':');
  return { addr: key.slice(0, i), port: Number(key.slice(i + 1)) };
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}

export function groupConnections(events: TraceEvent[]): ConnEvents[] {
  const conns = new Map<string, ConnEvents>();
  const get = (key: string, t: number): ConnEvents => {
    let c = conns.get(key);
    if (c === undefined) {
      c = { key, firstT: t, segs: [], states: [], rtts: [], cwnds: [], retransmits: [], localOf: new Map() };
      conns.set(key, c);
    }
    if (t < c.firstT) c.firstT = t;
    return c;
  };
  for (const ev of events) {
    if (ev === null || typeof ev !== 'object') continue;
    if (ev.type === 'segment') {
      get(canonicalKey(endpointKey(ev.src, ev.srcPort), endpointKey(ev.dst, ev.dstPort)), ev.t).segs.push(ev);
      continue;
    }
    if (ev.type !== 'state' && ev.type !== 'rtt' && ev.type !== 'cwnd' && ev.type !== 'retransmit') continue;
    const ends = parseConnId(ev.conn);
    if (ends === null) continue;
    const c = get(canonicalKey(ends[0], ends[1]), ev.t);
    c.localOf.set(ev, ends[0]);
    if (ev.type === 'state') c.states.push(ev);
    else if (ev.type === 'rtt') c.rtts.push(ev);
    else if (ev.type === 'cwnd') c.cwnds.push(ev);
    else c.retransmits.push(ev);
  }
  return [...conns.values()].filter((c) => c.segs.length > 0 || c.states.length > 0).sort((a, b) => a.firstT - b.firstT);
}

function pairKey(ev: SegmentEvent): string {
  return `${ev.seq}|${ev.ack}|${ev.flags}|${ev.len}|${ev.window}|${ev.tsVal ?? ''}|${ev.tsEcr ?? ''}`;
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const v = [...values].sort((a, b) => a - b);
  return v[v.length >> 1];
}

/** Pairs each sent segment with its receipt; what was never received was lost. */
function pairSegments(c: ConnEvents, sides: [Endpoint, Endpoint], traced: Set<string>): SegRecord[] {
  const records: SegRecord[] = [];
  const flights: number[][] = [[], []];
  const perDir: Array<{ outs: SegmentEvent[]; ins: SegmentEvent[] }> = [{ outs: [], ins: [] }, { outs: [], ins: [] }];
  for (const ev of c.segs) {
    const d = endpointKey(ev.src, ev.srcPort) === sides[0].key ? 0 : 1;
    (ev.dir === 'out' ? perDir[d].outs : perDir[d].ins).push(ev);
  }
  const matched: Array<Map<SegmentEvent, SegmentEvent>> = [new Map(), new Map()];
  for (let d = 0; d < 2; d++) {
    const { outs, ins } = perDir[d];
    const outsByKey = new Map<string, SegmentEvent[]>();
    const insByKey = new Map<string, SegmentEvent[]>();
    for (const ev of outs) {
      const k = pairKey(ev);
      const l = outsByKey.get(k);
      if (l === undefined) outsByKey.set(k, [ev]);
      else l.push(ev);
    }
    for (const ev of ins) {
      const k = pairKey(ev);
      const l = insByKey.get(k);
      if (l === undefined) insByKey.set(k, [ev]);
      else l.push(ev);
    }
    // The shortest flight among unambiguous pairs: the link's delay without queueing.
    let minFlight = Infinity;
    for (const [k, l] of insByKey) {
      const o = outsByKey.get(k);
      if (o !== undefined && o.length === 1 && l.length === 1 && l[0].t >= o[0].t) minFlight = Math.min(minFlight, l[0].t - o[0].t);
    }
    if (!Number.isFinite(minFlight)) minFlight = 0;
    for (const [k, inList] of insByKey) {
      const outList = outsByKey.get(k);
      if (outList === undefined) continue;
      const used = new Array<boolean>(outList.length).fill(false);
      const fifo = outList.length * inList.length > 1e6;
      let next = 0;
      for (const inEv of inList) {
        let pick = -1;
        if (fifo) {
          while (next < outList.length && outList[next].t > inEv.t) next++;
          if (next < outList.length) pick = next++;
        } else {
          // The latest identical segment sent early enough to have arrived by now, else the earliest one sent before.
          for (let i = 0; i < outList.length; i++) {
            if (used[i] || outList[i].t > inEv.t + 1e-9) continue;
            if (outList[i].t <= inEv.t - minFlight + 1e-6) pick = i;
            else if (pick < 0) {
              pick = i;
              break;
            }
          }
          if (pick < 0) {
            for (let i = 0; i < outList.length; i++) {
              if (!used[i] && outList[i].t <= inEv.t + 1e-9) {
                pick = i;
                break;
              }
            }
          }
        }
        if (pick >= 0) {
          used[pick] = true;
          matched[d].set(outList[pick], inEv);
          flights[d].push(inEv.t - outList[pick].t);
        }
      }
    }
  }
  const fallback = median(flights[0]) ?? median(flights[1]) ?? 1;
  for (let d = 0; d < 2; d++) {
    const senderTraced = traced.has(sides[d].host);
    const receiverTraced = traced.has(sides[1 - d].host);
    const typical = median(flights[d]) ?? fallback;
    let lastFlight = typical;
    if (senderTraced) {
      for (const ev of perDir[d].outs) {
        const inEv = matched[d].get(ev);
        if (inEv !== undefined) {
          lastFlight = inEv.t - ev.t;
          records.push({ ev, d, ts: ev.t, tr: inEv.t, lost: false, estimated: false });
        } else {
          records.push({ ev, d, ts: ev.t, tr: ev.t + lastFlight, lost: receiverTraced, estimated: !receiverTraced });
        }
      }
    } else {
      // Only the receiver was traced: its receipts, with a guessed departure.
      for (const ev of perDir[d].ins) records.push({ ev, d, ts: Math.max(0, ev.t - typical), tr: ev.t, lost: false, estimated: true });
    }
  }
  records.sort((a, b) => a.ts - b.ts || a.tr - b.tr);
  return records;
}

export function analyse(c: ConnEvents, index: number, traced: Set<string>, maxLadderSegments: number): ConnAnalysis {
  // Side 0 opened the connection: it sent the first SYN without ACK.
  const syn = c.segs.find((s) => (s.flags & SYN) !== 0 && (s.flags & ACK) === 0);
  let key0: string;
  let key1: string;
  if (syn !== undefined) {
    key0 = endpointKey(syn.src, syn.srcPort);
    key1 = endpointKey(syn.dst, syn.dstPort);
  } else if (c.segs.length > 0) {
    key0 = endpointKey(c.segs[0].src, c.segs[0].srcPort);
    key1 = endpointKey(c.segs[0].dst, c.segs[0].dstPort);
  } else {
    const [a, b] = c.key.split('|');
    const firstLocal = c.states.length > 0 ? c.localOf.get(c.states[0]) : undefined;
    key0 = firstLocal ?? a;
    key1 = key0 === a ? b : a;
  }
  const hostOf = (key: string): string => {
    for (const s of c.segs) if (s.dir === 'out' && endpointKey(s.src, s.srcPort) === key) return s.stack;
    for (const s of c.states) if (c.localOf.get(s) === key) return s.stack;
    for (const s of c.segs) if (s.dir === 'in' && endpointKey(s.dst, s.dstPort) === key) return s.stack;
    return '';
  };
  const mk = (key: string): Endpoint => ({ ...splitKey(key), key, host: hostOf(key) });
  const sides: [Endpoint, Endpoint] = [mk(key0), mk(key1)];
  const sideOf = (ev: TraceEvent): number => (c.localOf.get(ev) === sides[0].key ? 0 : 1);

  const records = pairSegments(c, sides, traced);

  // Initial sequence numbers and window scaling (RFC 7323 2.2: both SYNs must carry the option).
  const isn: Array<number | null> = [null, null];
  const synScale: Array<number | null> = [null, null];
  const synSeen: boolean[] = [false, false];
  for (const r of records) {
    if ((r.ev.flags & SYN) !== 0 && !synSeen[r.d]) {
      synSeen[r.d] = true;
      isn[r.d] = r.ev.seq;
      synScale[r.d] = r.ev.windowScale ?? null;
    }
  }
  for (const r of records) if (isn[r.d] === null) isn[r.d] = r.ev.seq;
  const scaling = synScale[0] !== null && synScale[1] !== null;
  const shift = [scaling ? Math.min(14, synScale[0] ?? 0) : 0, scaling ? Math.min(14, synScale[1] ?? 0) : 0];

  // Retransmission reasons from the stacks' own 'retransmit' events.
  const retxBy = new Map<string, RetransmitEvent[]>();
  for (const e of c.retransmits) {
    const k = `${sideOf(e)}|${e.seq}`;
    const l = retxBy.get(k);
    if (l === undefined) retxBy.set(k, [e]);
    else l.push(e);
  }

  const stats: [SideStats, SideStats] = [
    { segments: 0, dataSegments: 0, payload: 0, uniquePayload: 0, lost: 0, retransmissions: 0 },
    { segments: 0, dataSegments: 0, payload: 0, uniquePayload: 0, lost: 0, retransmissions: 0 },
  ];
  const retxReasons = new Map<string, number>();
  const maxEnd = [0, 0];
  const lastAck = [-1, -1];
  const lastWin = [-1, -1];
  const dupCount = [0, 0];
  // SACK blocks as they reach the data's sender, by the side whose data they cover: [time, left, right].
  const sacks: [Point[], Point[]] = [[], []];
  // The last window each side advertised (to tell zero-window probes).
  const advertised = [-1, -1];
  const segs: LadderSeg[] = [];
  const notes: Record<string, string> = {};
  for (const r of records) {
    const ev = r.ev;
    const d = r.d;
    const rseq = (ev.seq - (isn[d] ?? ev.seq)) >>> 0;
    const peerIsn = isn[1 - d];
    const hasAck = (ev.flags & ACK) !== 0;
    const rack = hasAck ? (peerIsn === null ? ev.ack : (ev.ack - peerIsn) >>> 0) : 0;
    const win = (ev.flags & SYN) !== 0 ? ev.window : ev.window * 2 ** shift[d];
    const consumed = ev.len + ((ev.flags & SYN) !== 0 ? 1 : 0) + ((ev.flags & FIN) !== 0 ? 1 : 0);
    let kind = 0;
    let dupN = 0;
    const noteParts: string[] = [];
    if (r.lost) kind |= K_LOST;
    if (r.estimated) kind |= K_ESTIMATED;
    if (consumed > 0 && rseq < maxEnd[d]) {
      kind |= K_RETX;
      const cands = retxBy.get(`${d}|${ev.seq}`);
      let reason = 'retransmission';
      if (cands !== undefined) {
        let best: RetransmitEvent | null = null;
        for (const e of cands) if (e.t <= r.ts + 1e-6) best = e;
        if (best !== null && r.ts - best.t < 1e-6) reason = `retransmission: ${best.reason}`;
        else if (best !== null) reason = `retransmission (after ${best.reason})`;
      }
      noteParts.push(reason);
      const short = reason.replace(/^retransmission:? ?/, '').replace(/^\((.*)\)$/, '$1') || 'resent without a stack event';
      retxReasons.set(short, (retxReasons.get(short) ?? 0) + 1);
      stats[d].retransmissions++;
    }
    if (ev.len > 0) {
      const dataStart = rseq + ((ev.flags & SYN) !== 0 ? 1 : 0);
      stats[d].uniquePayload += Math.max(0, dataStart + ev.len - Math.max(dataStart, maxEnd[d]));
    }
    if (consumed > 0) maxEnd[d] = Math.max(maxEnd[d], rseq + consumed);
    if (hasAck) {
      if (consumed === 0 && (ev.flags & RST) === 0 && rack === lastAck[d] && win === lastWin[d] && maxEnd[1 - d] > rack) {
        dupCount[d]++;
        kind |= K_DUP;
        dupN = dupCount[d];
      } else if (rack !== lastAck[d]) dupCount[d] = 0;
      lastAck[d] = rack;
      lastWin[d] = win;
    }
    if ((ev.flags & SYN) !== 0) {
      const o: string[] = [];
      if (ev.mss !== undefined) o.push(`MSS ${ev.mss}`);
      if (ev.windowScale !== undefined) o.push(`window scale ${ev.windowScale}`);
      if (ev.sackPermitted) o.push('SACK permitted');
      if (ev.tsVal !== undefined) o.push('timestamps');
      if (o.length > 0) noteParts.push(`options: ${o.join(', ')}`);
      noteParts.push(`ISN ${ev.seq} (shown as seq 0)`);
    }
    if (ev.sack !== undefined && ev.sack.length > 0 && peerIsn !== null) {
      noteParts.push(`SACK ${ev.sack.map(([l, rr]) => `${(l - peerIsn) >>> 0}–${(rr - peerIsn) >>> 0}`).join(', ')}: received beyond a hole`);
      if (!r.lost) for (const [l, rr] of ev.sack) sacks[1 - d].push([r.tr, (l - peerIsn) >>> 0, (rr - peerIsn) >>> 0]);
    }
    if (win === 0 && (ev.flags & RST) === 0) noteParts.push('zero window: the receiver has no room');
    if (advertised[1 - d] === 0 && (ev.flags & (SYN | FIN | RST)) === 0 && ev.len <= 1 && (kind & K_DUP) === 0) {
      kind |= K_PROBE;
      noteParts.push('zero-window probe: asks the receiver whether its window has opened');
    }
    if ((ev.flags & RST) === 0) advertised[d] = win;
    if (r.estimated) noteParts.push('one end of this segment is not in the trace: a time is estimated');
    stats[d].segments++;
    if (ev.len > 0) {
      stats[d].dataSegments++;
      stats[d].payload += ev.len;
    }
    if (r.lost) stats[d].lost++;
    if (segs.length < maxLadderSegments) {
      if (noteParts.length > 0) notes[String(segs.length)] = noteParts.join('\n');
      segs.push([round3(r.ts), round3(r.tr), d, ev.flags, rseq, rack, ev.len, win, kind, dupN]);
    }
  }

  const states: [Array<[number, string, string]>, Array<[number, string, string]>] = [[], []];
  let lastStateT = -Infinity;
  for (const s of c.states) {
    const side = sideOf(s);
    if (states[side].length === 0) states[side].push([round3(s.t), s.from, '']);
    states[side].push([round3(s.t), s.to, s.cause]);
    lastStateT = Math.max(lastStateT, s.t);
  }
  const t0 = Math.min(c.firstT, records.length > 0 ? records[0].ts : Infinity);
  let lastSeg = -Infinity;
  for (const r of records) lastSeg = Math.max(lastSeg, r.tr, r.ts);
  if (!Number.isFinite(lastSeg)) lastSeg = Number.isFinite(lastStateT) ? lastStateT : t0 + 1;
  const t1 = Math.max(lastSeg, t0 + 1e-3);

  const rtts: [RttEvent[], RttEvent[]] = [[], []];
  for (const e of c.rtts) rtts[sideOf(e)].push(e);
  const cwnds: [CwndEvent[], CwndEvent[]] = [[], []];
  for (const e of c.cwnds) cwnds[sideOf(e)].push(e);

  const label = (e: Endpoint): string => (e.host !== '' ? e.host : e.addr);
  const ladder: LadderData = {
    id: `c${index}`,
    names: [label(sides[0]), label(sides[1])],
    addrs: [sides[0].key, sides[1].key],
    segs,
    notes,
    states,
    t0: round3(t0),
    t1: round3(t1),
  };
  const finalStates: [string, string] = [
    states[0].length > 0 ? states[0][states[0].length - 1][1] : '?',
    states[1].length > 0 ? states[1][states[1].length - 1][1] : '?',
  ];
  return { index, sides, records, ladder, stats, rtts, cwnds, retxReasons, t0, t1, lastStateT, finalStates, scaled: scaling, sacks: sacks.map((l) => l.sort((x, y) => x[0] - y[0])) as [Point[], Point[]] };
}
