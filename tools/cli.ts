// The tcplab command.

import { runDemo } from './demo';

const USAGE = `usage: tcplab <command>

commands:
  demo [--seed N] [--bytes N] [--loss PERCENT] [--delay MS]
      two hosts in simulation over a lossy, delayed link: one line per segment
  help
`;

function flag(args: string[], name: string): number | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = Number(args[i + 1]);
  if (!Number.isFinite(v)) {
    process.stderr.write(`tcplab: ${name} needs a number\n`);
    process.exit(2);
  }
  return v;
}

function main(argv: string[]): void {
  const [cmd, ...args] = argv;
  switch (cmd) {
    case 'demo': {
      const lines: string[] = [];
      runDemo((l) => lines.push(l), {
        seed: flag(args, '--seed'), bytes: flag(args, '--bytes'), lossPercent: flag(args, '--loss'), delayMs: flag(args, '--delay'),
      });
      process.stdout.write(lines.join('\n') + '\n');
      return;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return;
    default:
      process.stderr.write(`tcplab: unknown command '${cmd}'\n${USAGE}`);
      process.exit(2);
  }
}

main(process.argv.slice(2));
