// `tcplab demo`: runs a built-in scenario, prints the explained trace as it
// happens, and writes PREFIX.pcap, PREFIX.jsonl and PREFIX.html. Virtual time
// and a fixed seed: every run prints the same text and writes the same files.

import { writeFileSync } from 'node:fs';
import { Explainer } from './explain';
import { findScenario, runScenario, scenarios, type ScenarioRun } from './scenarios';
import { toJsonl } from './trace/jsonl';
import { renderReport } from './report/report';
import { formatTime } from './format';

export interface DemoOptions {
  scenario?: string;
  seed?: number;
  /** File prefix for .pcap/.jsonl/.html; null writes no files. Default "demo". */
  out?: string | null;
  /** Called with a progress line now and then during long runs (wall clock). */
  progress?: (line: string) => void;
}

export function listScenarios(): string[] {
  return scenarios.map((s) => `${s.name.padEnd(12)} ${s.title}: ${s.shows}`);
}

export function runDemo(print: (line: string) => void, opts: DemoOptions = {}): ScenarioRun {
  const name = opts.scenario ?? 'loss';
  const s = findScenario(name);
  if (s === undefined) throw new RangeError(`unknown scenario '${name}' (try: ${scenarios.map((x) => x.name).join(', ')})`);
  print(`tcplab demo '${s.name}': ${s.title}`);
  print(`  ${s.shows}`);
  print('');
  const explain = new Explainer(print);
  let count = 0;
  let lastProgress = performance.now();
  const run = runScenario(s, {
    seed: opts.seed,
    onEvent(ev) {
      explain.event(ev);
      if (opts.progress !== undefined && (++count & 1023) === 0 && performance.now() - lastProgress > 1000) {
        lastProgress = performance.now();
        opts.progress(`  ... ${(ev.t / 1000).toFixed(1)} s of virtual time, ${count} events`);
      }
    },
    onLost: (l) => explain.lost(l),
    say: (text, t) => print(`${formatTime(t)}  ---    ${text}`),
  });
  print('');
  print(`done at ${run.lab.now().toFixed(3)} ms of virtual time`);
  for (const host of [run.client, run.server]) {
    for (const c of host.tcp.connections()) print(`  ${host.name} ${c.id}: ${c.state}`);
    const rtx = host.counter('tcp-retransmit');
    if (rtx > 0) print(`  ${host.name}: ${rtx} retransmissions`);
  }
  const out = opts.out === undefined ? 'demo' : opts.out;
  if (out !== null) {
    writeFileSync(`${out}.pcap`, run.pcap);
    writeFileSync(`${out}.jsonl`, toJsonl(run.events));
    writeFileSync(`${out}.html`, renderReport(run.events, { title: `tcplab demo: ${s.title}` }));
    print(`wrote ${out}.pcap (open with Wireshark or tcpdump -r), ${out}.jsonl (the trace), ${out}.html (the report)`);
  }
  return run;
}
