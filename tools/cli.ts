// The tcplab command.

import { listScenarios, runDemo } from './demo';
import { reportCommand } from './report/cli';
import { connect, serve } from './serve';

const USAGE = `usage: tcplab <command>

commands:
  demo [SCENARIO] [--seed N] [--out PREFIX] [--no-files]
      run a built-in scenario on two simulated hosts: prints every segment with a note
      on what it does and why, and writes PREFIX.pcap, PREFIX.jsonl and PREFIX.html
      (PREFIX defaults to "demo"; SCENARIO to "loss")
  demo --list
      list the built-in scenarios
  report TRACE.jsonl [-o OUT.html]
      render a trace as one self-contained HTML page (ladder diagram, states, plots)
  serve --tun|--tap [--for SECONDS]
      (root) tcplab on a TUN/TAP device in a fresh network namespace, with an echo server
      (port 7) and an HTTP server (port 80); prints the commands that reach them
  connect --tun|--tap
      (root) the reverse: tcplab fetches a page from a kernel HTTP server in the namespace
  help
`;

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (v === undefined || v.startsWith('--')) {
    process.stderr.write(`tcplab: ${name} needs a value\n`);
    process.exit(2);
  }
  args.splice(i, 2);
  return v;
}

function demo(args: string[]): number {
  if (args.includes('--list')) {
    process.stdout.write(listScenarios().join('\n') + '\n');
    return 0;
  }
  const seedText = option(args, '--seed');
  const seed = seedText === undefined ? undefined : Number(seedText);
  if (seed !== undefined && !Number.isInteger(seed)) {
    process.stderr.write('tcplab: --seed needs an integer\n');
    return 2;
  }
  const out = args.includes('--no-files') ? null : option(args, '--out') ?? 'demo';
  const rest = args.filter((a) => a !== '--no-files');
  const unknown = rest.find((a) => a.startsWith('-'));
  if (unknown !== undefined) {
    process.stderr.write(`tcplab: unknown option ${unknown}\n${USAGE}`);
    return 2;
  }
  try {
    runDemo((l) => process.stdout.write(l + '\n'), {
      scenario: rest[0], seed, out, progress: (l) => process.stderr.write(l + '\n'),
    });
  } catch (err) {
    if (err instanceof RangeError) {
      process.stderr.write(`tcplab: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  return 0;
}

function main(argv: string[]): number {
  const [cmd, ...args] = argv;
  switch (cmd) {
    case 'demo':
      return demo(args);
    case 'report':
      return reportCommand(args);
    case 'serve':
    case 'connect': {
      const kind = args.includes('--tap') ? 'tap' : args.includes('--tun') ? 'tun' : null;
      if (kind === null) {
        process.stderr.write(`tcplab ${cmd}: say --tun or --tap\n`);
        return 2;
      }
      const print = (l: string): void => { process.stdout.write(l + '\n'); };
      try {
        if (cmd === 'serve') {
          const forText = option(args, '--for');
          serve(kind, print, forText === undefined ? undefined : Number(forText));
        } else {
          connect(kind, print).then((code) => { process.exitCode = code; }, (err: Error) => {
            process.stderr.write(`tcplab connect: ${err.message}\n`);
            process.exitCode = 1;
          });
        }
      } catch (err) {
        process.stderr.write(`tcplab ${cmd}: ${(err as Error).message}\n`);
        return 1;
      }
      return 0;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    default:
      process.stderr.write(`tcplab: unknown command '${cmd}'\n${USAGE}`);
      return 2;
  }
}

const code = main(process.argv.slice(2));
if (code !== 0) process.exitCode = code;
