#!/usr/bin/env node
// Builds the Linux TUN/TAP addon: devices/native/build/Release/tuntap.node.
//
//   node tools/build-native.mjs [--force] [--optional] [--verbose] [--cc]
//
// It uses node-gyp against the Node headers already on this machine, never
// downloading anything: node-gyp is taken from (in order) $NODE_GYP, this
// project's node_modules, or the copy bundled with npm; the headers from
// $npm_config_nodedir, `npm config get nodedir`, or the prefix Node runs from
// (/usr/include/node beside /usr/bin/node). If node-gyp cannot be found or
// cannot configure, the one C file is compiled directly with cc (a Node-API
// addon links against nothing; Node resolves its symbols at load time).
//
// --cc skips node-gyp and compiles directly.
//
// Up to date (the .node newer than its sources) means nothing to do, unless
// --force. On anything but Linux it does nothing. With --optional, missing
// prerequisites (no compiler, no headers) print a warning and exit 0, so that
// `make` still works where TUN/TAP cannot be used anyway (the interop tests
// then skip and say why); a compile error in our own source always fails.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'devices', 'native');
const output = join(nativeDir, 'build', 'Release', 'tuntap.node');
const args = new Set(process.argv.slice(2));
const force = args.has('--force');
const optional = args.has('--optional');
const verbose = args.has('--verbose');
const directCc = args.has('--cc');

function log(msg) {
  console.log(`build-native: ${msg}`);
}

/** A missing prerequisite: fatal unless --optional. */
function unavailable(msg) {
  if (optional) {
    log(`WARNING: ${msg}; the TUN/TAP addon is not built and the interop tests will be skipped`);
    process.exit(0);
  }
  log(`error: ${msg}`);
  process.exit(1);
}

function run(cmd, argv, opts = {}) {
  if (verbose) log(`$ ${cmd} ${argv.join(' ')}`);
  return spawnSync(cmd, argv, { cwd: nativeDir, encoding: 'utf8', ...opts });
}

if (process.platform !== 'linux') {
  log(`skipped: TUN/TAP devices are Linux only (this is ${process.platform})`);
  process.exit(0);
}

const sources = readdirSync(nativeDir)
  .filter((f) => f.endsWith('.c') || f.endsWith('.h') || f === 'binding.gyp')
  .map((f) => join(nativeDir, f));
sources.push(fileURLToPath(import.meta.url));
if (!force && existsSync(output)) {
  const built = statSync(output).mtimeMs;
  if (sources.every((s) => statSync(s).mtimeMs <= built)) {
    log(`up to date: ${output}`);
    process.exit(0);
  }
}

// ---- the headers -----------------------------------------------------------

function hasHeaders(dir) {
  return dir !== '' && existsSync(join(dir, 'include', 'node', 'node_api.h')) && existsSync(join(dir, 'include', 'node', 'uv.h'));
}

function findNodedir() {
  const candidates = [];
  if (process.env.npm_config_nodedir) candidates.push(process.env.npm_config_nodedir);
  if (!process.env.npm_config_nodedir) {
    // Run outside npm (from make): ask npm for its setting.
    const npm = spawnSync('npm', ['config', 'get', 'nodedir'], { encoding: 'utf8', timeout: 20_000 });
    const v = npm.status === 0 ? npm.stdout.trim() : '';
    if (v !== '' && v !== 'undefined' && v !== 'null') candidates.push(v);
  }
  candidates.push(resolve(dirname(process.execPath), '..'));
  for (const c of candidates) if (hasHeaders(c)) return c;
  return null;
}

const nodedir = findNodedir();
if (nodedir === null) {
  unavailable(
    'no Node headers found (looked at $npm_config_nodedir, `npm config get nodedir` and ' +
      `${resolve(dirname(process.execPath), '..', 'include', 'node')}); install the Node development headers ` +
      '(Debian: the headers ship with the nodejs package as /usr/include/node) or set npm_config_nodedir',
  );
}

// ---- the compiler ----------------------------------------------------------

const cc = process.env.CC || 'cc';
if (run(cc, ['--version']).status !== 0) {
  unavailable(`no C compiler ('${cc}'); install gcc (Debian: build-essential) or set CC`);
}

// ---- node-gyp --------------------------------------------------------------

function findNodeGyp() {
  const candidates = [];
  if (process.env.NODE_GYP) candidates.push(process.env.NODE_GYP);
  candidates.push(join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  if (process.env.npm_execpath) {
    // npm_execpath is .../npm/bin/npm-cli.js while npm runs a script.
    candidates.push(join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  }
  candidates.push(join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push('/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js');
  candidates.push('/usr/share/nodejs/node-gyp/bin/node-gyp.js');
  return candidates.find((c) => existsSync(c)) ?? null;
}

function buildWithNodeGyp(gyp) {
  log(`node-gyp ${gyp} (headers: ${nodedir}/include/node)`);
  const env = { ...process.env, npm_config_nodedir: nodedir };
  const common = [`--nodedir=${nodedir}`, '--release'];
  for (const step of [['configure', ...common], ['build', ...common, '-j', 'max']]) {
    const r = run(process.execPath, [gyp, ...step], { env, stdio: verbose ? 'inherit' : 'pipe' });
    if (r.status !== 0) {
      return { ok: false, step: step[0], output: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
    }
  }
  return { ok: true };
}

/** The fallback: one C file, no libraries to link. */
function buildWithCc() {
  mkdirSync(dirname(output), { recursive: true });
  const argv = [
    '-shared', '-fPIC', '-O2', '-std=gnu11', '-Wall', '-Wextra', '-Wno-unused-parameter',
    '-DNODE_GYP_MODULE_NAME=tuntap', '-DNAPI_VERSION=8', '-DBUILDING_NODE_EXTENSION',
    `-I${join(nodedir, 'include', 'node')}`,
    '-o', output, join(nativeDir, 'tuntap.c'), '-pthread',
  ];
  log(`${cc} ${argv.join(' ')}`);
  const r = run(cc, argv, { stdio: 'inherit' });
  return r.status === 0;
}

let built = false;
const gyp = directCc ? null : findNodeGyp();
if (directCc) {
  log('--cc: compiling directly');
} else if (gyp !== null) {
  const r = buildWithNodeGyp(gyp);
  if (r.ok) built = true;
  else if (r.step === 'build' && /error:/.test(r.output)) {
    // Our C code does not compile: that is a real failure, not a missing tool.
    console.error(r.output);
    log('error: the addon does not compile');
    process.exit(1);
  } else {
    if (verbose || r.output !== '') console.error(r.output.split('\n').slice(-15).join('\n'));
    log(`node-gyp ${r.step} failed; compiling directly with ${cc}`);
  }
} else {
  log(`node-gyp not found (no $NODE_GYP, no node_modules/node-gyp, none bundled with npm); compiling directly with ${cc}`);
}
if (!built && !buildWithCc()) {
  log('error: the addon does not compile');
  process.exit(1);
}
if (!existsSync(output)) {
  log(`error: the build finished but ${output} is missing`);
  process.exit(1);
}

// Load it once, so a broken addon fails the build rather than the tests.
try {
  const { createRequire } = await import('node:module');
  const addon = createRequire(import.meta.url)(output);
  if (typeof addon.Tuntap !== 'function') throw new Error('no Tuntap export');
} catch (err) {
  log(`error: ${output} does not load: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
log(`built ${output}`);
