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
// This file takes the options and composes the parts, which live beside it:
// analysis.ts (connections and segment pairing), ladder.ts (the sequence
// diagram), plots.ts, timeline.ts (the state timeline), page.ts (the sections
// and the page shell), page-script.ts (the page's inline script) and
// format.ts (the ticks and formatting they share).
//
// The ladder renderer `ladderSvg` and the page script `pageScript` are
// written in TypeScript and shipped to the page as their own source text
// (Function.prototype.toString), so the first view rendered here and every
// view rendered in the browser come from the same code. Neither may refer to
// anything outside its own body.

import type { TraceEvent } from '../../stack/trace';
import { analyse, groupConnections } from './analysis';
import { renderPage } from './page';

export { downsample } from './plots';
export { formatBytes, formatDuration } from './format';
export { ladderSvg, type LadderData, type LadderRender, type LadderSeg, type LadderView } from './ladder';
export type { PageData } from './page-script';

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
  return renderPage(conns, options, { events: events.length, segments, hosts: traced, tMin, tMax });
}
