// An HTML report of a trace: one self-contained page (inline SVG, CSS and
// script; nothing fetched) with, per TCP connection, a sequence (ladder)
// diagram of every segment between the two ends, a timeline of each end's
// TCP state, and plots over time: congestion window, RTT and RTO, advertised
// receive windows and a tcptrace-style sequence-number plot.
//
// Segments are paired across the link: a segment sent ('segment' dir 'out'
// at one host) is matched to its receipt ('in' at the other host) by its
// header fields, in order; a sent segment with no receipt was lost on the
// link. The ladder shows a window of time at once and is browsed in the page
// (buttons, a slider, a click on any plot); plots are downsampled to a bounded
// number of points per series, so a run of many thousands of segments stays a
// page of bounded size that opens at once.
//
// The ladder renderer `ladderSvg` and the page script `pageScript` are
// written in TypeScript here and shipped to the page as their own source text
// (Function.prototype.toString), so the first view rendered here and every
// view rendered in the browser come from the same code. Neither may refer to
// anything outside its own body.

import type { TraceEvent } from '../../stack/trace';
import { TCP_ACK as ACK, TCP_FIN as FIN, TCP_RST as RST, TCP_SYN as SYN } from '../../stack/wire/tcp';

type SegmentEvent = Extract<TraceEvent, { type: 'segment' }>;
type StateEvent = Extract<TraceEvent, { type: 'state' }>;
type RttEvent = Extract<TraceEvent, { type: 'rtt' }>;
type CwndEvent = Extract<TraceEvent, { type: 'cwnd' }>;
type RetransmitEvent = Extract<TraceEvent, { type: 'retransmit' }>;

export interface ReportOptions {
  /** Page title (default "TCP trace report"). */
  title?: string;
  /**
   * Most arrows the ladder draws at once (default 300); the rest of the time
   * window is reached by zooming. `Infinity` draws every segment, and the
   * first view then spans the whole connection (the complete render mode).
   */
  maxArrows?: number;
  /** Most points drawn per plotted series (default 2000). */
  maxPoints?: number;
  /** Most segments per connection the page keeps for browsing the ladder (default 50,000). */
  maxLadderSegments?: number;
}

// Bits of a ladder segment's kind (LadderSeg index 8); ladderSvg repeats them.
const K_LOST = 1;
const K_RETX = 2;
const K_DUP = 4;
const K_ESTIMATED = 8;
const K_PROBE = 16;

/**
 * One segment on the ladder, as a tuple to keep the page small:
 * [sent ms, arrived ms (estimated for a lost one), sender side 0|1, flags,
 *  relative seq, relative ack, payload length, window in bytes (scaled),
 *  kind bits (1 lost, 2 retransmission, 4 duplicate ACK, 8 times estimated, 16 zero-window probe), duplicate-ACK number].
 */
export type LadderSeg = [number, number, number, number, number, number, number, number, number, number];

/** What the ladder renderer needs for one connection (JSON, shipped into the page). */
export interface LadderData {
  /** Unique prefix for ids inside this ladder's SVG. */
  id: string;
  names: [string, string];
  addrs: [string, string];
  segs: LadderSeg[];
  /** Extra tooltip text per segment index (options, SACK blocks, retransmission reason). */
  notes: Record<string, string>;
  /** Per side: [time, state entered, cause]; the first entry is the state before the first change. */
  states: [Array<[number, string, string]>, Array<[number, string, string]>];
  t0: number;
  t1: number;
}

export interface LadderView {
  start: number;
  span: number;
  /** Most arrows drawn; 0 draws all. */
  maxArrows: number;
}

export interface LadderRender {
  svg: string;
  /** Arrows drawn. */
  shown: number;
  /** Arrows that cross the time window. */
  inWindow: number;
}

/**
 * The ladder (sequence) diagram of one time window as an SVG string. Runs both
 * here and in the page: it uses nothing from outside its own body.
 */
export function ladderSvg(data: LadderData, view: LadderView): LadderRender {
  const W = 1120;
  const TOP = 62;
  const H = 760;
  const AXIS = 62;
  const BAR = 16;
  const colX = [AXIS + 318, W - 318];
  const laneL = colX[0] + BAR / 2;
  const laneR = colX[1] - BAR / 2;
  const LABEL_GAP = 12.5;
  const start = view.start;
  const span = view.span > 0 ? view.span : 1;
  const end = start + span;
  const yOf = (t: number): number => TOP + ((t - start) / span) * H;
  const r1 = (v: number): string => (Math.round(v * 10) / 10).toString();
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  const fmtT = (t: number, step: number): string => {
    if (span >= 20000) {
      const d = Math.max(0, Math.min(3, -Math.floor(Math.log10(step / 1000) + 1e-9)));
      return (t / 1000).toFixed(d) + ' s';
    }
    const d = Math.max(0, Math.min(3, -Math.floor(Math.log10(step) + 1e-9)));
    return t.toFixed(d) + ' ms';
  };
  const fmtMs = (t: number): string => (t >= 10000 ? (t / 1000).toFixed(4) + ' s' : t.toFixed(3) + ' ms');
  const stateColor = (s: string): string => {
    switch (s) {
      case 'LISTEN': return '#c4b5fd';
      case 'SYN-SENT': return '#fcd34d';
      case 'SYN-RECEIVED': return '#fdba74';
      case 'ESTABLISHED': return '#86efac';
      case 'FIN-WAIT-1': return '#7dd3fc';
      case 'FIN-WAIT-2': return '#38bdf8';
      case 'CLOSE-WAIT': return '#a5b4fc';
      case 'CLOSING': return '#f9a8d4';
      case 'LAST-ACK': return '#d8b4fe';
      case 'TIME-WAIT': return '#cbd5e1';
      default: return '#e5e7eb';
    }
  };
  const stateInk = (s: string): string => {
    switch (s) {
      case 'LISTEN': return '#6d28d9';
      case 'SYN-SENT': return '#b45309';
      case 'SYN-RECEIVED': return '#c2410c';
      case 'ESTABLISHED': return '#15803d';
      case 'FIN-WAIT-1': return '#0369a1';
      case 'FIN-WAIT-2': return '#0369a1';
      case 'CLOSE-WAIT': return '#4338ca';
      case 'CLOSING': return '#be185d';
      case 'LAST-ACK': return '#7e22ce';
      case 'TIME-WAIT': return '#475569';
      default: return '#4b5563';
    }
  };
  const kindOf = (s: number[]): string => {
    if (s[3] & 4) return 'rst';
    if (s[8] & 2) return 'retx';
    if (s[3] & 3) return 'ctl';
    if (s[6] > 0) return 'data';
    if (s[8] & 4) return 'dup';
    return 'ack';
  };
  const COLORS: Record<string, string> = {
    data: '#2563eb', ack: '#64748b', ctl: '#7c3aed', rst: '#111827', retx: '#dc2626', dup: '#ea580c',
  };
  const flagNames = (f: number): string => {
    const n: string[] = [];
    if (f & 2) n.push('SYN');
    if (f & 1) n.push('FIN');
    if (f & 4) n.push('RST');
    if (f & 8) n.push('PSH');
    if (f & 32) n.push('URG');
    if (f & 16) n.push('ACK');
    return n.length === 0 ? '[none]' : '[' + n.join(', ') + ']';
  };

  const out: string[] = [];
  const totalH = TOP + H + 26;
  out.push(`<svg class="ladder" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${totalH}" width="${W}" height="${totalH}" font-size="10.5">`);
  out.push(`<defs><clipPath id="${data.id}-clip"><rect x="0" y="${TOP}" width="${W}" height="${H}"/></clipPath></defs>`);
  // Column heads.
  for (let i = 0; i < 2; i++) {
    const x = colX[i];
    out.push(`<text x="${x}" y="20" text-anchor="middle" font-size="15" font-weight="700" fill="#111827">${esc(data.names[i])}</text>`);
    out.push(`<text x="${x}" y="38" text-anchor="middle" font-size="12" fill="#6b7280">${esc(data.addrs[i])}</text>`);
  }
  // Time grid and axis.
  const raw = span / 12;
  const p10 = Math.pow(10, Math.floor(Math.log10(raw)));
  const f = raw / p10;
  const step = (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * p10;
  out.push(`<rect x="${laneL}" y="${TOP}" width="${laneR - laneL}" height="${H}" fill="#fbfdff"/>`);
  for (let t = Math.ceil(start / step) * step; t <= end + 1e-9; t += step) {
    const y = r1(yOf(t));
    out.push(`<line x1="${AXIS}" x2="${W - 8}" y1="${y}" y2="${y}" stroke="#eef2f7"/>`);
    out.push(`<text x="${AXIS - 6}" y="${r1(yOf(t) + 4)}" text-anchor="end" fill="#6b7280" font-size="10.5">${fmtT(t, step)}</text>`);
  }
  out.push(`<line x1="${AXIS}" x2="${AXIS}" y1="${TOP}" y2="${TOP + H}" stroke="#9ca3af"/>`);

  // Labels are placed per side without overlap: state changes first, then
  // segments that matter most (lost, retransmitted, SYN/FIN/RST, dup ACKs), then the rest.
  const placed: number[][] = [[], []];
  const canPlace = (side: number, y: number): boolean => {
    const a = placed[side];
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (a[mid] < y) lo = mid + 1;
      else hi = mid;
    }
    if (lo < a.length && a[lo] - y < LABEL_GAP - 0.01) return false;
    if (lo > 0 && y - a[lo - 1] < LABEL_GAP - 0.01) return false;
    a.splice(lo, 0, y);
    return true;
  };

  // State bars on the two columns.
  const bars: string[] = [];
  const stateLabels: string[] = [];
  for (let i = 0; i < 2; i++) {
    const st = data.states[i];
    const x = colX[i];
    bars.push(`<rect x="${x - BAR / 2}" y="${TOP}" width="${BAR}" height="${H}" fill="#f3f4f6" stroke="#d1d5db" stroke-width="0.5"/>`);
    for (let j = 0; j < st.length; j++) {
      const a = Math.max(st[j][0], start);
      const b = Math.min(j + 1 < st.length ? st[j + 1][0] : Math.max(data.t1, end), end);
      if (b <= a) continue;
      const ya = yOf(a);
      const yb = yOf(b);
      const name = st[j][1];
      bars.push(`<rect x="${x - BAR / 2}" y="${r1(ya)}" width="${BAR}" height="${r1(Math.max(0.5, yb - ya))}" fill="${stateColor(name)}"><title>${esc(`${data.names[i]}: ${name}`)}</title></rect>`);
      if (yb - ya > name.length * 6.4 + 24) {
        const cy = (ya + yb) / 2;
        bars.push(`<text transform="translate(${x + 3.5},${r1(cy)}) rotate(-90)" text-anchor="middle" font-size="9.5" font-weight="600" fill="${stateInk(name)}" pointer-events="none">${esc(name)}</text>`);
      }
    }
    // Change labels: changes closer together than a line of text are merged.
    let j = 1;
    while (j < st.length) {
      const t = st[j][0];
      if (t < start || t > end) {
        j++;
        continue;
      }
      const y = yOf(t);
      const group = [st[j]];
      j++;
      while (j < st.length && st[j][0] <= end && yOf(st[j][0]) - y < LABEL_GAP) group.push(st[j++]);
      const last = group[group.length - 1][1];
      // The name goes one line above the change, leaving the line of the change to the segment sent then.
      const ly = y - LABEL_GAP;
      canPlace(i, ly);
      const outer = i === 0 ? x - BAR / 2 - 4 : x + BAR / 2 + 4;
      const tick = i === 0 ? x - BAR / 2 - 8 : x + BAR / 2 + 8;
      const text = group.map((g) => '→ ' + g[1]).join(' ');
      const title = group.map((g) => `${fmtMs(g[0])} ${g[1]} (${g[2]})`).join('\n');
      stateLabels.push(`<g class="state-change"><title>${esc(title)}</title><line x1="${x - BAR / 2 - 2}" x2="${x + BAR / 2 + 2}" y1="${r1(y)}" y2="${r1(y)}" stroke="${stateInk(last)}" stroke-width="2"/>`
        + `<path d="M${outer} ${r1(y)}H${tick}V${r1(ly + 1)}" fill="none" stroke="${stateInk(last)}" stroke-width="1.5"/>`
        + `<text x="${i === 0 ? tick - 3 : tick + 3}" y="${r1(ly + 4)}" text-anchor="${i === 0 ? 'end' : 'start'}" font-weight="700" font-size="11.5" fill="${stateInk(last)}" paint-order="stroke" stroke="#ffffff" stroke-width="3">${esc(text)}</text></g>`);
    }
  }

  // Segments crossing the window.
  const segs = data.segs;
  const inside: number[] = [];
  const limit = view.maxArrows > 0 ? view.maxArrows : Infinity;
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i];
    if (s[0] > end || s[1] < start) continue;
    inside.push(i);
  }
  const inWindow = inside.length;
  let chosen = inside;
  if (inside.length > limit) {
    // Too many to draw: a sample spread over the window, lost, retransmitted and control segments first.
    const spread = (from: number[], n: number): number[] => {
      if (n >= from.length) return from;
      const picked: number[] = [];
      for (let k = 0; k < n; k++) picked.push(from[Math.floor((k * from.length) / n)]);
      return picked;
    };
    const key = inside.filter((i) => (segs[i][8] & 3) !== 0 || (segs[i][3] & 7) !== 0);
    const rest = inside.filter((i) => !((segs[i][8] & 3) !== 0 || (segs[i][3] & 7) !== 0));
    const first = spread(key, Math.floor(limit / 2));
    chosen = first.concat(spread(rest, limit - first.length)).sort((a, b) => a - b);
  }
  // Label priority: 0 for lost, retransmitted, control and dup ACK segments, 1 for the rest.
  const labelled = new Set<number>();
  for (let pass = 0; pass < 2; pass++) {
    for (const i of chosen) {
      const s = segs[i];
      if (s[0] < start) continue;
      const k = kindOf(s);
      const important = (s[8] & 1) !== 0 || k === 'retx' || k === 'ctl' || k === 'rst' || k === 'dup';
      if ((pass === 0) !== important) continue;
      if (canPlace(s[2], yOf(s[0]))) labelled.add(i);
    }
  }
  // Unlabelled runs of segments from one side get one summary label where there is room.
  const summaries: string[] = [];
  for (let side = 0; side < 2; side++) {
    let run: number[] = [];
    const flush = (): void => {
      if (run.length >= 2) {
        const first = segs[run[0]];
        let lo = Infinity;
        let hi = -Infinity;
        let data = 0;
        let acks = 0;
        for (const i of run) {
          const s = segs[i];
          if (s[6] > 0) {
            data++;
            lo = Math.min(lo, s[4]);
            hi = Math.max(hi, s[4] + s[6]);
          } else if ((s[3] & 23) === 16) {
            acks++;
            lo = Math.min(lo, s[5]);
            hi = Math.max(hi, s[5]);
          }
        }
        let text = `+${run.length} segments`;
        if (data === run.length) text = `+${run.length} data segments, bytes ${lo}–${hi}`;
        else if (acks === run.length) text = `+${run.length} ACKs, ack=${lo}–${hi}`;
        const yl = yOf(segs[run[run.length - 1]][0]);
        const ys = [yOf(first[0]), yOf(first[0]) + LABEL_GAP, yl, yl + LABEL_GAP];
        for (const y of ys) {
          if (y < TOP || y > TOP + H || !canPlace(side, y)) continue;
          const lx = side === 0 ? colX[0] - BAR / 2 - 6 : colX[1] + BAR / 2 + 6;
          summaries.push(`<text class="lbl run" x="${lx}" y="${r1(y + 3.8)}" text-anchor="${side === 0 ? 'end' : 'start'}" fill="#6b7280" font-style="italic">${esc(text)}</text>`);
          break;
        }
      }
      run = [];
    };
    for (const i of chosen) {
      const s = segs[i];
      if (s[2] !== side || s[0] < start) continue;
      if (labelled.has(i)) flush();
      else {
        if (run.length > 0 && yOf(s[0]) - yOf(segs[run[run.length - 1]][0]) > LABEL_GAP) flush();
        run.push(i);
      }
    }
    flush();
  }
  const arrows: string[] = [];
  const labels: string[] = [];
  for (const i of chosen) {
    const s = segs[i];
    const from = s[2];
    const x1 = from === 0 ? laneL : laneR;
    const x2 = from === 0 ? laneR : laneL;
    const y1 = yOf(s[0]);
    const y2 = yOf(s[1]);
    const lost = (s[8] & 1) !== 0;
    const kind = kindOf(s);
    const color = COLORS[kind];
    const flags = flagNames(s[3]);
    const hasAck = (s[3] & 16) !== 0;
    let label = `seq=${s[4]}`;
    if (hasAck) label += ` ack=${s[5]}`;
    if (s[6] > 0) label += ` len=${s[6]}`;
    label += s[7] === 0 && (s[3] & 4) === 0 ? ' <tspan font-weight="700">win=0</tspan>' : ` win=${s[7]}`;
    let tag = '';
    if (kind === 'retx') tag = ' RETX';
    if (s[8] & 4) tag += ` dup#${s[9]}`;
    if (s[8] & 16) tag += ' window probe';
    if (lost) tag += ' LOST';
    const who = `${data.names[from]} → ${data.names[1 - from]}`;
    let title = `${flags} ${label.replace(/<[^>]*>/g, '')}${tag}\n${who}\nsent ${fmtMs(s[0])}`;
    if (lost) title += `\nlost on the link (would have arrived about ${fmtMs(s[1])})`;
    else title += `${s[8] & 8 ? ' (estimated)' : ''}, arrived ${fmtMs(s[1])}${s[8] & 8 ? ' (estimated)' : ''}; one-way ${(s[1] - s[0]).toFixed(3)} ms`;
    const note = data.notes[String(i)];
    if (note !== undefined) title += '\n' + note;
    const cls = lost ? 'seg lost' : 'seg';
    let body: string;
    const dash = s[8] & 8 ? ' stroke-dasharray="2 3"' : '';
    const sw = kind === 'retx' || kind === 'rst' ? 2 : kind === 'data' || kind === 'ctl' ? 1.5 : 1.1;
    if (lost) {
      const fx = x1 + (x2 - x1) * 0.6;
      const fy = y1 + (y2 - y1) * 0.6;
      body = `<line x1="${r1(x1)}" y1="${r1(y1)}" x2="${r1(fx)}" y2="${r1(fy)}" stroke="${color}" stroke-width="${sw}" stroke-dasharray="6 3"/>`
        + `<path d="M${r1(fx - 6)} ${r1(fy - 6)}l12 12m0 -12l-12 12" stroke="#dc2626" stroke-width="2.6" stroke-linecap="round"/>`;
    } else {
      const dx = x2 - x1;
      const dy = y2 - y1;
      const len = Math.sqrt(dx * dx + dy * dy) || 1;
      const ux = dx / len;
      const uy = dy / len;
      const hl = Math.min(9, len * 0.4);
      const bx = x2 - ux * hl;
      const by = y2 - uy * hl;
      const hw = hl * 0.42;
      body = `<line x1="${r1(x1)}" y1="${r1(y1)}" x2="${r1(bx)}" y2="${r1(by)}" stroke="${color}" stroke-width="${sw}"${dash}/>`
        + `<path d="M${r1(x2)} ${r1(y2)}L${r1(bx - uy * hw)} ${r1(by + ux * hw)}L${r1(bx + uy * hw)} ${r1(by - ux * hw)}Z" fill="${color}"/>`;
    }
    // A wide transparent line makes the thin arrow easy to hover.
    const hit = `<line class="hit" x1="${r1(x1)}" y1="${r1(y1)}" x2="${r1(lost ? x1 + (x2 - x1) * 0.6 : x2)}" y2="${r1(lost ? y1 + (y2 - y1) * 0.6 : y2)}" stroke="transparent" stroke-width="7"/>`;
    if (labelled.has(i)) {
      const lx = from === 0 ? colX[0] - BAR / 2 - 6 : colX[1] + BAR / 2 + 6;
      labels.push(`<text class="lbl" x="${lx}" y="${r1(y1 + 3.8)}" text-anchor="${from === 0 ? 'end' : 'start'}" fill="${color}">`
        + `<tspan font-weight="700">${flags}</tspan> ${label}${tag === '' ? '' : `<tspan font-weight="700"${lost || kind === 'retx' ? ' fill="#dc2626"' : ''}>${tag}</tspan>`}</text>`);
    }
    arrows.push(`<g class="${cls}" data-kind="${kind}"><title>${esc(title)}</title>${hit}${body}</g>`);
  }
  out.push(`<g clip-path="url(#${data.id}-clip)">`);
  out.push(bars.join(''));
  out.push(arrows.join(''));
  out.push('</g>');
  out.push(labels.join(''));
  out.push(summaries.join(''));
  out.push(stateLabels.join(''));
  out.push(`<text x="${W / 2}" y="${TOP + H + 18}" text-anchor="middle" fill="#9ca3af" font-size="11">time runs downwards · ${fmtMs(start)} – ${fmtMs(end)}</text>`);
  out.push('</svg>');
  return { svg: out.join(''), shown: chosen.length, inWindow };
}

/** The bits of the DOM the page script uses (the project type-checks without the DOM library). */
interface PageRect {
  left: number;
  top: number;
  width: number;
  height: number;
}
interface PageEvent {
  clientX: number;
  clientY: number;
  key?: string;
  preventDefault(): void;
}
interface PageElement {
  innerHTML: string;
  textContent: string | null;
  value: string;
  hidden: boolean;
  getAttribute(name: string): string | null;
  setAttribute(name: string, value: string): void;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement>;
  addEventListener(type: string, listener: (ev: PageEvent) => void): void;
  getBoundingClientRect(): PageRect;
}
interface PageDocument {
  body: PageElement;
  location: { hash: string };
  querySelector(selector: string): PageElement | null;
  getElementById(id: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement>;
}

/** The data the page script reads from the page. */
export interface PageData {
  /** Most arrows at once; 0 for all. */
  maxArrows: number;
  conns: Array<{ ladder: LadderData; start: number; span: number; total: number; truncated: number }>;
}

/** The page's script: browsing of each ladder, plot clicks, the connection selector. Self-contained like ladderSvg. */
function pageScript(render: typeof ladderSvg, doc: PageDocument): void {
  const dataEl = doc.getElementById('tcplab-data');
  if (dataEl === null) throw new Error('report data missing');
  const page = JSON.parse(dataEl.textContent ?? '{}') as PageData;
  const fmt = (t: number): string => (t >= 10000 ? (t / 1000).toFixed(3) + ' s' : t.toFixed(t < 100 ? 2 : 1) + ' ms');
  const each = (list: ArrayLike<PageElement>, fn: (el: PageElement) => void): void => {
    for (let i = 0; i < list.length; i++) fn(list[i]);
  };
  // "#t=START,SPAN" (milliseconds) opens every ladder at that time window.
  const linked = /[#&]t=(-?[\d.]+),([\d.]+)/.exec(doc.location.hash);
  page.conns.forEach((c, index) => {
    const sec = doc.querySelector(`section.conn[data-conn="${index}"]`);
    if (sec === null) return;
    const box = sec.querySelector('.ladder-box');
    const info = sec.querySelector('.ladder-info');
    const pos = sec.querySelector('input.ladder-pos');
    if (box === null || info === null || pos === null) return;
    const t0 = c.ladder.t0;
    const full = Math.max(c.ladder.t1 - t0, 1e-3);
    const minSpan = Math.max(full / 1e5, 0.05);
    let start = linked !== null ? Number(linked[1]) : c.start;
    let span = linked !== null ? Number(linked[2]) : c.span;
    const draw = (): void => {
      span = Math.min(Math.max(span, minSpan), full);
      start = Math.min(Math.max(start, t0), t0 + full - span);
      const r = render(c.ladder, { start, span, maxArrows: page.maxArrows });
      box.innerHTML = r.svg;
      let text = `${fmt(start)} – ${fmt(start + span)}: ${r.shown} of ${c.total} segments`;
      if (r.shown < r.inWindow) text += ` (a sample of the ${r.inWindow} in this window: zoom in to see every one)`;
      if (c.truncated > 0) text += ` · the page keeps the first ${c.ladder.segs.length} segments of this connection`;
      info.textContent = text;
      pos.value = String(full - span <= 0 ? 0 : Math.round(((start - t0) / (full - span)) * 1000));
      const whole = span >= full * 0.999;
      each(sec.querySelectorAll('svg[data-t0]'), (svg) => {
        const mark = svg.querySelector('.winmark');
        if (mark === null) return;
        const a = Number(svg.getAttribute('data-t0'));
        const b = Number(svg.getAttribute('data-t1'));
        const x0 = Number(svg.getAttribute('data-x0'));
        const x1 = Number(svg.getAttribute('data-x1'));
        const xs = x0 + ((Math.max(start, a) - a) / (b - a)) * (x1 - x0);
        const xe = x0 + ((Math.min(start + span, b) - a) / (b - a)) * (x1 - x0);
        mark.setAttribute('x', xs.toFixed(1));
        mark.setAttribute('width', whole ? '0' : Math.max(1.5, xe - xs).toFixed(1));
      });
    };
    each(sec.querySelectorAll('button[data-act]'), (btn) => {
      btn.addEventListener('click', () => {
        const act = btn.getAttribute('data-act');
        if (act === 'first') start = t0;
        else if (act === 'last') start = t0 + full;
        else if (act === 'prev') start -= span * 0.8;
        else if (act === 'next') start += span * 0.8;
        else if (act === 'zin') {
          start += span / 4;
          span /= 2;
        } else if (act === 'zout') {
          start -= span / 2;
          span *= 2;
        } else if (act === 'all') {
          start = t0;
          span = full;
        }
        draw();
      });
    });
    pos.addEventListener('input', () => {
      start = t0 + (Number(pos.value) / 1000) * (full - span);
      draw();
    });
    each(sec.querySelectorAll('svg[data-t0]'), (svg) => {
      svg.addEventListener('click', (ev) => {
        const rect = svg.getBoundingClientRect();
        const vw = Number(svg.getAttribute('data-vw'));
        const a = Number(svg.getAttribute('data-t0'));
        const b = Number(svg.getAttribute('data-t1'));
        const x0 = Number(svg.getAttribute('data-x0'));
        const x1 = Number(svg.getAttribute('data-x1'));
        const vx = ((ev.clientX - rect.left) / rect.width) * vw;
        if (vx < x0 || vx > x1) return;
        const t = a + ((vx - x0) / (x1 - x0)) * (b - a);
        start = t - span / 2;
        draw();
        const target = sec.querySelector('.ladder-card');
        if (target !== null) (target as unknown as { scrollIntoView(o: { behavior: string }): void }).scrollIntoView({ behavior: 'smooth' });
      });
    });
    draw();
  });
  const select = doc.getElementById('conn-select');
  if (select !== null) {
    const show = (): void => {
      each(doc.querySelectorAll('section.conn'), (s) => {
        s.hidden = s.getAttribute('data-conn') !== select.value;
      });
    };
    select.addEventListener('change', show);
    show();
  }
}

// ---------------------------------------------------------------------------
// Analysis of the trace.

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

interface ConnAnalysis {
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

function groupConnections(events: TraceEvent[]): ConnEvents[] {
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

function analyse(c: ConnEvents, index: number, traced: Set<string>, maxLadderSegments: number): ConnAnalysis {
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

// ---------------------------------------------------------------------------
// Plots.

type Point = number[];

interface PlotSeries {
  name: string;
  label: string;
  color: string;
  /** line: straight segments; step: holds each value until the next; dots; bars: [t, lo, hi]; marks: crosses. */
  kind: 'line' | 'step' | 'dots' | 'bars' | 'marks';
  dash?: string;
  width?: number;
  points: Point[];
  /** Left out of the y range when it would squash the others (more than twice their top); drawn clipped. */
  mayClip?: boolean;
}

interface PlotSpec {
  series: string;
  host?: string;
  title: string;
  help: string;
  yLabel: string;
  yFormat: (v: number) => string;
  t0: number;
  t1: number;
  /** Step lines hold their last value up to here. */
  holdUntil: number;
  lines: PlotSeries[];
  conn: number;
  note?: string;
}

/** At most about `max` points: per time bucket the first, lowest, highest and last (lines), or the union (bars). */
export function downsample(points: Point[], kind: PlotSeries['kind'], t0: number, t1: number, max: number): Point[] {
  if (points.length <= max) return points;
  const perBucket = kind === 'bars' ? 1 : kind === 'dots' || kind === 'marks' ? 2 : 4;
  const buckets = Math.max(1, Math.floor(max / perBucket));
  const width = (t1 - t0) / buckets || 1;
  const out: Point[] = [];
  let i = 0;
  while (i < points.length) {
    const b = Math.min(buckets - 1, Math.max(0, Math.floor((points[i][0] - t0) / width)));
    let j = i;
    let lo = i;
    let hi = i;
    while (j < points.length && Math.min(buckets - 1, Math.max(0, Math.floor((points[j][0] - t0) / width))) === b) {
      if (kind === 'bars') {
        if (points[j][1] < points[lo][1]) lo = j;
        if (points[j][2] > points[hi][2]) hi = j;
      } else {
        if (points[j][1] < points[lo][1]) lo = j;
        if (points[j][1] > points[hi][1]) hi = j;
      }
      j++;
    }
    if (kind === 'bars') {
      out.push([points[i][0], points[lo][1], points[hi][2]]);
    } else if (perBucket === 2) {
      for (const k of lo <= hi ? [lo, hi] : [hi, lo]) if (out.length === 0 || out[out.length - 1] !== points[k]) out.push(points[k]);
    } else {
      const idx = [...new Set([i, lo, hi, j - 1])].sort((a, b) => a - b);
      for (const k of idx) out.push(points[k]);
    }
    i = j;
  }
  return out;
}

function niceStep(span: number, target: number): number {
  const raw = span / target;
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  const f = raw / p;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * p;
}

function decimalsFor(step: number): number {
  return Math.max(0, Math.min(4, -Math.floor(Math.log10(step) + 1e-9)));
}

/** Byte counts for axis ticks: 0, 500, 20k, 1.5M. */
export function formatBytes(v: number): string {
  const a = Math.abs(v);
  const trim = (s: string): string => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);
  if (a >= 1e9) return trim((v / 1e9).toFixed(2)) + 'G';
  if (a >= 1e6) return trim((v / 1e6).toFixed(2)) + 'M';
  if (a >= 1e3) return trim((v / 1e3).toFixed(1)) + 'k';
  return trim(v.toFixed(0));
}

/** A duration for people: "850 µs", "12.3 ms", "4.52 s". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  if (ms === 0) return '0 ms';
  if (ms < 1) return `${(ms * 1000).toFixed(0)} µs`;
  if (ms < 100) return `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
  if (ms < 10000) return `${ms.toFixed(0)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

function timeTicks(t0: number, t1: number, target: number): { ticks: number[]; label: (t: number) => string; unit: string } {
  const span = t1 - t0;
  const seconds = span >= 5000;
  const scale = seconds ? 1000 : 1;
  const step = niceStep(span / scale, target) * scale;
  const dec = decimalsFor(step / scale);
  const ticks: number[] = [];
  for (let t = Math.ceil(t0 / step) * step; t <= t1 + step * 1e-9; t += step) ticks.push(t);
  return { ticks, label: (t) => (t / scale).toFixed(dec), unit: seconds ? 'time (s)' : 'time (ms)' };
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function f1(v: number): string {
  return (Math.round(v * 10) / 10).toString();
}

const PLOT_W = 660;
const PLOT_H = 290;
const PLOT_M = { l: 62, r: 18, t: 14, b: 40 };

function renderPlot(p: PlotSpec, maxPoints: number): string {
  const x0 = PLOT_M.l;
  const x1 = PLOT_W - PLOT_M.r;
  const y0 = PLOT_H - PLOT_M.b;
  const y1 = PLOT_M.t;
  const lines = p.lines.map((s) => ({ ...s, points: downsample(s.points, s.kind, p.t0, p.t1, maxPoints) }));
  const range = (which: typeof lines): [number, number] => {
    let l = Infinity;
    let h = -Infinity;
    for (const s of which) {
      for (const pt of s.points) {
        for (let k = 1; k < (s.kind === 'bars' ? 3 : 2); k++) {
          l = Math.min(l, pt[k]);
          h = Math.max(h, pt[k]);
        }
      }
    }
    return [l, h];
  };
  let [lo, hi] = range(lines);
  let note = p.note;
  const [, fixedHi] = range(lines.filter((s) => s.mayClip !== true));
  if (Number.isFinite(fixedHi) && fixedHi > 0 && hi > 2 * fixedHi) {
    hi = fixedHi * 1.3;
    const clipped = lines.filter((s) => s.mayClip === true).map((s) => s.label);
    note = `${clipped.join(', ')}: partly above the top of the plot`;
  }
  if (!Number.isFinite(lo)) {
    lo = 0;
    hi = 1;
  }
  lo = Math.min(0, lo);
  if (hi <= lo) hi = lo + 1;
  const ystep = niceStep(hi - lo, 5);
  hi = Math.ceil((hi * 1.02) / ystep) * ystep;
  const X = (t: number): number => x0 + ((t - p.t0) / (p.t1 - p.t0)) * (x1 - x0);
  const Y = (v: number): number => y0 - ((v - lo) / (hi - lo)) * (y0 - y1);
  const total = lines.reduce((n, s) => n + s.points.length, 0);
  const o: string[] = [];
  o.push(`<svg class="plot" data-series="${p.series}"${p.host !== undefined ? ` data-host="${esc(p.host)}"` : ''} data-points="${total}" data-conn="${p.conn}"`
    + ` data-t0="${p.t0}" data-t1="${p.t1}" data-x0="${x0}" data-x1="${x1}" data-vw="${PLOT_W}"`
    + ` xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${PLOT_W} ${PLOT_H}" font-size="11">`);
  const clipId = `clip-${p.conn}-${p.series}-${(p.host ?? '').replace(/[^A-Za-z0-9_-]/g, '_')}`;
  o.push(`<clipPath id="${clipId}"><rect x="${x0}" y="${y1 - 2}" width="${x1 - x0}" height="${y0 - y1 + 4}"/></clipPath>`);
  o.push(`<rect x="${x0}" y="${y1}" width="${x1 - x0}" height="${y0 - y1}" fill="#ffffff" stroke="#e5e7eb"/>`);
  // Grid and ticks.
  for (let v = Math.ceil(lo / ystep) * ystep; v <= hi + ystep * 1e-9; v += ystep) {
    const y = f1(Y(v));
    o.push(`<line x1="${x0}" x2="${x1}" y1="${y}" y2="${y}" stroke="#eef2f7"/><line x1="${x0 - 4}" x2="${x0}" y1="${y}" y2="${y}" stroke="#6b7280"/>`);
    o.push(`<text x="${x0 - 7}" y="${f1(Y(v) + 3.8)}" text-anchor="end" fill="#4b5563">${esc(p.yFormat(v))}</text>`);
  }
  const tt = timeTicks(p.t0, p.t1, 8);
  for (const t of tt.ticks) {
    const x = f1(X(t));
    o.push(`<line x1="${x}" x2="${x}" y1="${y1}" y2="${y0}" stroke="#f3f4f6"/><line x1="${x}" x2="${x}" y1="${y0}" y2="${y0 + 4}" stroke="#6b7280"/>`);
    o.push(`<text x="${x}" y="${y0 + 16}" text-anchor="middle" fill="#4b5563">${tt.label(t)}</text>`);
  }
  o.push(`<line x1="${x0}" x2="${x1}" y1="${y0}" y2="${y0}" stroke="#6b7280"/><line x1="${x0}" x2="${x0}" y1="${y0}" y2="${y1}" stroke="#6b7280"/>`);
  o.push(`<text x="${(x0 + x1) / 2}" y="${PLOT_H - 6}" text-anchor="middle" fill="#6b7280">${tt.unit}</text>`);
  o.push(`<text transform="translate(13,${(y0 + y1) / 2}) rotate(-90)" text-anchor="middle" fill="#6b7280">${esc(p.yLabel)}</text>`);
  // The ladder's current time window.
  o.push(`<rect class="winmark" x="${x0}" y="${y1}" width="0" height="${y0 - y1}" fill="#fde68a" fill-opacity="0.45"/>`);
  o.push(`<g clip-path="url(#${clipId})" fill="none">`);
  for (const s of lines) {
    let d = '';
    const pts = s.points;
    const w = s.width ?? 1.6;
    if (s.kind === 'line' || s.kind === 'step') {
      for (let i = 0; i < pts.length; i++) {
        const x = f1(X(pts[i][0]));
        const y = f1(Y(pts[i][1]));
        if (i === 0) d += `M${x} ${y}`;
        else if (s.kind === 'step') d += `H${x}V${y}`;
        else d += `L${x} ${y}`;
      }
      if (s.kind === 'step' && pts.length > 0 && p.holdUntil > pts[pts.length - 1][0]) d += `H${f1(X(p.holdUntil))}`;
      o.push(`<path class="line" data-series="${s.name}" data-points="${pts.length}" d="${d}" stroke="${s.color}" stroke-width="${w}"${s.dash !== undefined ? ` stroke-dasharray="${s.dash}"` : ''} stroke-linejoin="round"/>`);
    } else if (s.kind === 'dots') {
      for (const pt of pts) d += `M${f1(X(pt[0]))} ${f1(Y(pt[1]))}h0`;
      o.push(`<path class="line" data-series="${s.name}" data-points="${pts.length}" d="${d}" stroke="${s.color}" stroke-width="${w}" stroke-linecap="round"/>`);
    } else if (s.kind === 'marks') {
      for (const pt of pts) d += `M${f1(X(pt[0]) - 3.5)} ${f1(Y(pt[1]) - 3.5)}l7 7m0 -7l-7 7`;
      o.push(`<path class="line" data-series="${s.name}" data-points="${pts.length}" d="${d}" stroke="${s.color}" stroke-width="${w}" stroke-linecap="round"/>`);
    } else {
      for (const pt of pts) {
        const ya = Y(pt[1]);
        const yb = Math.min(Y(pt[2]), ya - 1.2);
        d += `M${f1(X(pt[0]))} ${f1(ya)}V${f1(yb)}`;
      }
      o.push(`<path class="line" data-series="${s.name}" data-points="${pts.length}" d="${d}" stroke="${s.color}" stroke-width="${w}"/>`);
    }
  }
  o.push('</g>');
  if (note !== undefined) o.push(`<text x="${x0 + 8}" y="${y1 + 16}" fill="#6b7280" font-style="italic" paint-order="stroke" stroke="#ffffff" stroke-width="3">${esc(note)}</text>`);
  o.push('</svg>');
  const legend = p.lines.map((s) => {
    const sw = s.kind === 'dots' ? `<span class="sw dot" style="background:${s.color}"></span>`
      : s.kind === 'marks' ? `<span class="sw mark" style="color:${s.color}">✕</span>`
        : s.kind === 'bars' ? `<span class="sw bar" style="background:${s.color}"></span>`
          : `<span class="sw" style="border-top:3px ${s.dash !== undefined ? 'dashed' : 'solid'} ${s.color}"></span>`;
    return `<span class="lg">${sw}${esc(s.label)}</span>`;
  }).join('');
  return `<figure class="plot-card"><figcaption><div class="pt">${esc(p.title)}</div><div class="legend">${legend}</div></figcaption>`
    + `${o.join('')}<p class="help">${p.help}</p></figure>`;
}

function seqPlot(a: ConnAnalysis, d: number, maxPoints: number): string {
  const s = a.ladder.segs;
  const sender = a.ladder.names[d];
  const receiver = a.ladder.names[1 - d];
  const data: Point[] = [];
  const retx: Point[] = [];
  const lost: Point[] = [];
  const acks: Point[] = [];
  const wins: Point[] = [];
  for (const g of s) {
    if (g[2] === d && g[6] > 0) {
      ((g[8] & K_RETX) !== 0 ? retx : data).push([g[0], g[4], g[4] + g[6]]);
      if ((g[8] & K_LOST) !== 0) lost.push([g[0], g[4] + g[6] / 2]);
    }
  }
  // What the sender learns: ACKs and windows as they arrive back at it.
  const back = s.filter((g) => g[2] !== d && (g[3] & ACK) !== 0 && (g[8] & K_LOST) === 0).sort((x, y) => x[1] - y[1]);
  for (const g of back) {
    acks.push([g[1], g[5]]);
    wins.push([g[1], g[5] + g[7]]);
  }
  return renderPlot({
    series: 'seq', host: sender, conn: a.index, t0: a.t0, t1: a.t1, holdUntil: a.t1,
    title: `Sequence numbers, ${sender} → ${receiver} (tcptrace style)`,
    yLabel: 'relative sequence number (bytes)', yFormat: formatBytes,
    help: 'Each bar is a data segment as it leaves the sender, from its first to its last byte; red bars are retransmissions and a ✕ marks a segment lost on the link. '
      + 'The green line is the highest byte acknowledged and the amber line the right edge of the receive window (ACK + window), as the ACKs reach the sender '
      + '(purple bars: SACK blocks, data the receiver holds beyond a hole): '
      + 'bars can only climb up to the amber line. A flat stretch followed by red bars is a loss being repaired.',
    lines: [
      { name: 'window', label: 'receive window edge (ack + win)', color: '#f59e0b', kind: 'step', points: wins, width: 1.4, mayClip: true },
      { name: 'ack', label: 'ACKed', color: '#16a34a', kind: 'step', points: acks, width: 1.6 },
      { name: 'data', label: 'data sent', color: '#2563eb', kind: 'bars', points: data, width: 2 },
      { name: 'retransmit', label: 'retransmitted', color: '#dc2626', kind: 'bars', points: retx, width: 2.6 },
      { name: 'lost', label: 'lost on the link', color: '#b91c1c', kind: 'marks', points: lost, width: 1.8 },
      ...(a.sacks[d].length > 0 ? [{ name: 'sack', label: 'SACK blocks', color: '#a855f7', kind: 'bars' as const, points: a.sacks[d], width: 1.6 }] : []),
    ],
  }, maxPoints);
}

function cwndPlot(a: ConnAnalysis, d: number, maxPoints: number): string {
  const ev = a.cwnds[d];
  const cwnd: Point[] = ev.map((e) => [e.t, e.cwnd]);
  // Bytes in flight as the sender sees them: highest sequence sent minus highest ACK received.
  const flight: Point[] = [];
  const timeline: Array<[number, number, number]> = [];
  for (const g of a.ladder.segs) {
    if (g[2] === d) {
      const consumed = g[6] + ((g[3] & SYN) !== 0 ? 1 : 0) + ((g[3] & FIN) !== 0 ? 1 : 0);
      if (consumed > 0) timeline.push([g[0], 0, g[4] + consumed]);
    } else if ((g[3] & ACK) !== 0 && (g[8] & K_LOST) === 0) {
      timeline.push([g[1], 1, g[5]]);
    }
  }
  timeline.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let sndMax = 0;
  let sndUna = 0;
  let first = true;
  for (const [t, k, v] of timeline) {
    if (k === 0) {
      if (first) {
        sndUna = v - 1;
        first = false;
      }
      sndMax = Math.max(sndMax, v);
    } else if (!first) sndUna = Math.max(sndUna, v);
    if (!first) flight.push([t, Math.max(0, sndMax - sndUna)]);
  }
  let maxSeen = 0;
  for (const p of cwnd) maxSeen = Math.max(maxSeen, p[1]);
  for (const p of flight) maxSeen = Math.max(maxSeen, p[1]);
  // An "infinite" initial ssthresh is left out rather than flattening the plot.
  const ssthresh: Point[] = ev.filter((e) => e.ssthresh < Math.max(4 * maxSeen, 1) && e.ssthresh < 2 ** 30).map((e) => [e.t, e.ssthresh]);
  const host = a.ladder.names[d];
  return renderPlot({
    series: 'cwnd', host, conn: a.index, t0: a.t0, t1: a.t1, holdUntil: a.t1,
    title: `Congestion window, ${host}`,
    yLabel: 'bytes', yFormat: formatBytes,
    note: cwnd.length === 0 ? 'no cwnd events from this host in the trace' : undefined,
    help: 'cwnd is how much unacknowledged data congestion control allows in flight; ssthresh is where slow start (doubling per round trip) gives way to congestion avoidance (one segment per round trip). '
      + 'On a loss detected by three duplicate ACKs, NewReno halves them (fast retransmit); on a timeout, cwnd falls to one segment. '
      + 'The green line is the data actually in flight (sent and not yet acknowledged), computed from the segments. The stack reports cwnd at congestion events; the line holds between them.',
    lines: [
      { name: 'flight', label: 'bytes in flight', color: '#16a34a', kind: 'step', points: flight, width: 1.1 },
      { name: 'ssthresh', label: 'ssthresh', color: '#dc2626', kind: 'step', dash: '6 4', points: ssthresh, width: 1.6 },
      { name: 'cwnd', label: 'cwnd', color: '#2563eb', kind: 'step', points: cwnd, width: 2.2 },
    ],
  }, maxPoints);
}

function rttPlot(a: ConnAnalysis, d: number, maxPoints: number): string {
  const ev = a.rtts[d];
  const host = a.ladder.names[d];
  return renderPlot({
    series: 'rtt', host, conn: a.index, t0: a.t0, t1: a.t1, holdUntil: a.t1,
    title: `Round-trip time and retransmission timeout, ${host}`,
    yLabel: 'milliseconds', yFormat: (v) => formatBytes(v),
    note: ev.length === 0 ? 'no RTT samples from this host in the trace' : undefined,
    help: 'Grey dots are RTT samples (from timestamps or timed segments). srtt is their smoothed mean and RTO = srtt + 4·rttvar (RFC 6298), '
      + 'the time the sender waits for an ACK before it retransmits; it never goes below the minimum RTO.',
    lines: [
      { name: 'sample', label: 'RTT sample', color: '#94a3b8', kind: 'dots', points: ev.map((e) => [e.t, e.sample]), width: 3.2 },
      { name: 'srtt', label: 'srtt', color: '#2563eb', kind: 'line', points: ev.map((e) => [e.t, e.srtt]), width: 2 },
      { name: 'rto', label: 'RTO', color: '#f59e0b', kind: 'step', points: ev.map((e) => [e.t, e.rto]), width: 2 },
    ],
  }, maxPoints);
}

function rwndPlot(a: ConnAnalysis, maxPoints: number): string {
  const colors = ['#7c3aed', '#0891b2'];
  const lines: PlotSeries[] = [0, 1].map((d) => ({
    name: `rwnd-${d === 0 ? 'a' : 'b'}`,
    label: `window advertised by ${a.ladder.names[d]}`,
    color: colors[d],
    kind: 'step' as const,
    width: 1.8,
    points: a.ladder.segs.filter((g) => g[2] === d && (g[3] & RST) === 0).map((g) => [g[0], g[7]]),
  }));
  const scaled = a.scaled;
  return renderPlot({
    series: 'rwnd', conn: a.index, t0: a.t0, t1: a.t1, holdUntil: a.t1,
    title: 'Advertised receive window',
    yLabel: 'bytes', yFormat: formatBytes,
    help: `The window each end advertises in every segment it sends: how many more bytes it can buffer beyond what it has acknowledged (flow control). `
      + (scaled ? 'The 16-bit header field is multiplied by the window scale each end announced in its SYN (RFC 7323). ' : 'Window values are the raw 16-bit header field (no window scaling was negotiated). ')
      + 'It drops when the application reads slower than data arrives; zero means "stop sending".',
    lines,
  }, maxPoints);
}

// ---------------------------------------------------------------------------
// State timeline.

const STATE_COLORS: Record<string, [string, string]> = {
  'CLOSED': ['#e5e7eb', '#4b5563'],
  'LISTEN': ['#c4b5fd', '#6d28d9'],
  'SYN-SENT': ['#fcd34d', '#92400e'],
  'SYN-RECEIVED': ['#fdba74', '#9a3412'],
  'ESTABLISHED': ['#86efac', '#14532d'],
  'FIN-WAIT-1': ['#7dd3fc', '#075985'],
  'FIN-WAIT-2': ['#38bdf8', '#0c4a6e'],
  'CLOSE-WAIT': ['#a5b4fc', '#3730a3'],
  'CLOSING': ['#f9a8d4', '#9d174d'],
  'LAST-ACK': ['#d8b4fe', '#6b21a8'],
  'TIME-WAIT': ['#cbd5e1', '#334155'],
};

function stateColors(s: string): [string, string] {
  return STATE_COLORS[s] ?? ['#e5e7eb', '#374151'];
}

function stateTimeline(a: ConnAnalysis): string {
  const VW = 1300;
  const L = 190;
  const R = 20;
  const ROW = 40;
  const top = 8;
  const h = top + ROW * 2 + 36;
  const X = (t: number): number => L + ((t - a.t0) / (a.t1 - a.t0)) * (VW - L - R);
  const o: string[] = [];
  o.push(`<svg class="timeline" data-conn="${a.index}" data-t0="${a.t0}" data-t1="${a.t1}" data-x0="${L}" data-x1="${VW - R}" data-vw="${VW}"`
    + ` xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${VW} ${h}" font-size="12">`);
  const seen = new Set<string>();
  for (let i = 0; i < 2; i++) {
    const y = top + i * ROW;
    o.push(`<text x="${L - 10}" y="${y + 17}" text-anchor="end" font-weight="700" fill="#111827">${esc(a.ladder.names[i])}</text>`);
    o.push(`<text x="${L - 10}" y="${y + 31}" text-anchor="end" fill="#6b7280" font-size="10.5">${esc(a.ladder.addrs[i])}</text>`);
    o.push(`<rect x="${L}" y="${y + 4}" width="${VW - L - R}" height="${ROW - 8}" fill="#f9fafb" stroke="#e5e7eb"/>`);
    const st = a.ladder.states[i];
    for (let j = 0; j < st.length; j++) {
      const from = st[j][0];
      const until = j + 1 < st.length ? st[j + 1][0] : Infinity;
      if (from > a.t1 + 0.001) break; // state times are rounded to the microsecond
      const xa = X(Math.max(from, a.t0));
      const xb = X(Math.min(until, a.t1));
      const name = st[j][1];
      seen.add(name);
      const [fill, ink] = stateColors(name);
      const beyond = until > a.t1 && Number.isFinite(until) ? ` (→ ${st[j + 1][1]} at ${formatDuration(until)})` : '';
      const title = `${a.ladder.names[i]}: ${name} from ${formatDuration(from)}${Number.isFinite(until) ? ` to ${formatDuration(until)}` : ''}${st[j][2] !== '' ? ` (entered on: ${st[j][2]})` : ''}`;
      o.push(`<rect class="state-band" data-state="${esc(name)}" x="${f1(xa)}" y="${y + 4}" width="${f1(Math.max(0.8, xb - xa))}" height="${ROW - 8}" fill="${fill}"><title>${esc(title)}</title></rect>`);
      const text = name + beyond;
      if (xb - xa > text.length * 7 + 10) o.push(`<text x="${f1(xa + 6)}" y="${y + 24}" fill="${ink}" font-weight="600" pointer-events="none">${esc(text)}</text>`);
      else if (xb - xa > name.length * 7 + 10) o.push(`<text x="${f1(xa + 6)}" y="${y + 24}" fill="${ink}" font-weight="600" pointer-events="none">${esc(name)}</text>`);
      if (j > 0 && from >= a.t0) o.push(`<line x1="${f1(xa)}" x2="${f1(xa)}" y1="${y + 2}" y2="${y + ROW - 2}" stroke="${ink}" stroke-width="1.2"/>`);
    }
  }
  const ay = top + ROW * 2 + 4;
  const tt = timeTicks(a.t0, a.t1, 14);
  o.push(`<line x1="${L}" x2="${VW - R}" y1="${ay}" y2="${ay}" stroke="#6b7280"/>`);
  for (const t of tt.ticks) {
    const x = f1(X(t));
    o.push(`<line x1="${x}" x2="${x}" y1="${ay}" y2="${ay + 4}" stroke="#6b7280"/><text x="${x}" y="${ay + 16}" text-anchor="middle" fill="#4b5563" font-size="11">${tt.label(t)}</text>`);
  }
  o.push(`<text x="${L - 10}" y="${ay + 16}" text-anchor="end" fill="#6b7280" font-size="11">${tt.unit}</text>`);
  o.push(`<rect class="winmark" x="${L}" y="${top + 1}" width="0" height="${ROW * 2 - 2}" fill="#fde68a" fill-opacity="0.18" stroke="#d97706" stroke-width="1.5" rx="2"/>`);
  o.push('</svg>');
  const legend = [...seen].map((s) => `<span class="lg"><span class="sw bar wide" style="background:${stateColors(s)[0]}"></span>${esc(s)}</span>`).join('');
  // Changes after the last segment (TIME-WAIT lasts 2·MSL) are told rather than drawn.
  const later: string[] = [];
  for (let i = 0; i < 2; i++) {
    const st = a.ladder.states[i];
    const after = st.filter((e, j) => j > 0 && e[0] > a.t1 + 0.001);
    if (after.length > 0) {
      const before = st[st.length - after.length - 1];
      later.push(`${esc(a.ladder.names[i])} stays in ${esc(before[1])} beyond the right edge, then ${after.map((e) => `enters ${esc(e[1])} at ${formatDuration(e[0])}${e[2] !== '' ? ` (${esc(e[2])})` : ''}`).join(', ')}.`);
    }
  }
  const laterText = later.length > 0 ? `<p class="explain later">${later.join(' ')}</p>` : '';
  return `<div class="legend states">${legend}</div>${o.join('')}${laterText}`;
}

// ---------------------------------------------------------------------------
// The page.

const CSS = `
:root { --fg:#111827; --muted:#6b7280; --line:#e5e7eb; --accent:#2563eb; }
* { box-sizing: border-box; }
body { margin:0; background:#eef2f7; color:var(--fg); font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif; }
header.top { background:linear-gradient(100deg,#0f172a,#1e3a8a 60%,#2563eb); color:#fff; padding:20px 32px 18px; }
header.top h1 { margin:0; font-size:24px; letter-spacing:.01em; }
header.top .sub { opacity:.82; margin-top:4px; font-size:13.5px; }
header.top select { margin-left:10px; font:inherit; padding:3px 6px; border-radius:6px; border:0; }
main { max-width:1400px; margin:0 auto; padding:8px 24px 48px; }
.card { background:#fff; border-radius:12px; box-shadow:0 1px 3px rgba(15,23,42,.08),0 1px 1px rgba(15,23,42,.04); padding:16px 20px; margin:16px 0; }
h2 { font-size:19px; margin:22px 0 4px; }
h2 .ends { font-weight:400; color:var(--muted); font-size:14px; margin-left:8px; }
h3 { font-size:16px; margin:0 0 8px; }
.stats { display:grid; grid-template-columns:repeat(auto-fill,minmax(270px,1fr)); gap:12px; }
.stat { background:#f8fafc; border:1px solid var(--line); border-radius:10px; padding:10px 14px; }
.stat .k { color:var(--muted); font-size:11.5px; text-transform:uppercase; letter-spacing:.05em; }
.stat .v { font-size:21px; font-weight:650; margin-top:2px; }
.stat .d { color:var(--muted); font-size:12.5px; }
.stat.warn .v { color:#b91c1c; }
.stat.small .v { font-size:15px; padding-top:5px; }
.ladder-layout { display:flex; gap:18px; align-items:flex-start; }
.ladder-main { flex:0 0 auto; }
.ladder-side { flex:1 1 190px; min-width:190px; font-size:13px; color:#374151; }
.ladder-box { overflow-x:auto; border:1px solid var(--line); border-radius:8px; background:#fff; }
.ladder-controls { display:flex; flex-wrap:wrap; align-items:center; gap:6px; margin:4px 0 10px; }
.ladder-controls button { font:inherit; font-size:13px; padding:4px 10px; border-radius:7px; border:1px solid #cbd5e1; background:#f8fafc; cursor:pointer; }
.ladder-controls button:hover { background:#e0e7ff; border-color:#818cf8; }
.ladder-controls input[type=range] { flex:1 1 200px; min-width:160px; accent-color:var(--accent); }
.ladder-info { color:var(--muted); font-size:12.5px; margin:0 0 8px; }
.seg:hover line:not(.hit) { stroke-width:3.2; }
svg.ladder text.lbl { paint-order:stroke; stroke:#ffffff; stroke-width:3px; stroke-linejoin:round; }
.seg { cursor:default; }
.key { list-style:none; padding:0; margin:8px 0 14px; }
.key li { display:flex; align-items:center; gap:8px; margin:5px 0; }
.key svg { flex:0 0 auto; }
.plots { display:grid; grid-template-columns:repeat(auto-fit,minmax(600px,1fr)); gap:16px; }
.plot-card { margin:0; background:#fff; border-radius:12px; box-shadow:0 1px 3px rgba(15,23,42,.08); padding:14px 16px 10px; }
.plot-card svg { width:100%; height:auto; display:block; cursor:crosshair; }
.plot-card .pt { font-weight:650; font-size:15px; }
.plot-card .help, .explain { color:#4b5563; font-size:12.5px; margin:6px 2px 2px; }
.legend { display:flex; flex-wrap:wrap; gap:4px 14px; font-size:12.5px; color:#374151; margin:4px 0 6px; }
.lg { display:inline-flex; align-items:center; gap:6px; }
.sw { display:inline-block; width:22px; height:0; }
.sw.dot { width:8px; height:8px; border-radius:50%; }
.sw.bar { width:5px; height:14px; border-radius:1px; }
.sw.bar.wide { width:18px; height:12px; border-radius:3px; }
.sw.mark { width:auto; height:auto; font-weight:700; }
svg.timeline { width:100%; height:auto; display:block; cursor:crosshair; }
.empty { color:var(--muted); font-style:italic; }
footer { color:var(--muted); font-size:12px; text-align:center; margin-top:24px; }
code { background:#f1f5f9; padding:0 4px; border-radius:4px; font-size:12.5px; }
`;

const ON_ERROR = `window.onerror=function(m){document.body.setAttribute('data-status','error: '+String(m));};`
  + `window.addEventListener('unhandledrejection',function(e){document.body.setAttribute('data-status','error: '+String(e.reason));});`;

function keyItem(svgInner: string, text: string): string {
  return `<li><svg width="46" height="16" viewBox="0 0 46 16">${svgInner}</svg><span>${text}</span></li>`;
}

function ladderKey(): string {
  const arrow = (c: string, w = 1.6, dash = ''): string => `<line x1="2" y1="4" x2="36" y2="11" stroke="${c}" stroke-width="${w}"${dash}/><path d="M44 13L35 7.5L34 14Z" fill="${c}"/>`;
  return `<ul class="key">`
    + keyItem(arrow('#7c3aed'), 'SYN or FIN (opens / closes a direction)')
    + keyItem(arrow('#2563eb'), 'data segment')
    + keyItem(arrow('#64748b', 1.1), 'pure ACK')
    + keyItem(arrow('#ea580c', 1.1), 'duplicate ACK (the same ACK again: a hole at the receiver)')
    + keyItem(arrow('#dc2626', 2), 'retransmission')
    + keyItem(arrow('#111827', 2), 'RST (abort)')
    + keyItem('<line x1="2" y1="4" x2="26" y2="10" stroke="#2563eb" stroke-width="1.5" stroke-dasharray="6 3"/><path d="M22 4l10 10m0 -10l-10 10" stroke="#dc2626" stroke-width="2.6" stroke-linecap="round"/>', 'lost on the link: sent, never received')
    + `</ul>`;
}

function bytesText(v: number): string {
  const t = formatBytes(v);
  return /[kMG]$/.test(t) ? `${t.slice(0, -1)} ${t.slice(-1)}B` : `${t} B`;
}

function statCard(k: string, v: string, d: string, warn = false, small = false): string {
  return `<div class="stat${warn ? ' warn' : ''}${small ? ' small' : ''}"><div class="k">${esc(k)}</div><div class="v">${esc(v)}</div><div class="d">${esc(d)}</div></div>`;
}

function summary(a: ConnAnalysis): string {
  const [s0, s1] = a.stats;
  const n = a.ladder.names;
  const dur = a.t1 - a.t0;
  const lost = s0.lost + s1.lost;
  const retx = s0.retransmissions + s1.retransmissions;
  const reasons = [...a.retxReasons].map(([r, c]) => `${c}× ${r}`).join(', ');
  const samples = [...a.rtts[0], ...a.rtts[1]].map((e) => e.sample);
  const minRtt = samples.length > 0 ? Math.min(...samples) : NaN;
  const avgRtt = samples.length > 0 ? samples.reduce((x, y) => x + y, 0) / samples.length : NaN;
  const maxRtt = samples.length > 0 ? Math.max(...samples) : NaN;
  const mainSender = s0.uniquePayload >= s1.uniquePayload ? 0 : 1;
  const useful = a.stats[mainSender].uniquePayload;
  const goodput = dur > 0 ? (useful * 8) / (dur / 1000) : 0;
  const rate = useful === 0 ? '–' : goodput >= 1e6 ? `${(goodput / 1e6).toFixed(2)} Mbit/s` : `${(goodput / 1e3).toFixed(1)} kbit/s`;
  const cards = [
    statCard('duration', formatDuration(dur), `first to last segment${Number.isFinite(a.lastStateT) && a.lastStateT > a.t1 ? `; last state change at ${formatDuration(a.lastStateT)}` : ''}`),
    statCard('segments', `${s0.segments + s1.segments}`, `${s0.segments} ${n[0]} → ${n[1]}, ${s1.segments} back`),
    statCard('data', `${bytesText(s0.payload)} / ${bytesText(s1.payload)}`, `payload ${n[0]} → ${n[1]} / back, retransmissions included`),
    statCard('goodput', rate, useful === 0 ? 'no data was sent' : `${bytesText(useful)} of new data from ${n[mainSender]} over the duration`),
    statCard('lost on the link', `${lost}`, `${s0.lost} ${n[0]} → ${n[1]}, ${s1.lost} back`, lost > 0),
    statCard('retransmissions', `${retx}`, reasons === '' ? 'none' : reasons, retx > 0),
    statCard('round-trip time', samples.length > 0 ? formatDuration(avgRtt) : '–', samples.length > 0 ? `mean of ${samples.length} samples; min ${formatDuration(minRtt)}, max ${formatDuration(maxRtt)}` : 'no RTT samples in the trace'),
    statCard('final states', `${a.finalStates[0]} / ${a.finalStates[1]}`, `${n[0]} / ${n[1]}`, false, true),
  ];
  return `<div class="stats">${cards.join('')}</div>`;
}

function initialView(a: ConnAnalysis, maxArrows: number): { start: number; span: number } {
  const full = Math.max(a.t1 - a.t0, 1e-3);
  if (!Number.isFinite(maxArrows)) return { start: a.t0, span: full };
  // Enough time for about 40 segments (the handshake and the start of the transfer), in round numbers.
  const segs = a.ladder.segs;
  const k = Math.min(segs.length, 40);
  let span = full;
  if (k > 0 && segs.length > k) {
    const until = Math.max(segs[k - 1][1], segs[k - 1][0]);
    span = Math.max(until - a.t0, 1e-3) * 1.08;
    const step = niceStep(span, 1);
    span = Math.min(full, Math.ceil(span / step) * step);
  }
  return { start: a.t0, span };
}

function section(a: ConnAnalysis, opts: Required<ReportOptions>, pageData: PageData, hidden: boolean): string {
  const view = initialView(a, opts.maxArrows);
  const maxArrows = Number.isFinite(opts.maxArrows) ? Math.max(1, Math.floor(opts.maxArrows)) : 0;
  const first = ladderSvg(a.ladder, { start: view.start, span: view.span, maxArrows });
  const total = a.ladder.segs.length;
  const truncated = a.records.length - total;
  pageData.conns.push({ ladder: a.ladder, start: view.start, span: view.span, total: a.records.length, truncated });
  const n = a.ladder.names;
  const plots: string[] = [];
  // Congestion and RTT plots for the ends that send data (or, with no data at all, for any end with such events).
  const senders = [0, 1].filter((d) => a.stats[d].payload > 0);
  const ends = senders.length > 0 ? senders : [0, 1].filter((d) => a.cwnds[d].length > 0 || a.rtts[d].length > 0);
  for (const d of senders) plots.push(seqPlot(a, d, opts.maxPoints));
  for (const d of ends) plots.push(cwndPlot(a, d, opts.maxPoints));
  for (const d of ends) plots.push(rttPlot(a, d, opts.maxPoints));
  if (a.ladder.segs.length > 0) plots.push(rwndPlot(a, opts.maxPoints));
  const info = `${formatDuration(view.start)} – ${formatDuration(view.start + view.span)}: ${first.shown} of ${a.records.length} segments`;
  return `<section class="conn" data-conn="${a.index}"${hidden ? ' hidden' : ''}>
<h2>Connection ${a.index + 1}<span class="ends">${esc(n[0])} ${esc(a.ladder.addrs[0])} ⇄ ${esc(n[1])} ${esc(a.ladder.addrs[1])}</span></h2>
<div class="card">${summary(a)}</div>
<div class="card ladder-card" id="c${a.index}-ladder">
<h3>Sequence diagram</h3>
<div class="ladder-layout"><div class="ladder-main">
<div class="ladder-controls">
<button data-act="first" title="go to the start">« start</button>
<button data-act="prev" title="earlier in time">▲ earlier</button>
<button data-act="next" title="later in time">▼ later</button>
<button data-act="zin" title="show less time, more detail">+ zoom in</button>
<button data-act="zout" title="show more time">− zoom out</button>
<button data-act="last" title="go to the end">end »</button>
<button data-act="all" title="the whole connection">whole connection</button>
<input class="ladder-pos" type="range" min="0" max="1000" value="0" title="position in time" aria-label="position in time">
</div>
<p class="ladder-info">${esc(info)}</p>
<div class="ladder-box">${first.svg}</div>
</div>
<aside class="ladder-side">
<p><b>How to read it.</b> Time runs downwards. Each arrow is one TCP segment: it leaves the sender's column when it was sent and reaches the other column when it arrived, so its slope is the time it spent on the link.
The label beside the sender gives the flags, then <code>seq</code>, <code>ack</code> (relative: each side's first sequence number, its ISN, counts as 0), the payload <code>len</code> and the advertised window <code>win</code> in bytes.</p>
${ladderKey()}
<p>The coloured bar on each column is that end's TCP state; each change is named beside it. Hover over an arrow for every detail (options, SACK blocks, why it was retransmitted).</p>
<p>Browse with the buttons or the slider, or click on any plot or on the state timeline below to show that moment here (the shaded band on the plots is the part shown).</p>
</aside></div>
</div>
<div class="card" id="c${a.index}-states"><h3>TCP state of each end over time</h3>${stateTimeline(a)}
<p class="explain">${esc(n[0])} opened the connection (active open: SYN-SENT); ${esc(n[1])} answered it (passive open: SYN-RECEIVED). The end that closes first passes through FIN-WAIT and waits in TIME-WAIT (2·MSL) before CLOSED; the other passes through CLOSE-WAIT and LAST-ACK.</p></div>
<div class="plots" id="c${a.index}-plots">${plots.join('\n')}</div>
</section>`;
}

/** One self-contained HTML page showing the trace. */
export function renderReport(events: TraceEvent[], opts: ReportOptions = {}): string {
  const options: Required<ReportOptions> = {
    title: opts.title ?? 'TCP trace report',
    maxArrows: opts.maxArrows ?? 300,
    maxPoints: Math.max(8, opts.maxPoints ?? 2000),
    maxLadderSegments: Math.max(1, opts.maxLadderSegments ?? 50_000),
  };
  const traced = new Set<string>();
  let segments = 0;
  let tMin = Infinity;
  let tMax = -Infinity;
  for (const ev of events) {
    if (ev === null || typeof ev !== 'object') continue;
    if (typeof ev.stack === 'string') traced.add(ev.stack);
    if (ev.type === 'segment') segments++;
    if (typeof ev.t === 'number') {
      tMin = Math.min(tMin, ev.t);
      tMax = Math.max(tMax, ev.t);
    }
  }
  const conns = groupConnections(events).map((c, i) => analyse(c, i, traced, options.maxLadderSegments));
  const pageData: PageData = { maxArrows: Number.isFinite(options.maxArrows) ? Math.max(1, Math.floor(options.maxArrows)) : 0, conns: [] };
  const sections = conns.map((a, i) => section(a, options, pageData, i > 0));
  let selector = '';
  if (conns.length > 1) {
    selector = `<label>· showing <select id="conn-select">${conns.map((a) => `<option value="${a.index}">${a.index + 1}: ${esc(a.ladder.names[0])} ${esc(a.ladder.addrs[0])} ⇄ ${esc(a.ladder.names[1])} ${esc(a.ladder.addrs[1])} (${a.records.length} segments)</option>`).join('')}</select></label>`;
  }
  const hosts = [...traced].join(', ');
  const span = Number.isFinite(tMin) ? `${formatDuration(tMin)} – ${formatDuration(tMax)} (virtual time)` : 'no events';
  const json = JSON.stringify(pageData).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  const script = `try{(${pageScript.toString()})(${ladderSvg.toString()},document);`
    + `if(document.body.getAttribute('data-status')==='loading')document.body.setAttribute('data-status','ok');}`
    + `catch(e){document.body.setAttribute('data-status','error: '+(e&&e.message?e.message:String(e)));}`;
  if (/<\/script|<!--/i.test(script)) throw new Error('page script would end its own <script> element');
  const body = conns.length === 0
    ? '<div class="card"><p class="empty">There are no TCP segments or connections in this trace.</p></div>'
    : sections.join('\n');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(options.title)}</title>
<style>${CSS}</style>
</head>
<body data-status="loading">
<script>${ON_ERROR}</script>
<header class="top"><h1>${esc(options.title)}</h1>
<div class="sub">${events.length} events, ${segments} segment events, from ${esc(hosts === '' ? 'no hosts' : hosts)} · ${esc(span)} · ${conns.length} TCP connection${conns.length === 1 ? '' : 's'} ${selector}</div></header>
<main>
${body}
<footer>made by tcplab · every time is virtual time from the trace</footer>
</main>
<script type="application/json" id="tcplab-data">${json}</script>
<script>${script}</script>
</body></html>
`;
}
