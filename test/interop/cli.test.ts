// `tcplab serve` and `tcplab connect`: the CLI puts tcplab on a TUN or TAP
// device in a fresh namespace; the kernel there reaches its echo and HTTP
// servers (Node's http over tcplab sockets), and it fetches from the kernel.
// The namespace is gone afterwards, also after Ctrl-C.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { interop, US } from './helpers';

const CLI = ['--import', './tools/ts-loader.mjs', 'tools/cli.ts'];

function start(args: string[]): { child: ChildProcess; lines: Promise<string[]>; output: () => string } {
  const child = spawn(process.execPath, [...CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const lines = new Promise<string[]>((resolve, reject) => {
    const check = (): void => {
      if (/Ctrl-C|stopping after/.test(out)) resolve(out.split('\n'));
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
  });
  return { child, lines, output: () => out };
}

/** Run a command inside the namespace without blocking the event loop. */
function inNs(ns: string, cmd: string[], input?: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const c = spawn('ip', ['netns', 'exec', ns, ...cmd], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    c.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    c.on('close', (code) => resolve({ code, out }));
    c.stdin.end(input ?? '');
  });
}

const exited = (c: ChildProcess): Promise<number | null> =>
  c.exitCode !== null ? Promise.resolve(c.exitCode) : new Promise((r) => c.once('exit', (code) => r(code)));

for (const kind of ['tun', 'tap'] as const) {
  interop(`tcplab serve --${kind}: the kernel reaches the HTTP and echo servers with the printed commands, and the namespace is removed`, async (t) => {
    const s = start(['serve', `--${kind}`, '--for', '20']);
    t.teardown(() => { if (s.child.exitCode === null) s.child.kill('SIGTERM'); });
    const lines = await s.lines;
    const ns = /namespace (tcplab-\d+-\d+)/.exec(lines.join('\n'))![1];
    t.true(lines.some((l) => l.trim() === `ip netns exec ${ns} curl -s http://${US}/`));
    // HTTP: curl if installed, else python3's urllib, from inside the namespace.
    const hasCurl = spawnSync('sh', ['-c', 'command -v curl']).status === 0;
    const get = hasCurl
      ? await inNs(ns, ['curl', '-s', '-m', '5', `http://${US}/hello`])
      : await inNs(ns, ['python3', '-c', `import urllib.request;print(urllib.request.urlopen('http://${US}/hello',timeout=5).read().decode(),end='')`]);
    t.is(get.code, 0, get.out);
    t.regex(get.out, /hello from tcplab/);
    t.regex(get.out, /you asked for GET \/hello/);
    // A second request on a new connection.
    const again = hasCurl ? await inNs(ns, ['curl', '-s', '-m', '5', `http://${US}/again`]) : get;
    t.regex(again.out, hasCurl ? /request #2/ : /request #1/);
    // Echo.
    const echo = await inNs(ns, ['python3', '-c', `import socket;s=socket.create_connection(('${US}',7),timeout=5);s.sendall(b'echo me');s.shutdown(1);print(s.recv(100).decode(),end='')`]);
    t.is(echo.out, 'echo me');
    s.child.kill('SIGINT');
    await exited(s.child);
    t.regex(s.output(), new RegExp(`removed namespace ${ns}`));
    t.false(existsSync(`/run/netns/${ns}`));
  });
}

interop('tcplab connect --tun: tcplab fetches a page from python3 -m http.server in the namespace', async (t) => {
  const s = start(['connect', '--tun']);
  s.lines.catch(() => undefined);
  const code = await exited(s.child);
  t.is(code, 0, s.output());
  // The server header is Python's and the body names the namespace: the bytes came from inside it.
  t.regex(s.output(), /GET \/hello\.txt:\n {2}HTTP 200 \(SimpleHTTP\/[\d.]+ Python\/[\d.]+\)\n {2}hello from the Linux kernel's TCP in namespace (tcplab-\d+-\d+)\n/);
  const ns = /namespace (tcplab-\d+-\d+)/.exec(s.output())![1];
  t.false(existsSync(`/run/netns/${ns}`));
});
