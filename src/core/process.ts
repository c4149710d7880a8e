import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** dist/cli.js, also when this module runs from src/ under vitest: `socketlab ...` runs the same build everywhere. */
export const CLI_PATH = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/** What a finished command left: its exit code (null when a signal ended it), its output, and why it stopped. */
export interface ExecResult {
  code: number | null;
  /** The signal that ended it (the timeout's kill, or someone else's). */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Killed by the runner after timeoutMs. */
  timedOut: boolean;
  /** It could not be started (ENOENT, EACCES: code 127) or its output overran maxBuffer. */
  error?: Error;
}

export interface RunOptions {
  /** Killed (with its process group when `group`) after this long; default 60 s. */
  timeoutMs?: number;
  /** The signal of that kill; default SIGKILL. */
  killSignal?: NodeJS.Signals;
  /** Added to this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** Written to its stdin, then closed; without it stdin is /dev/null. */
  input?: string;
  /** Bytes of stdout+stderr kept at most; more kills it with `error` set. Default: no limit. */
  maxBuffer?: number;
  /**
   * Its own process group (default true), so the timeout kills what it started too and a Ctrl-C
   * at the terminal reaches only us: the caller decides what stops it (see `foreground`).
   */
  group?: boolean;
  /** Sees the child once started (to track it for a teardown). */
  onSpawn?: (child: ChildProcess) => void;
}

/** Group leaders started by run() and still running, so a teardown on Ctrl-C can stop them too. */
export const foreground = new Set<number>();

/** Runs argv to completion and collects its output. Never rejects: a start failure is `error` with code 127. */
export function run(argv: string[], opts: RunOptions = {}): Promise<ExecResult> {
  const group = opts.group ?? true;
  return new Promise((resolve) => {
    const stdio: StdioOptions = [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'];
    let child: ChildProcess;
    try {
      child = spawn(argv[0]!, argv.slice(1), { stdio, env: opts.env ? { ...process.env, ...opts.env } : process.env, detached: group });
    } catch (err) {
      resolve({ code: 127, signal: null, stdout: '', stderr: (err as Error).message, timedOut: false, error: err as Error });
      return;
    }
    const pid = child.pid;
    if (group && pid) foreground.add(pid);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let error: Error | undefined;
    const kill = (): void => {
      if (group) killGroup(child.pid, opts.killSignal ?? 'SIGKILL');
      else child.kill(opts.killSignal ?? 'SIGKILL');
    };
    const take = (add: (s: string) => void) => (d: string) => {
      add(d);
      if (opts.maxBuffer !== undefined && stdout.length + stderr.length > opts.maxBuffer && !error) {
        error = new Error(`output of ${argv[0]} exceeds ${opts.maxBuffer} bytes`);
        kill();
      }
    };
    child.stdout!.setEncoding('utf8').on('data', take((d) => (stdout += d)));
    child.stderr!.setEncoding('utf8').on('data', take((d) => (stderr += d)));
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, opts.timeoutMs ?? 60_000);
    opts.onSpawn?.(child);
    child.on('error', (err) => {
      clearTimeout(timer);
      if (pid) foreground.delete(pid);
      resolve({ code: 127, signal: null, stdout, stderr: stderr + err.message, timedOut, error: err });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (pid) foreground.delete(pid);
      resolve({ code, signal, stdout, stderr, timedOut, ...(error && { error }) });
    });
    if (child.stdin) {
      child.stdin.on('error', () => undefined); // EPIPE: it exited without reading
      child.stdin.end(opts.input);
    }
  });
}

/** Signals a process group started with `group` / detached: true (falls back to the process alone). */
export function killGroup(pid: number | undefined, signal: NodeJS.Signals): boolean {
  if (!pid) return false;
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  }
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
