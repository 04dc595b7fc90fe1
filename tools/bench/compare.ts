// `make bench-compare REF=<git ref>`: measures tcplab at REF and in this
// checkout (HEAD, uncommitted changes included) in the same run, and prints
// per metric the median of each, the ratio HEAD/REF and the spread, ending
// with a Markdown table to paste into a note.
// Run: node --import ./tools/ts-loader.mjs tools/bench/compare.ts [--ref REF] [--rounds N]
//
// REF is checked out as a temporary git worktree under the system temp
// directory (removed afterwards, also on failure or Ctrl-C), with this
// checkout's node_modules linked in and this checkout's tools/bench/ copied
// over its own: the same measurement code (compare-child.ts) then runs against
// both versions of the stack, importing it only through index.ts.
// Every measurement is a fresh child process in its tree's directory. The
// trees alternate, REF first in even rounds and HEAD first in odd ones, so that
// load from elsewhere on the machine and drift hit both alike.

import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BULK_BYTES, REPEATS, SIM_BYTES, type Job } from './compare-child';
import { quantile } from './stats';

interface Metric {
  job: Job;
  key: string; // in the job's JSON result
  label: string;
  better: 'higher' | 'lower';
}

const METRICS: Metric[] = [
  { job: 'sim', key: 'mbPerSec', label: `sim throughput ${SIM_BYTES / 2 ** 20} MiB, MB/s`, better: 'higher' },
  { job: 'bulk', key: 'mbPerSec', label: `net loopback bulk ${BULK_BYTES / 1e6} MB, MB/s`, better: 'higher' },
  { job: 'connections', key: 'perSec', label: 'net loopback connections/s', better: 'higher' },
  { job: 'rtt', key: 'p50Us', label: '64-byte round trip median, us', better: 'lower' },
  { job: 'rtt', key: 'p99Us', label: '64-byte round trip p99, us', better: 'lower' },
];
const JOBS = [...new Set(METRICS.map((m) => m.job))];

const CHILD_TIMEOUT_MS = 180_000;

interface Tree {
  name: 'REF' | 'HEAD';
  dir: string;
  label: string; // short commit, as printed
  samples: Map<Metric, number[]>;
}

function git(args: string[], cwd?: string): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** The merge-base with main while HEAD is on a branch ahead of it; otherwise (on main) the commit before HEAD. */
function defaultRef(): { rev: string; name: string } {
  let base: string | undefined;
  try { base = git(['merge-base', 'HEAD', 'main']); } catch { base = undefined; }
  if (base !== undefined && base !== git(['rev-parse', 'HEAD'])) return { rev: base, name: 'merge-base with main' };
  return { rev: 'HEAD~1', name: 'HEAD~1' };
}

// The one child running now, for the signal handler; set when a signal asks us to stop.
let running: ChildProcess | undefined;
let stopSignal: NodeJS.Signals | undefined;

/** Runs one measurement in `tree`, in a fresh process; resolves to its JSON result. */
function measure(tree: Tree, job: Job): Promise<Record<string, number>> {
  if (stopSignal !== undefined) return Promise.reject(new Error(`stopped by ${stopSignal}`));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', './tools/ts-loader.mjs', 'tools/bench/compare-child.ts', job], {
      cwd: tree.dir, stdio: ['ignore', 'pipe', 'inherit'],
    });
    running = child;
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, CHILD_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      running = undefined;
      const last = out.trim().split('\n').pop() ?? '';
      if (code === 0 && last.startsWith('{')) resolve(JSON.parse(last) as Record<string, number>);
      else if (stopSignal !== undefined) reject(new Error(`stopped by ${stopSignal}`));
      else if (timedOut) reject(new Error(`${tree.name} ${job}: no result after ${CHILD_TIMEOUT_MS / 1000} s`));
      else reject(new Error(`${tree.name} ${job}: child ${signal !== null ? `killed by ${signal}` : `exited ${code}`}`
        + ' (its error is above; the measurement reaches tcplab through index.ts only, whose exports it needs)'));
    });
  });
}

const fmt = (v: number): string => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1));
const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);
const median = (xs: number[]): number => quantile(sorted(xs), 0.5);
const spread = (xs: number[]): string => { const s = sorted(xs); return `${fmt(s[0]!)}..${fmt(s[s.length - 1]!)}`; };

/** "3.1% slower", "0.4% faster" for HEAD against REF, and whether HEAD's median is inside REF's spread. */
function verdict(m: Metric, ref: number[], head: number[]): string {
  const ratio = median(head) / median(ref);
  const gain = m.better === 'higher' ? ratio - 1 : 1 / ratio - 1;
  const words = `${Math.abs(gain * 100).toFixed(1)}% ${gain >= 0 ? 'faster' : 'slower'}`;
  const h = median(head);
  return Math.min(...ref) <= h && h <= Math.max(...ref) ? `${words}, within REF's spread` : words;
}

function table(ref: Tree, head: Tree): string {
  const header = ['metric', `REF ${ref.label}`, `HEAD ${head.label}`, 'HEAD/REF', 'better', 'REF min..max', 'HEAD min..max', 'HEAD vs REF'];
  const rows = METRICS.map((m) => {
    const r = ref.samples.get(m)!;
    const h = head.samples.get(m)!;
    return [m.label, fmt(median(r)), fmt(median(h)), (median(h) / median(r)).toFixed(3), m.better, spread(r), spread(h), verdict(m, r, h)];
  });
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((row) => row[i]!.length)));
  const numeric = [false, true, true, true, false, false, false, false];
  const line = (cells: string[]): string =>
    `| ${cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (numeric[i] ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

async function compare(ref: Tree, head: Tree, rounds: number): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? [ref, head] : [head, ref];
    const progress: string[] = [];
    for (const job of JOBS) {
      const results = new Map<Tree, Record<string, number>>();
      for (const tree of order) results.set(tree, await measure(tree, job));
      for (const m of METRICS.filter((x) => x.job === job)) {
        const [r, h] = [results.get(ref)![m.key], results.get(head)![m.key]];
        if (typeof r !== 'number' || typeof h !== 'number') throw new Error(`${job} gave no ${m.key}`);
        ref.samples.get(m)!.push(r);
        head.samples.get(m)!.push(h);
        progress.push(`${m.job}${m.job === 'rtt' ? ` ${m.key}` : ''} ${fmt(r)}/${fmt(h)}`);
      }
    }
    console.log(`  round ${round + 1}/${rounds} (${order[0]!.name} first), REF/HEAD: ${progress.join(', ')}`);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { ref: { type: 'string' }, rounds: { type: 'string', default: '10' } } });
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds wants a positive integer, not ${values.rounds}`);
  const root = git(['rev-parse', '--show-toplevel']);
  const { rev, name: refName } = values.ref !== undefined && values.ref !== '' ? { rev: values.ref, name: values.ref } : defaultRef();
  const refCommit = git(['rev-parse', '--verify', `${rev}^{commit}`], root);
  const dirty = git(['status', '--porcelain', '--untracked-files=no'], root) !== '';
  const short = (commit: string): string => git(['rev-parse', '--short', commit], root);
  const samples = (): Map<Metric, number[]> => new Map(METRICS.map((m) => [m, []]));

  const subject = git(['log', '-1', '--format=%s', refCommit], root);
  const stop = (signal: NodeJS.Signals): void => { stopSignal = signal; running?.kill('SIGTERM'); };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, stop);

  const tmp = mkdtempSync(join(tmpdir(), 'tcplab-bench-compare-'));
  const refDir = join(tmp, 'ref');
  const ref: Tree = { name: 'REF', dir: refDir, label: short(refCommit), samples: samples() };
  const head: Tree = { name: 'HEAD', dir: root, label: short('HEAD') + (dirty ? '+' : ''), samples: samples() };
  console.log(`bench-compare: REF ${ref.label} (${refName}: ${subject})`);
  console.log(`           vs HEAD ${head.label} (${dirty ? 'this checkout, with its uncommitted changes' : 'this checkout'})`);
  console.log(`  REF worktree: ${refDir}`);
  const loadBefore = loadavg()[0]!;
  const started = performance.now();
  try {
    git(['worktree', 'add', '--quiet', '--detach', refDir, refCommit], root);
    symlinkSync(realpathSync(join(root, 'node_modules')), join(refDir, 'node_modules'));
    cpSync(join(root, 'tools', 'bench'), join(refDir, 'tools', 'bench'), { recursive: true });
    await compare(ref, head, rounds);
  } finally {
    running?.kill('SIGKILL');
    removeWorktree(root, refDir);
    rmSync(tmp, { recursive: true, force: true });
  }
  const minutes = (performance.now() - started) / 60_000;
  console.log();
  console.log(`REF ${ref.label} vs HEAD ${head.label}: medians of ${rounds} runs each, alternating, one process per run `
    + `(throughputs: best of ${REPEATS} after a warm-up); `
    + `${cpus().length} CPUs, load average ${loadBefore.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after; ${minutes.toFixed(1)} min`);
  console.log(table(ref, head));
}

function removeWorktree(root: string, dir: string): void {
  try {
    git(['worktree', 'remove', '--force', dir], root);
  } catch {
    // Not added, or half added: remove what is there; `git worktree prune` forgets a stale entry.
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(stopSignal !== undefined ? 130 : 0),
  (err: unknown) => {
    console.error(`bench-compare: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(stopSignal !== undefined ? 130 : 1);
  },
);
