import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import type { HostExecResult, HostProcess, HostSpawnOptions } from '../backend.js';
import { statusOf } from './engine.js';

/** Inside each container: one pid file per exec'd process, so it can be signalled later. */
export const PID_DIR = '/run/socketlab';

/**
 * Wraps ARGV so that it runs as the leader of a new process group (setsid -w: forks when the exec
 * is a group leader already, and passes the exit code on) and records its pid:
 * a timeout or kill() then signals the whole group, like the netns backend's process groups.
 */
function wrap(pidFile: string, argv: string[], opts: HostSpawnOptions): string[] {
  const redirect = `${opts.stdoutFile ? ' >>"$SL_OUT"' : ''}${opts.stderrFile ? ' 2>>"$SL_ERR"' : ''}`;
  return ['setsid', '-w', 'sh', '-c', `echo $$ >"$0"; exec "$@"${redirect}`, pidFile, ...argv];
}

function envList(opts: HostSpawnOptions): string[] {
  return Object.entries({ ...opts.env, ...(opts.stdoutFile && { SL_OUT: opts.stdoutFile }), ...(opts.stderrFile && { SL_ERR: opts.stderrFile }) }).map(([k, v]) => `${k}=${v}`);
}

/** A process in a container, attached: its output demultiplexed (Docker frames stdout/stderr on one stream). */
export async function startInContainer(docker: Docker, container: Docker.Container, host: string, argv: string[], opts: HostSpawnOptions & { input?: string } = {}): Promise<HostProcess> {
  const pidFile = `${PID_DIR}/${randomUUID()}.pid`;
  const exec = await container.exec({ Cmd: wrap(pidFile, argv, opts), Env: envList(opts), AttachStdin: opts.input !== undefined, AttachStdout: true, AttachStderr: true, Tty: false });
  const stream = await exec.start({ hijack: true, stdin: opts.input !== undefined });
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  docker.modem.demuxStream(stream, stdout, stderr);
  if (opts.input !== undefined) stream.end(opts.input);
  const exited = new Promise<number | null>((resolve) => {
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      stdout.end();
      stderr.end();
      exec.inspect().then((i) => resolve(i.Running ? null : i.ExitCode), () => resolve(null));
    };
    stream.on('end', finish);
    stream.on('close', finish);
    stream.on('error', finish);
  });
  const signalGroup = async (signal: NodeJS.Signals): Promise<void> => {
    const sig = signal.replace(/^SIG/, '');
    try {
      const k = await container.exec({ Cmd: ['sh', '-c', `p=$(cat "$0" 2>/dev/null) && kill -${sig} -"$p" 2>/dev/null; true`, pidFile], AttachStdout: true, AttachStderr: true });
      const s = await k.start({ hijack: true, stdin: false });
      s.resume();
      await new Promise((r) => s.on('end', r).on('close', r).on('error', r));
    } catch (err) {
      if (statusOf(err) !== 404 && statusOf(err) !== 409) throw err; // the container is gone or stopping: so is the process
    }
  };
  return {
    host,
    stdout,
    stderr,
    exited,
    kill: (signal = 'SIGTERM') => signalGroup(signal),
    alive: async () => {
      try {
        return (await exec.inspect()).Running;
      } catch {
        return false;
      }
    },
  };
}

/** Runs ARGV in a container to completion; the process group gets SIGKILL after timeoutMs. */
export async function execInContainer(
  docker: Docker,
  container: Docker.Container,
  host: string,
  argv: string[],
  opts: { timeoutMs?: number; input?: string; env?: Record<string, string> } = {},
): Promise<HostExecResult & { raw: Buffer }> {
  const p = await startInContainer(docker, container, host, argv, { ...(opts.env && { env: opts.env }), ...(opts.input !== undefined && { input: opts.input }) });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  p.stdout.on('data', (d: Buffer) => out.push(d));
  p.stderr.on('data', (d: Buffer) => err.push(d));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void p.kill('SIGKILL').catch(() => undefined);
  }, opts.timeoutMs ?? 30_000);
  const code = await p.exited.finally(() => clearTimeout(timer));
  const raw = Buffer.concat(out);
  return { code: timedOut ? null : code, stdout: raw.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), timedOut, raw };
}
