import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { LabError } from '../errors.js';
import { CLI_PATH, isSameProcess, killGroup, procStartTime, run, stopProcess } from '../core/process.js';
import { listSockets } from '../netstat/sockets.js';
import type { BuildOptions, HostBackend, HostExecResult, HostProcess, HostSpawnOptions, HostTopology, LabHost, TopologySpec } from './backend.js';

/** A LabHost whose processes run on this machine (optionally behind a prefix such as `ip netns exec NS`). */
export interface ProcessHost extends LabHost {
  /** The network namespace (netns backend), for the socket table and the live view's captures. */
  readonly netns?: string;
}

/** A host process with a pid on this machine: the state file records it, so `lab down` from another process stops it. */
export interface LocalProcess extends HostProcess {
  readonly pid: number;
  readonly startTime?: string;
}

/**
 * A `socketlab` on PATH in the run dir for lab commands (`sh -c "socketlab ... 2>&1"`), running this very build.
 * Docker hosts have the image's own socketlab on PATH instead.
 */
function installShim(dir: string): string {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  const shim = join(dir, 'bin', 'socketlab');
  if (!existsSync(shim)) writeFileSync(shim, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI_PATH)} "$@"\n`, { mode: 0o755 });
  return join(dir, 'bin');
}

const ended = (): Readable => {
  const s = new PassThrough();
  s.end();
  return s;
};

/** Starts ARGV detached (its own process group) with its output appended to files; the pid is recorded by the caller. */
export function spawnLocal(host: string, argv: string[], opts: HostSpawnOptions, env: NodeJS.ProcessEnv): LocalProcess {
  const toFiles = opts.stdoutFile !== undefined || opts.stderrFile !== undefined;
  const o = opts.stdoutFile ? openSync(opts.stdoutFile, 'a') : 'ignore';
  const e = opts.stderrFile ? openSync(opts.stderrFile, 'a') : 'ignore';
  const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', toFiles ? o : 'pipe', toFiles ? e : 'pipe'], env: { ...process.env, ...env, ...opts.env } });
  if (typeof o === 'number') closeSync(o);
  if (typeof e === 'number') closeSync(e);
  child.on('error', () => {});
  if (!child.pid) throw new LabError('LAB_ERR_LAB_RUN', `${host}: could not start ${argv[0]}`);
  child.unref();
  const pid = child.pid;
  const startTime = procStartTime(pid);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    host,
    pid,
    ...(startTime !== undefined && { startTime }),
    stdout: child.stdout ?? ended(),
    stderr: child.stderr ?? ended(),
    exited,
    kill: async (signal = 'SIGTERM') => {
      if (signal === 'SIGTERM') await stopProcess(pid, 5_000, startTime);
      else if (isSameProcess(pid, startTime)) killGroup(pid, signal);
    },
    alive: async () => isSameProcess(pid, startTime),
  };
}

/** A host on this machine, its commands prefixed by PREFIX (`ip netns exec NS` for a namespace). */
export function processHost(name: string, opts: { prefix?: string[]; netns?: string; interfaces?: LabHost['interfaces']; mounts?: string[] }): ProcessHost {
  const prefix = opts.prefix ?? [];
  const bin = opts.mounts?.[0] ? installShim(opts.mounts[0]) : undefined;
  const env: NodeJS.ProcessEnv = { NO_COLOR: '1', ...(bin && { PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}` }) };
  const cli = (args: string[]): string[] => [process.execPath, CLI_PATH, ...args];
  const full = (argv: string[]): string[] => [...prefix, ...(argv[0] === 'socketlab' ? cli(argv.slice(1)) : argv)];
  return {
    name,
    interfaces: opts.interfaces ?? [],
    ...(opts.netns !== undefined && { netns: opts.netns }),
    exec: async (argv, o = {}): Promise<HostExecResult> => {
      if (o.input !== undefined) throw new LabError('LAB_ERR_INTERNAL', 'exec with input is not supported on local hosts');
      return run(full(argv), { timeoutMs: o.timeoutMs ?? 30_000, env: { ...env, ...o.env } });
    },
    spawn: async (argv, o = {}) => spawnLocal(name, full(argv), o, env),
    readFile: async (path) => {
      if (!opts.netns) return readFileSync(path);
      const r = await run([...prefix, 'cat', '--', path], { timeoutMs: 10_000 });
      if (r.code !== 0) throw new LabError('LAB_ERR_NETNS', `${name}: cannot read ${path}: ${r.stderr.trim()}`);
      return Buffer.from(r.stdout);
    },
    cli,
    sockets: (o) => listSockets({ ...o, ...(opts.netns !== undefined && { netns: opts.netns }) }),
  };
}

/** This machine as every lab host (localhost labs): nothing to build, nothing to remove. */
export const localBackend: HostBackend = {
  name: 'local',
  build: async (spec: TopologySpec, opts: BuildOptions): Promise<HostTopology> => {
    const hosts = Object.fromEntries(spec.hosts.map((h) => [h.name, processHost(h.name, { ...(opts.mounts && { mounts: opts.mounts }) })]));
    const close = async (): Promise<void> => {};
    return { backend: 'local', id: spec.id ?? 'local', hosts, close, [Symbol.asyncDispose]: close };
  },
  attach: async (spec, opts) => localBackend.build(spec, opts),
  clean: async () => [],
};
