// The plots of one connection over time: sequence numbers (tcptrace style),
// congestion window, RTT and RTO, advertised receive windows. Each is an SVG
// figure with its legend and help text; every series is downsampled to a
// bounded number of points.

import type { ConnAnalysis, Point } from './analysis';
import { esc, f1, formatBytes, niceStep, timeTicks } from './format';
import { ACK, FIN, K_LOST, K_RETX, RST, SYN } from './ladder';

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

export function seqPlot(a: ConnAnalysis, d: number, maxPoints: number): string {
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

export function cwndPlot(a: ConnAnalysis, d: number, maxPoints: number): string {
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

export function rttPlot(a: ConnAnalysis, d: number, maxPoints: number): string {
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

export function rwndPlot(a: ConnAnalysis, maxPoints: number): string {
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
