// Axis ticks and the formatting of numbers, durations and text shared by the
// plots, the state timeline and the page.

export function niceStep(span: number, target: number): number {
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

export function timeTicks(t0: number, t1: number, target: number): { ticks: number[]; label: (t: number) => string; unit: string } {
  const span = t1 - t0;
  const seconds = span >= 5000;
  const scale = seconds ? 1000 : 1;
  const step = niceStep(span / scale, target) * scale;
  const dec = decimalsFor(step / scale);
  const ticks: number[] = [];
  for (let t = Math.ceil(t0 / step) * step; t <= t1 + step * 1e-9; t += step) ticks.push(t);
  return { ticks, label: (t) => (t / scale).toFixed(dec), unit: seconds ? 'time (s)' : 'time (ms)' };
}

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function f1(v: number): string {
  return (Math.round(v * 10) / 10).toString();
}
