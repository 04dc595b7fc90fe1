// The state timeline of one connection: a band per end coloured by its TCP
// state over time, with the changes after the last segment told in words.

import type { ConnAnalysis } from './analysis';
import { esc, f1, formatDuration, timeTicks } from './format';

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

export function stateTimeline(a: ConnAnalysis): string {
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
