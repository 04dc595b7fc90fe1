// The page: its style sheet, the per-connection sections (summary cards, the
// ladder with its controls and key, the state timeline, the plots) and the
// shell around them, with the page data and the page script inline.

import type { ConnAnalysis } from './analysis';
import { esc, formatBytes, formatDuration, niceStep } from './format';
import { ladderSvg } from './ladder';
import { pageScript, type PageData } from './page-script';
import { cwndPlot, rttPlot, rwndPlot, seqPlot } from './plots';
import { stateTimeline } from './timeline';

/** The report options the page reads (ReportOptions with their defaults applied). */
export interface PageOptions {
  title: string;
  maxArrows: number;
  maxPoints: number;
}

/** What the page's header says about the whole trace. */
export interface TraceSummary {
  /** Events in the trace. */
  events: number;
  /** Segment events among them. */
  segments: number;
  /** The stacks that traced them. */
  hosts: Set<string>;
  /** Times of the first and the last event (Infinity and -Infinity without any). */
  tMin: number;
  tMax: number;
}

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

function section(a: ConnAnalysis, opts: PageOptions, pageData: PageData, hidden: boolean): string {
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

/** The whole page: the shell around a section per connection. */
export function renderPage(conns: ConnAnalysis[], options: PageOptions, trace: TraceSummary): string {
  const pageData: PageData = { maxArrows: Number.isFinite(options.maxArrows) ? Math.max(1, Math.floor(options.maxArrows)) : 0, conns: [] };
  const sections = conns.map((a, i) => section(a, options, pageData, i > 0));
  let selector = '';
  if (conns.length > 1) {
    selector = `<label>· showing <select id="conn-select">${conns.map((a) => `<option value="${a.index}">${a.index + 1}: ${esc(a.ladder.names[0])} ${esc(a.ladder.addrs[0])} ⇄ ${esc(a.ladder.names[1])} ${esc(a.ladder.addrs[1])} (${a.records.length} segments)</option>`).join('')}</select></label>`;
  }
  const hosts = [...trace.hosts].join(', ');
  const span = Number.isFinite(trace.tMin) ? `${formatDuration(trace.tMin)} – ${formatDuration(trace.tMax)} (virtual time)` : 'no events';
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
<div class="sub">${trace.events} events, ${trace.segments} segment events, from ${esc(hosts === '' ? 'no hosts' : hosts)} · ${esc(span)} · ${conns.length} TCP connection${conns.length === 1 ? '' : 's'} ${selector}</div></header>
<main>
${body}
<footer>made by tcplab · every time is virtual time from the trace</footer>
</main>
<script type="application/json" id="tcplab-data">${json}</script>
<script>${script}</script>
</body></html>
`;
}
