// The explained trace, the built-in scenarios and the `tcplab demo` command.

import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDemo, listScenarios } from '../../tools/demo';
import { scenarios } from '../../tools/scenarios';
import { parseJsonl } from '../../tools/trace/jsonl';

function demoLines(name: string): string[] {
  const lines: string[] = [];
  runDemo((l) => lines.push(l), { scenario: name, out: null });
  return lines;
}

const cli = ['--import', './tools/ts-loader.mjs', 'tools/cli.ts'];

test('explain: a fast retransmit and an RTO retransmission, each with its reason, in the default scenario', (t) => {
  const lines = demoLines('loss');
  const fr = lines.filter((l) => l.includes('-- third duplicate ACK -> fast retransmit'));
  const rto = lines.filter((l) => /-- retransmission #1 after RTO 0\.2 s$/.test(l));
  t.is(fr.length, 1);
  t.is(rto.length, 1);
  t.regex(fr[0], /client 10\.0\.0\.1:\d+ > 10\.0\.0\.2:80 \[\.\] seq 15929:17377 ack 1 win \d+ len 1448/);
  t.true(lines.some((l) => /duplicate ACK #3: still waiting for the segment at 15929/.test(l)));
  t.true(lines.some((l) => /link {5}LOST \[\.\] seq 15929:17377 len 1448 \(client -> server\)/.test(l)));
  t.true(lines.some((l) => /client {3}RTO: cwnd 1448 ssthresh \d+/.test(l)));
});

test('explain: every state change appears inline with its cause', (t) => {
  const lines = demoLines('handshake');
  const states = lines.filter((l) => l.includes(' state ')).map((l) => l.replace(/^\s*[\d.]+ ms\s+/, ''));
  t.deepEqual(states, [
    'client   state CLOSED -> SYN-SENT (connect)',
    'server   state CLOSED -> SYN-RECEIVED (SYN received)',
    'client   state SYN-SENT -> ESTABLISHED (SYN-ACK received)',
    'server   state SYN-RECEIVED -> ESTABLISHED (ACK of SYN-ACK)',
    'client   state ESTABLISHED -> FIN-WAIT-1 (shutdown)',
    'server   state ESTABLISHED -> CLOSE-WAIT (FIN received)',
    'server   state CLOSE-WAIT -> LAST-ACK (shutdown)',
    'client   state FIN-WAIT-1 -> FIN-WAIT-2 (ACK of FIN)',
    'client   state FIN-WAIT-2 -> TIME-WAIT (FIN received)',
    'server   state LAST-ACK -> CLOSED (ACK of FIN)',
    'client   state TIME-WAIT -> CLOSED (2MSL timeout)',
  ]);
  t.true(lines.some((l) => /\[S\] seq 0 win 65535 len 0 {2}-- opens a connection, offering MSS 1460, window scale \d+, SACK, timestamps/.test(l)));
  t.true(lines.some((l) => /\[S\.\] seq 0 ack 1 .*-- accepts the connection/.test(l)));
  t.true(lines.some((l) => /\[\.\] seq 1 ack 1 .*-- completes the three-way handshake/.test(l)));
});

test('explain: keepalive probes numbered against the count, and the RST of a rebooted peer', (t) => {
  const lines = demoLines('keepalive');
  const probes = lines.filter((l) => l.includes('-- keepalive probe 1/3'));
  t.is(probes.length, 3);
  t.true(probes.every((l) => /seq 0 ack 1/.test(l))); // SEG.SEQ = SND.NXT - 1, relative 0
  t.is(lines.filter((l) => l.includes('-- answers the probe: alive')).length, 2);
  t.true(lines.some((l) => /server .*\[R\].*-- reset/.test(l)));
  t.true(lines.some((l) => l.includes('client connection closed: ECONNRESET')));
});

test('explain: zero-window probes numbered with backoff, the answers, and the window update', (t) => {
  const lines = demoLines('zero-window');
  const probes = lines.filter((l) => l.includes('-- zero-window probe #'));
  t.true(probes.length >= 4);
  probes.forEach((l, i) => t.true(l.includes(`zero-window probe #${i + 1}:`)));
  const times = probes.map((l) => parseFloat(l));
  const gaps = times.slice(1).map((x, i) => x - times[i]);
  t.true(gaps.every((g, i) => i === 0 || g > gaps[i - 1]), gaps.join(','));
  t.true(lines.some((l) => l.includes('-- answers the probe: the window is still zero')));
  t.true(lines.some((l) => l.includes('-- window update: the reader made room')));
});

test('explain: Nagle holding bytes, and the delayed-ACK timer named on the ACK it sends', (t) => {
  const nagle = demoLines('nagle');
  t.true(nagle.some((l) => l.includes('Nagle holds 1 byte:')));
  t.true(nagle.some((l) => l.includes('Nagle holds 19 bytes:')));
  const dack = demoLines('delayed-ack');
  t.true(dack.some((l) => /server .*\[\.\].*-- delayed ACK \(40 ms timer\)/.test(l)));
});

test('every scenario runs, finishes with all connections closed, and prints the same text twice', (t) => {
  for (const s of scenarios) {
    const one = demoLines(s.name);
    const two = demoLines(s.name);
    t.deepEqual(one, two, s.name);
    t.true(one.length > 10, s.name);
    t.false(one.some((l) => /: (ESTABLISHED|FIN-WAIT|CLOSE-WAIT|LAST-ACK|CLOSING|SYN-)/.test(l)), `${s.name} left a connection open`);
  }
});

test('tcplab demo --list names every scenario with what it shows', (t) => {
  const out = execFileSync(process.execPath, [...cli, 'demo', '--list'], { encoding: 'utf8' });
  for (const name of ['loss', 'handshake', 'close', 'nagle', 'delayed-ack', 'keepalive', 'zero-window']) {
    t.regex(out, new RegExp(`^${name}\\s+\\S`, 'm'));
  }
  t.is(out.trim().split('\n').length, listScenarios().length);
});

test('tcplab demo writes demo.pcap, demo.jsonl and demo.html; the trace reads back; a bad scenario is a clear error', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tcplab-demo-'));
  const out = execFileSync(process.execPath, [...cli.map((a) => (a.startsWith('./') || a.startsWith('tools') ? join(process.cwd(), a) : a)), 'demo'], { cwd: dir, encoding: 'utf8' });
  t.regex(out, /wrote demo\.pcap .* demo\.jsonl .* demo\.html/);
  for (const f of ['demo.pcap', 'demo.jsonl', 'demo.html']) t.true(existsSync(join(dir, f)), f);
  const pcap = readFileSync(join(dir, 'demo.pcap'));
  t.is(pcap.readUInt32LE(0), 0xa1b2c3d4);
  const tcpdump = spawnSync('tcpdump', ['-nn', '-r', join(dir, 'demo.pcap')], { encoding: 'utf8' });
  if (tcpdump.error === undefined) {
    const lines = tcpdump.stdout.trim().split('\n');
    // The client's capture: its SYN first, the SYN-ACK, and the retransmissions among the rest.
    t.regex(lines[0], /^00:00:00\.000000 IP 10\.0\.0\.1\.\d+ > 10\.0\.0\.2\.80: Flags \[S\], seq \d+, win 65535, options \[mss 1460,sackOK,TS val \d+ ecr 0,nop,wscale \d+\], length 0$/);
    t.regex(lines[1], /^00:00:00\.0400\d\d IP 10\.0\.0\.2\.80 > 10\.0\.0\.1\.\d+: Flags \[S\.\]/);
    t.true(lines.length > 80);
  } else {
    t.log(`tcpdump not installed (${tcpdump.error.message}): demo.pcap checked by its header only`);
  }
  const events = parseJsonl(readFileSync(join(dir, 'demo.jsonl'), 'utf8'));
  t.true(events.some((e) => e.type === 'retransmit'));
  t.true(readFileSync(join(dir, 'demo.html'), 'utf8').includes('<svg'));
  const bad = spawnSync(process.execPath, [...cli, 'demo', 'nope'], { encoding: 'utf8' });
  t.is(bad.status, 2);
  t.regex(bad.stderr, /unknown scenario 'nope'/);
});
