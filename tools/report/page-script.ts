// The page's inline script, `pageScript`: browsing of each ladder (buttons,
// slider, a click on a plot or the state timeline) and the connection
// selector. Like ladderSvg it is shipped to the page as its own source text,
// so it may refer to nothing outside its own body.

import type { LadderData, ladderSvg } from './ladder';

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
export function pageScript(render: typeof ladderSvg, doc: PageDocument): void {
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
