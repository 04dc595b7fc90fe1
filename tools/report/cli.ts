// `tcplab report trace.jsonl -o report.html`: a trace (JSON Lines, one event
// per line) to one self-contained HTML page.

import { readFileSync, writeFileSync } from 'node:fs';
import type { TraceEvent } from '../../stack/trace';
import { renderReport } from './report';

export const REPORT_USAGE = `usage: tcplab report TRACE.jsonl [-o OUT.html] [--title TEXT] [--max-arrows N|all]

  Writes an HTML page (no network needed to view it) with a sequence diagram,
  state timelines and plots of every TCP connection in the trace.
  OUT defaults to the trace's name with .html; '-' reads the trace from stdin.
`;

export class TraceFormatError extends Error {
  constructor(readonly line: number, message: string) {
    super(`line ${line}: ${message}`);
  }
}

// Numbers JSON cannot spell (Infinity, NaN, -0) are written as {"$n":"Infinity"} by the trace writer.
const SPELLED_NUMBERS = new Map<string, number>([['Infinity', Infinity], ['-Infinity', -Infinity], ['NaN', NaN], ['-0', -0]]);

function revive(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value);
    const n = (value as { $n?: unknown }).$n;
    if (keys.length === 1 && typeof n === 'string' && SPELLED_NUMBERS.has(n)) return SPELLED_NUMBERS.get(n);
  }
  return value;
}

/**
 * Parses JSON Lines: one event object per line; blank lines and lines starting
 * with '#' are skipped, numbers spelled {"$n":"Infinity"} are read as numbers.
 */
export function parseTraceLines(text: string): TraceEvent[] {
  const events: TraceEvent[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    let value: unknown;
    try {
      value = JSON.parse(line, revive);
    } catch (err) {
      throw new TraceFormatError(i + 1, `not JSON (${(err as Error).message})`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new TraceFormatError(i + 1, 'not an event object');
    const ev = value as { type?: unknown; t?: unknown };
    if (typeof ev.type !== 'string' || typeof ev.t !== 'number') throw new TraceFormatError(i + 1, 'an event needs a string "type" and a numeric "t"');
    events.push(value as TraceEvent);
  }
  return events;
}

interface ReportArgs {
  input: string;
  output: string;
  title?: string;
  maxArrows?: number;
}

function parseArgs(args: string[]): ReportArgs | string {
  let input: string | undefined;
  let output: string | undefined;
  let title: string | undefined;
  let maxArrows: number | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = (): string | undefined => (i + 1 < args.length ? args[++i] : undefined);
    if (a === '-o' || a === '--output') {
      output = value();
      if (output === undefined || output === '') return `${a} needs a file name`;
    } else if (a.startsWith('--output=')) {
      output = a.slice('--output='.length);
    } else if (a === '--title') {
      title = value();
      if (title === undefined) return '--title needs a text';
    } else if (a === '--max-arrows') {
      const v = value();
      if (v === 'all') maxArrows = Infinity;
      else {
        const n = Number(v);
        if (v === undefined || !Number.isInteger(n) || n < 1) return '--max-arrows needs a positive whole number or "all"';
        maxArrows = n;
      }
    } else if (a.startsWith('-') && a !== '-') {
      return `unknown option '${a}'`;
    } else if (input === undefined) {
      input = a;
    } else {
      return `unexpected argument '${a}'`;
    }
  }
  if (input === undefined) return 'a trace file is needed';
  if (output === undefined) {
    if (input === '-') return 'with a trace on stdin, -o is needed';
    output = input.replace(/\.jsonl?$/i, '') + '.html';
  }
  return { input, output, title, maxArrows };
}

/** Runs `tcplab report ...` (args after the command name); prints the output path; returns the exit code. */
export function reportCommand(args: string[]): number {
  if (args.includes('-h') || args.includes('--help')) {
    process.stdout.write(REPORT_USAGE);
    return 0;
  }
  const parsed = parseArgs(args);
  if (typeof parsed === 'string') {
    process.stderr.write(`tcplab report: ${parsed}\n${REPORT_USAGE}`);
    return 2;
  }
  let text: string;
  try {
    text = readFileSync(parsed.input === '-' ? 0 : parsed.input, 'utf8');
  } catch (err) {
    process.stderr.write(`tcplab report: cannot read ${parsed.input}: ${(err as Error).message}\n`);
    return 1;
  }
  let events: TraceEvent[];
  try {
    events = parseTraceLines(text);
  } catch (err) {
    process.stderr.write(`tcplab report: ${parsed.input}: ${(err as Error).message}\n`);
    return 1;
  }
  const html = renderReport(events, { title: parsed.title, maxArrows: parsed.maxArrows });
  try {
    writeFileSync(parsed.output, html);
  } catch (err) {
    process.stderr.write(`tcplab report: cannot write ${parsed.output}: ${(err as Error).message}\n`);
    return 1;
  }
  process.stdout.write(`${parsed.output}\n`);
  return 0;
}
