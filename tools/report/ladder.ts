// The ladder (sequence) diagram of one connection: the encoding of its
// segments (LadderSeg, with the TCP flag and kind bits the analysis and the
// plots read from it) and `ladderSvg`, which draws one time window as SVG.
// ladderSvg runs both when the report is written (the page's first view) and
// in the page, shipped as its own source text (Function.prototype.toString):
// it may refer to nothing outside its own body.

// TCP header flags (LadderSeg index 3), as on the wire; ladderSvg repeats them as literals.
export { TCP_ACK as ACK, TCP_FIN as FIN, TCP_RST as RST, TCP_SYN as SYN } from '../../stack/wire/tcp';

// Bits of a ladder segment's kind (LadderSeg index 8); ladderSvg repeats them.
export const K_LOST = 1;
export const K_RETX = 2;
export const K_DUP = 4;
export const K_ESTIMATED = 8;
export const K_PROBE = 16;

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
