import { LabError } from '../errors.js';
import { CLI_PATH } from '../core/process.js';

/** Splits a command line as a POSIX shell would for plain words, '...' and "..." (no expansion, no globbing). */
export function splitCommand(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      // POSIX: inside "..." a backslash escapes only $ ` " \ and newline; elsewhere it stays
      else if (c === '\\' && quote === '"' && i + 1 < line.length && '$`"\\\n'.includes(line[i + 1]!)) cur += line[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw new LabError('LAB_ERR_LAB_FILE', `unterminated ${quote} quote in command: ${line}`);
  if (inWord) out.push(cur);
  return out;
}

/** `socketlab x` -> node dist/cli.js x; anything else runs as written. */
export function resolveArgv(argv: string[]): string[] {
  if (argv[0] === 'socketlab') return [process.execPath, CLI_PATH, ...argv.slice(1)];
  return argv;
}

/** Wraps argv to run inside a network namespace (or unchanged on localhost). */
export function inHost(netns: string | undefined, argv: string[]): string[] {
  return netns ? ['ip', 'netns', 'exec', netns, ...argv] : argv;
}
