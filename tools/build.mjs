// Builds dist/ with esbuild: the library (index), the drop-in net module and the CLI.
import { build } from 'esbuild';
import { existsSync, chmodSync } from 'node:fs';

const entries = [
  { in: 'index.ts', out: 'index' },
  { in: 'net.ts', out: 'net' },
  { in: 'tools/cli.ts', out: 'cli', banner: '#!/usr/bin/env node' },
].filter((e) => existsSync(e.in));

for (const e of entries) {
  await build({
    entryPoints: [e.in],
    outfile: `dist/${e.out}.js`,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: true,
    external: ['ip-num'],
    banner: e.banner ? { js: e.banner } : undefined,
    logLevel: 'warning',
  });
  if (e.banner) chmodSync(`dist/${e.out}.js`, 0o755);
}
console.log(`built ${entries.map((e) => `dist/${e.out}.js`).join(', ')}`);
