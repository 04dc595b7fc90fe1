// The contracts of ARCHITECTURE.md that code can check: stack/ imports nothing
// outside itself (no net-api/, devices/, tools/, no node: modules or packages),
// its modules import each other without cycles (type-only imports included),
// and nothing in it reads the wall clock, Math.random or Node's timers.

import test from 'ava';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const stackDir = join(root, 'stack');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Every module specifier a file imports or re-exports, type-only ones included. */
function specifiers(text: string): string[] {
  const out: string[] = [];
  const re = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'([^']+)'|(?:^|\n)\s*import\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

/** Strip comments and string contents so words in them do not count as code. */
function codeOnly(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '').replace(/'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`/g, "''");
}

const files = sources(stackDir);
const graph = new Map<string, string[]>();
for (const f of files) {
  const deps: string[] = [];
  for (const s of specifiers(readFileSync(f, 'utf8'))) {
    deps.push(s.startsWith('.') ? resolve(dirname(f), s.endsWith('.ts') ? s : `${s}.ts`) : s);
  }
  graph.set(f, deps);
}

test('stack/ imports only from stack/: no node: modules, no packages, nothing from net-api/, devices/ or tools/', (t) => {
  const bad: string[] = [];
  for (const [f, deps] of graph) {
    for (const d of deps) {
      if (!d.startsWith(stackDir + '/')) bad.push(`${relative(root, f)} imports ${d.startsWith('/') ? relative(root, d) : d}`);
    }
  }
  t.true(files.length > 40, `${files.length} files checked`);
  t.deepEqual(bad, []);
});

test('every import in stack/ resolves to a file', (t) => {
  const missing: string[] = [];
  for (const [f, deps] of graph) for (const d of deps) if (d.startsWith('/') && !graph.has(d)) missing.push(`${relative(root, f)} -> ${relative(root, d)}`);
  t.deepEqual(missing, []);
});

test('the modules of stack/ import each other without cycles (type-only imports included)', (t) => {
  const state = new Map<string, 'visiting' | 'done'>();
  const cycles: string[] = [];
  const path: string[] = [];
  const visit = (f: string): void => {
    state.set(f, 'visiting');
    path.push(f);
    for (const d of graph.get(f) ?? []) {
      if (!graph.has(d)) continue;
      const s = state.get(d);
      if (s === 'visiting') cycles.push([...path.slice(path.indexOf(d)), d].map((p) => relative(stackDir, p)).join(' -> '));
      else if (s === undefined) visit(d);
    }
    path.pop();
    state.set(f, 'done');
  };
  for (const f of graph.keys()) if (!state.has(f)) visit(f);
  t.deepEqual(cycles, []);
});

test('nothing in stack/ reads the wall clock, Math.random or Node timers (all time and randomness is injected)', (t) => {
  const forbidden = /\b(?:Date\.now|new Date\b|performance\.now|process\.hrtime|Math\.random|setTimeout|setInterval|setImmediate|queueMicrotask|process\.nextTick|require\s*\()/;
  const bad: string[] = [];
  for (const f of files) {
    const lines = codeOnly(readFileSync(f, 'utf8')).split('\n');
    lines.forEach((line, i) => {
      if (forbidden.test(line)) bad.push(`${relative(root, f)}:${i + 1}: ${line.trim()}`);
    });
  }
  t.deepEqual(bad, []);
});

test('the checks above can fail: a cycle and a node: import are found in a made-up graph', (t) => {
  t.deepEqual(specifiers("import type { A } from './a';\nexport { B } from \"x\";\nimport { C } from 'node:fs';"), ['./a', 'node:fs']);
  t.regex(codeOnly('const x = Date.now(); // Math.random'), /Date\.now/);
  t.notRegex(codeOnly('// Date.now in a comment'), /Date\.now/);
});
