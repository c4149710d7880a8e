import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built CLI (npm test builds first). */
export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/** `wrap` for runCli: the CLI as user nobody with no capabilities, so root-only paths really fail. */
export const AS_NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all'];

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `socketlab ARGS` as a separate process and collects its output. Bounded by timeoutMs. */
export function runCli(
  args: string[],
  opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; input?: string; wrap?: string[] } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    // `wrap` runs the CLI under another command (setpriv, ip netns exec ...).
    const argv = [...(opts.wrap ?? []), process.execPath, CLI, ...args];
    const child = spawn(argv[0]!, argv.slice(1), {
      env: { ...process.env, SOCKETLAB_LOG_LEVEL: 'warn', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

export interface RunningCli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then SIGKILL after 5 s; resolves with the exit code. Safe to call twice. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts a long-running `socketlab ARGS` (a server) and resolves once its stdout matches `ready`.
 * Use with `await using` so the process is stopped even when the test fails.
 */
export function startCli(
  args: string[],
  opts: { ready: RegExp; timeoutMs?: number; env?: NodeJS.ProcessEnv; command?: string[] },
): Promise<RunningCli> {
  const argv = opts.command ? [...opts.command, process.execPath, CLI, ...args] : [process.execPath, CLI, ...args];
  const child = spawn(argv[0]!, argv.slice(1), {
    env: { ...process.env, SOCKETLAB_LOG_LEVEL: 'info', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let stopping: Promise<number | null> | undefined;
  const exited = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
  const running: RunningCli = {
    child,
    stdout: () => out,
    stderr: () => err,
    stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      return (stopping ??= (async () => {
        child.kill(signal);
        const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
        const code = await exited;
        clearTimeout(t);
        return code;
      })());
    },
    async [Symbol.asyncDispose]() {
      await running.stop();
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void running.stop('SIGKILL');
      reject(new Error(`not ready after ${opts.timeoutMs ?? 15_000} ms: socketlab ${args.join(' ')}\nstdout: ${out}\nstderr: ${err}`));
    }, opts.timeoutMs ?? 15_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (opts.ready.test(out)) {
        clearTimeout(timer);
        resolve(running);
      }
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before ready: socketlab ${args.join(' ')}\nstdout: ${out}\nstderr: ${err}`));
    });
  });
}
