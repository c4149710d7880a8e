import { readFileSync } from 'node:fs';
import { LabError } from '../errors.js';
import { CLI_PATH, killGroup, run, type ExecResult as RunResult } from '../core/process.js';

// the one process runner, CLI path, process-group kill and set of foreground commands live in core
export { CLI_PATH, foreground, killGroup } from '../core/process.js';

/** What a command run on a lab host left (any backend): exit code, output, timed out or not. */
export type ExecResult = Pick<RunResult, 'code' | 'stdout' | 'stderr' | 'timedOut'>;

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

/** Runs a command to completion, bounded by timeoutMs (killed with its process group after that). */
export function execArgv(argv: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): ReturnType<typeof run> {
  return run(argv, { timeoutMs: opts.timeoutMs ?? 60_000, ...(opts.env && { env: opts.env }) });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A process's start time (field 22 of /proc/PID/stat, clock ticks since boot), or undefined when
 * it is gone. With the pid it names one process for good: a pid alone is reused after a crash or
 * a reboot, and signalling it would hit whatever runs under that number now.
 */
export function procStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces and parentheses: count from its last ')'
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Still the process we started: alive, and (when its start time was recorded) started at that time. */
export function isSameProcess(pid: number, startTime: string | undefined): boolean {
  if (!pid || !isAlive(pid)) return false;
  return startTime === undefined || procStartTime(pid) === startTime;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** SIGTERM to the group, SIGKILL after graceMs if still alive; only while it is the process started at startTime. */
export async function stopProcess(pid: number, graceMs = 5_000, startTime?: string): Promise<void> {
  const ours = (): boolean => isSameProcess(pid, startTime);
  if (!ours()) return;
  killGroup(pid, 'SIGTERM');
  const until = Date.now() + graceMs;
  while (Date.now() < until) {
    if (!ours()) return;
    await sleep(50);
  }
  if (ours()) killGroup(pid, 'SIGKILL');
  const hard = Date.now() + 2_000;
  while (ours() && Date.now() < hard) await sleep(20);
}
