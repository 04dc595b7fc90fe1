import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { Lab } from '../../tools/lab/lab';
import { parseIpv4Address } from '../../stack/wire/ipv4';
import type { TraceEvent } from '../../stack/trace';
import type { TcpConnection } from '../../stack/tcp/connection';
import type { LinkOptions } from '../../devices/link';
import { renderReport, ladderSvg, downsample, type LadderData } from '../../tools/report/report';
import { reportCommand, parseTraceLines } from '../../tools/report/cli';

interface Run {
  events: TraceEvent[];
  /** Frames the link lost, both directions. */
  lost: number;
  /** Frames offered to the link, both directions. */
  sent: number;
  received: number;
}

/** A client sends `bytes` to a server over a lossy link and both close; every event of both hosts is kept. */
function transfer(opts: { seed: number; bytes: number; link: LinkOptions; connections?: number }): Run {
  const lab = new Lab({ seed: opts.seed, record: false });
  const client = lab.host('client');
  const server = lab.host('server');
  const link = lab.link(client, server, { addressA: '10.0.0.1/24', addressB: '10.0.0.2/24', ...opts.link });
  const events: TraceEvent[] = [];
  for (const h of [client, server]) h.tracer.on((ev) => events.push(ev));
  let received = 0;
  server.tcp.listen({ port: 80 }, {
    onConnection(c) {
      c.attach({
        onReadable(conn) {
          let chunk: Uint8Array | null;
          while ((chunk = conn.read()) !== null) received += chunk.length;
        },
        onEnd(conn) {
          conn.shutdown();
        },
      });
    },
  });
  const data = new Uint8Array(opts.bytes);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
  for (let k = 0; k < (opts.connections ?? 1); k++) {
    let off = 0;
    const pump = (c: TcpConnection): void => {
      while (off < data.length) {
        const n = c.send(data.subarray(off));
        if (n === 0) return;
        off += n;
      }
      c.shutdown();
    };
    client.tcp.connect({ remoteAddress: parseIpv4Address('10.0.0.2'), remotePort: 80 }, { onConnect: pump, onWritable: pump });
  }
  lab.runUntilIdle();
  const s = link.stats;
  return { events, lost: s.aToB.lost + s.bToA.lost, sent: s.aToB.sent + s.bToA.sent, received };
}

function count(html: string, re: RegExp): number {
  return (html.match(re) ?? []).length;
}

function segmentsOut(events: TraceEvent[]): number {
  return events.filter((e) => e.type === 'segment' && e.dir === 'out').length;
}

/** Every `<svg class="plot" ...>` opening tag's series name and point count. */
function plots(html: string): Array<{ series: string; points: number }> {
  return [...html.matchAll(/<svg class="plot" data-series="([a-z-]+)"[^>]*?data-points="(\d+)"/g)].map((m) => ({ series: m[1], points: Number(m[2]) }));
}

const lossy = transfer({ seed: 3, bytes: 200_000, link: { delayMs: 20, rateBps: 10e6, loss: 0.03 } });

test('the lossy run used for these tests lost frames and still delivered everything', (t) => {
  t.true(lossy.lost >= 3, `lost ${lossy.lost}`);
  t.is(lossy.received, 200_000);
});

test('complete mode: one arrow per sent segment, and exactly the link\'s losses are drawn lost', (t) => {
  const html = renderReport(lossy.events, { maxArrows: Infinity });
  const arrows = count(html, /class="seg( lost)?"/g);
  t.is(arrows, segmentsOut(lossy.events));
  t.is(arrows, lossy.sent, 'every frame on the link was a TCP segment of this connection');
  t.is(count(html, /class="seg lost"/g), lossy.lost);
  // A lost arrow ends in a cross partway, with no arrowhead.
  const lost = /<g class="seg lost"[^>]*>(.*?)<\/g>/s.exec(html);
  t.truthy(lost);
  t.regex(lost![1], /stroke-dasharray/);
  t.regex(lost![1], /<path d="M[\d.]+ [\d.]+l12 12m0 -12l-12 12"/);
});

test('labels use sequence numbers relative to each side\'s ISN, and retransmissions are marked', (t) => {
  const html = renderReport(lossy.events, { maxArrows: Infinity });
  t.regex(html, /<tspan font-weight="700">\[SYN\]<\/tspan> seq=0 win=65535/);
  t.regex(html, /<tspan font-weight="700">\[SYN, ACK\]<\/tspan> seq=0 ack=1 win=65535/);
  const retransmits = lossy.events.filter((e) => e.type === 'retransmit').length;
  t.true(retransmits > 0);
  t.true(count(html, /data-kind="retx"/g) >= retransmits);
  for (const e of lossy.events) if (e.type === 'retransmit') t.true(html.includes(`retransmission: ${e.reason}`), e.reason);
  t.true(count(html, /data-kind="dup"/g) >= 3, 'duplicate ACKs precede a fast retransmit');
});

test('plots have data points, per series at most the bound', (t) => {
  const html = renderReport(lossy.events);
  const ps = plots(html);
  for (const series of ['seq', 'cwnd', 'rtt', 'rwnd']) {
    const p = ps.find((x) => x.series === series);
    t.truthy(p, `plot ${series}`);
    t.true(p!.points > 0, `plot ${series} has points`);
  }
  const lines = [...html.matchAll(/<path class="line" data-series="([a-z-]+)" data-points="(\d+)"/g)];
  for (const name of ['cwnd', 'flight', 'srtt', 'rto', 'sample', 'ack', 'data', 'rwnd-a', 'rwnd-b']) {
    const l = lines.find((m) => m[1] === name);
    t.truthy(l, `series ${name}`);
    t.true(Number(l![2]) > 0, `series ${name} has points`);
  }
  for (const l of lines) t.true(Number(l[2]) <= 2000);
});

test('state timeline: a coloured band per state of each end', (t) => {
  const html = renderReport(lossy.events);
  const bands = [...html.matchAll(/class="state-band" data-state="([A-Z-0-9]+)"/g)].map((m) => m[1]);
  for (const s of ['SYN-SENT', 'SYN-RECEIVED', 'ESTABLISHED', 'FIN-WAIT-1', 'LAST-ACK']) t.true(bands.includes(s), `band ${s}`);
  // Every state entered up to the last segment has its band, plus the CLOSED before the first change of each end.
  let lastSegment = 0;
  for (const e of lossy.events) if (e.type === 'segment') lastSegment = Math.max(lastSegment, e.t);
  const changes = lossy.events.filter((e) => e.type === 'state' && e.t <= lastSegment).length;
  t.is(bands.length, changes + 2);
  // The ladder names the changes on each column.
  t.regex(html, /→ ESTABLISHED/);
  t.regex(html, /→ SYN-RECEIVED/);
  // TIME-WAIT lasts long past the last segment: told in words.
  t.regex(html, /stays in TIME-WAIT beyond the right edge, then enters CLOSED/);
});

test('the page is self-contained: no external resources, and its script reports its status', (t) => {
  const html = renderReport(lossy.events, { title: 'a <lossy> run' });
  t.regex(html, /^<!DOCTYPE html>/);
  t.regex(html, /<title>a &lt;lossy&gt; run<\/title>/);
  t.notRegex(html, /<(script|link|img)[^>]+(src|href)=/i);
  t.notRegex(html, /url\((?!#)/);
  t.regex(html, /<body data-status="loading">/);
  t.regex(html, /window\.onerror/);
  t.regex(html, /setAttribute\('data-status','ok'\)/);
});

test('default mode draws a bounded number of arrows at once and keeps every segment for browsing', (t) => {
  const html = renderReport(lossy.events, { maxArrows: 50 });
  const arrows = count(html, /class="seg( lost)?"/g);
  t.true(arrows > 0 && arrows <= 50, `${arrows} arrows`);
  const data = /<script type="application\/json" id="tcplab-data">(.*?)<\/script>/s.exec(html);
  t.truthy(data);
  const page = JSON.parse(data![1]) as { maxArrows: number; conns: Array<{ ladder: LadderData; total: number }> };
  t.is(page.maxArrows, 50);
  t.is(page.conns.length, 1);
  t.is(page.conns[0].ladder.segs.length, segmentsOut(lossy.events));
  // The renderer the page runs draws all of them for the whole connection.
  const l = page.conns[0].ladder;
  const all = ladderSvg(l, { start: l.t0, span: l.t1 - l.t0, maxArrows: 0 });
  t.is(all.shown, l.segs.length);
  t.is(count(all.svg, /class="seg lost"/g), lossy.lost);
});

test('the ladder renderer draws only the segments crossing its time window', (t) => {
  const html = renderReport(lossy.events);
  const page = JSON.parse(/id="tcplab-data">(.*?)<\/script>/s.exec(html)![1]) as { conns: Array<{ ladder: LadderData }> };
  const l = page.conns[0].ladder;
  const r = ladderSvg(l, { start: 100, span: 50, maxArrows: 0 });
  const expected = l.segs.filter((s) => s[0] <= 150 && s[1] >= 100).length;
  t.true(expected > 0);
  t.is(r.inWindow, expected);
  t.is(count(r.svg, /class="seg( lost)?"/g), expected);
  const capped = ladderSvg(l, { start: 100, span: 50, maxArrows: 3 });
  t.is(capped.shown, 3);
  t.is(count(capped.svg, /class="seg( lost)?"/g), 3);
});

test('several connections: one section each and a selector', (t) => {
  const run = transfer({ seed: 5, bytes: 20_000, link: { delayMs: 5 }, connections: 2 });
  const html = renderReport(run.events, { maxArrows: Infinity });
  t.is(count(html, /<section class="conn"/g), 2);
  t.regex(html, /<select id="conn-select">/);
  t.is(count(html, /<option value=/g), 2);
  t.is(count(html, /class="seg( lost)?"/g), segmentsOut(run.events));
  t.is(count(html, /class="seg lost"/g), 0);
});

test('a trace without TCP renders a page that says so', (t) => {
  const html = renderReport([]);
  t.regex(html, /no TCP segments or connections/);
  t.regex(html, /data-status="loading"/);
});

test('a trace of one side only: arrows still drawn, with estimated times instead of losses', (t) => {
  const clientOnly = lossy.events.filter((e) => e.stack === 'client');
  const html = renderReport(clientOnly, { maxArrows: Infinity });
  const clientOut = clientOnly.filter((e) => e.type === 'segment' && e.dir === 'out').length;
  const clientIn = clientOnly.filter((e) => e.type === 'segment' && e.dir === 'in').length;
  t.is(count(html, /class="seg( lost)?"/g), clientOut + clientIn);
  t.is(count(html, /class="seg lost"/g), 0);
});

test('downsample keeps at most the bound and the extremes of each bucket', (t) => {
  const pts: number[][] = [];
  for (let i = 0; i < 100_000; i++) pts.push([i / 10, Math.sin(i / 50) * 100 + (i === 54_321 ? 1000 : 0)]);
  const line = downsample(pts, 'step', 0, 10_000, 2000);
  t.true(line.length <= 2000);
  t.is(Math.max(...line.map((p) => p[1])), pts[54_321][1], 'the spike survives');
  t.true(pts[54_321][1] > 800);
  for (let i = 1; i < line.length; i++) t.true(line[i][0] >= line[i - 1][0]);
  const bars = downsample(pts.map((p) => [p[0], p[1], p[1] + 5]), 'bars', 0, 10_000, 500);
  t.true(bars.length <= 500);
  t.is(downsample(pts.slice(0, 10), 'line', 0, 1, 2000).length, 10);
});

// A 10-second run of about 10,000 segments.
const long = transfer({ seed: 3, bytes: 9_000_000, link: { delayMs: 20, rateBps: 8e6, loss: 0.005 } });

test('a 10,000-segment run renders quickly into a page of bounded size', (t) => {
  const n = segmentsOut(long.events);
  t.true(n >= 9000, `${n} segments`);
  const t0 = performance.now();
  const html = renderReport(long.events);
  const ms = performance.now() - t0;
  t.true(ms < 5000, `rendered in ${ms.toFixed(0)} ms`);
  t.true(html.length < 2_000_000, `${html.length} bytes`);
  t.true(count(html, /class="seg( lost)?"/g) <= 300);
  for (const p of plots(html)) t.true(p.points > 0);
  for (const m of html.matchAll(/<path class="line" data-series="[a-z-]+" data-points="(\d+)"/g)) t.true(Number(m[1]) <= 2000);
  // The browsing data is bounded too.
  const small = renderReport(long.events, { maxLadderSegments: 1000 });
  t.true(small.length < 400_000, `${small.length} bytes`);
  t.regex(small, /"truncated":\d{4}/);
});

test('a 10,000-segment run in complete mode still has one arrow per segment', (t) => {
  const html = renderReport(long.events, { maxArrows: Infinity });
  t.is(count(html, /class="seg( lost)?"/g), segmentsOut(long.events));
  t.is(count(html, /class="seg lost"/g), long.lost);
});

// The command.

function capture(fn: () => number): { code: number; out: string; err: string } {
  const out: string[] = [];
  const err: string[] = [];
  const wo = process.stdout.write.bind(process.stdout);
  const we = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string | Uint8Array) => { out.push(String(s)); return true; }) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => { err.push(String(s)); return true; }) as typeof process.stderr.write;
  try {
    return { code: fn(), out: out.join(''), err: err.join('') };
  } finally {
    process.stdout.write = wo;
    process.stderr.write = we;
  }
}

test('tcplab report: JSON Lines in, HTML out, the output path printed', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tcplab-report-'));
  const trace = join(dir, 'trace.jsonl');
  writeFileSync(trace, lossy.events.map((e) => JSON.stringify(e)).join('\n') + '\n');
  const out = join(dir, 'out.html');
  const r = capture(() => reportCommand([trace, '-o', out, '--max-arrows', 'all']));
  t.is(r.code, 0, r.err);
  t.is(r.out.trim(), out);
  const html = readFileSync(out, 'utf8');
  t.is(count(html, /class="seg( lost)?"/g), segmentsOut(lossy.events));
  // Without -o, the trace's name with .html.
  const r2 = capture(() => reportCommand([trace]));
  t.is(r2.code, 0);
  t.is(r2.out.trim(), join(dir, 'trace.html'));
  t.true(existsSync(join(dir, 'trace.html')));
});

test('tcplab report: bad arguments exit 2, unreadable or malformed traces exit 1', (t) => {
  t.is(capture(() => reportCommand([])).code, 2);
  t.is(capture(() => reportCommand(['a.jsonl', '-o'])).code, 2);
  t.is(capture(() => reportCommand(['a.jsonl', '--bogus'])).code, 2);
  t.is(capture(() => reportCommand(['a.jsonl', 'b.jsonl'])).code, 2);
  t.is(capture(() => reportCommand(['a.jsonl', '--max-arrows', '0'])).code, 2);
  t.is(capture(() => reportCommand(['-', ])).code, 2);
  const dir = mkdtempSync(join(tmpdir(), 'tcplab-report-'));
  const missing = capture(() => reportCommand([join(dir, 'missing.jsonl')]));
  t.is(missing.code, 1);
  t.regex(missing.err, /cannot read/);
  const bad = join(dir, 'bad.jsonl');
  writeFileSync(bad, '{"type":"state","t":0}\nnot json\n');
  const r = capture(() => reportCommand([bad]));
  t.is(r.code, 1);
  t.regex(r.err, /line 2: not JSON/);
});

test('parseTraceLines skips blank and comment lines and checks each event', (t) => {
  t.deepEqual(parseTraceLines('\n# a comment\n{"type":"x","t":1}\n\n'), [{ type: 'x', t: 1 } as unknown as TraceEvent]);
  t.throws(() => parseTraceLines('[1,2]\n'), { message: /line 1: not an event object/ });
  const spelled = parseTraceLines('{"type":"cwnd","t":2,"ssthresh":{"$n":"Infinity"},"x":{"$n":"-0"}}') as unknown as Array<Record<string, number>>;
  t.is(spelled[0].ssthresh, Infinity);
  t.true(Object.is(spelled[0].x, -0));
  t.throws(() => parseTraceLines('{"type":"x"}\n'), { message: /line 1: an event needs/ });
});

// In a real browser (CI installs Chromium).

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const browserTest = CHROMIUM !== undefined ? test : test.skip;
const skipNote = CHROMIUM !== undefined ? '' : ' (skipped: /usr/bin/chromium is not installed)';
if (CHROMIUM === undefined) console.log('report.test.ts: browser tests skipped: /usr/bin/chromium is not installed');

function chromium(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const profile = mkdtempSync(join(tmpdir(), 'tcplab-chromium-'));
  const base = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--hide-scrollbars', `--user-data-dir=${profile}`];
  return new Promise((resolve, reject) => {
    execFile(CHROMIUM!, [...base, ...args], { timeout: 120_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`chromium failed: ${err.message}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

function bodyStatus(dom: string): string | null {
  const m = /<body[^>]*\sdata-status="([^"]*)"/.exec(dom);
  return m === null ? null : m[1];
}

/** Decodes an 8-bit RGB or RGBA PNG (non-interlaced): the pixels as RGB triples. */
function decodePng(png: Buffer): { width: number; height: number; rgb: Uint8Array } {
  t_assert(png.subarray(0, 8).equals(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10])), 'PNG signature');
  let off = 8;
  let width = 0;
  let height = 0;
  let colorType = 0;
  const idat: Buffer[] = [];
  while (off < png.length) {
    const len = png.readUInt32BE(off);
    const type = png.toString('ascii', off + 4, off + 8);
    const data = png.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      t_assert(data[8] === 8 && data[12] === 0, '8-bit, not interlaced');
      colorType = data[9];
    } else if (type === 'IDAT') idat.push(data);
    off += 12 + len;
  }
  t_assert(colorType === 2 || colorType === 6, `colour type ${colorType}`);
  const bpp = colorType === 6 ? 4 : 3;
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  const px = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = y * (stride + 1) + 1;
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? px[y * stride + i - bpp] : 0;
      const b = y > 0 ? px[(y - 1) * stride + i] : 0;
      const c = i >= bpp && y > 0 ? px[(y - 1) * stride + i - bpp] : 0;
      let v = raw[line + i];
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      px[y * stride + i] = v & 0xff;
    }
  }
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < px.length; i += bpp, j += 3) {
    rgb[j] = px[i];
    rgb[j + 1] = px[i + 1];
    rgb[j + 2] = px[i + 2];
  }
  return { width, height, rgb };
}

function t_assert(cond: boolean, what: string): void {
  if (!cond) throw new Error(`bad PNG: ${what}`);
}

browserTest(`the report runs without errors in Chromium and its screenshot is not blank${skipNote}`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tcplab-report-'));
  const file = join(dir, 'report.html');
  writeFileSync(file, renderReport(lossy.events, { title: 'lossy transfer' }));
  const { stdout: dom } = await chromium(['--dump-dom', `file://${file}`]);
  t.is(bodyStatus(dom), 'ok');
  // The page drew the ladder itself (its info line is written by the script).
  t.regex(dom, /class="ladder-info">[\d.]+ ms – [\d.]+ ms: \d+ of \d+ segments/);
  const png = join(dir, 'report.png');
  await chromium([`--screenshot=${png}`, '--window-size=1400,1000', `file://${file}`]);
  const bytes = readFileSync(png);
  t.true(bytes.length > 20_000, `${bytes.length} bytes`);
  const img = decodePng(bytes);
  t.is(img.width, 1400);
  t.is(img.height, 1000);
  const colours = new Map<number, number>();
  for (let i = 0; i < img.rgb.length; i += 3) {
    const c = (img.rgb[i] << 16) | (img.rgb[i + 1] << 8) | img.rgb[i + 2];
    colours.set(c, (colours.get(c) ?? 0) + 1);
  }
  t.true(colours.size > 200, `${colours.size} distinct colours`);
  const commonest = Math.max(...colours.values());
  t.true(commonest < img.width * img.height * 0.8, 'no single colour fills the page');
});

browserTest(`the page's own renderer draws the time window asked for in the address${skipNote}`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tcplab-report-'));
  const file = join(dir, 'report.html');
  const html = renderReport(lossy.events);
  writeFileSync(file, html);
  const page = JSON.parse(/id="tcplab-data">(.*?)<\/script>/s.exec(html)![1]) as { maxArrows: number; conns: Array<{ ladder: LadderData }> };
  const expected = ladderSvg(page.conns[0].ladder, { start: 120, span: 40, maxArrows: page.maxArrows });
  t.true(expected.shown > 0);
  const { stdout: dom } = await chromium(['--dump-dom', `file://${file}#t=120,40`]);
  t.is(bodyStatus(dom), 'ok');
  t.is(count(dom, /class="seg( lost)?"/g), expected.shown);
  t.regex(dom, /120\.0 ms – 160\.0 ms/);
});

browserTest(`the 10,000-segment report runs without errors in Chromium${skipNote}`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tcplab-report-'));
  const file = join(dir, 'long.html');
  writeFileSync(file, renderReport(long.events));
  const started = performance.now();
  const { stdout: dom } = await chromium(['--dump-dom', `file://${file}`]);
  t.is(bodyStatus(dom), 'ok');
  t.true(performance.now() - started < 60_000);
  t.true(count(dom, /class="seg( lost)?"/g) <= 300);
});
