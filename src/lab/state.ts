import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

/** A process the lab started: a service or a background step. */
export interface RunProcess {
  name: string;
  kind: 'service' | 'step';
  host: string;
  pid: number;
  stdout: string;
  stderr: string;
  /** the service's JSON log records (socketlab services only) */
  logFile?: string;
  /** from its ready line: `socketlab-echo listening on tcp+udp 127.0.0.1:7007` */
  listening?: { transport: string; address: string; port: number };
}

/** What `lab up` leaves behind so `lab check` and `lab down` (other processes) can find it. */
export interface RunState {
  lab: string;
  file: string;
  runDir: string;
  startedAt: string;
  runnerPid: number;
  topologyId?: string;
  /** host name -> namespace name */
  netns: Record<string, string>;
  vars: Record<string, string>;
  processes: RunProcess[];
}

/**
 * $SOCKETLAB_RUN_DIR, else $XDG_RUNTIME_DIR/socketlab-labs (already per user), else
 * /tmp/socketlab-labs-<uid>: a shared /tmp folder made by one user (say, root via sudo) would
 * otherwise lock every other user out of running labs.
 */
export function runRoot(): string {
  if (process.env.SOCKETLAB_RUN_DIR) return process.env.SOCKETLAB_RUN_DIR;
  if (process.env.XDG_RUNTIME_DIR && existsSync(process.env.XDG_RUNTIME_DIR)) return join(process.env.XDG_RUNTIME_DIR, 'socketlab-labs');
  return join(tmpdir(), `socketlab-labs-${process.getuid?.() ?? 'user'}`);
}

export function runDirFor(lab: string): string {
  return join(runRoot(), lab);
}

export function readState(lab: string): RunState | undefined {
  try {
    return JSON.parse(readFileSync(join(runDirFor(lab), 'state.json'), 'utf8')) as RunState;
  } catch {
    return undefined;
  }
}

/** Written after every change (atomically), so a crash leaves a state that `lab down` can clean. */
export function writeState(state: RunState): void {
  mkdirSync(state.runDir, { recursive: true });
  const f = join(state.runDir, 'state.json');
  writeFileSync(`${f}.tmp`, JSON.stringify(state, null, 2));
  renameSync(`${f}.tmp`, f);
}

export function freshRunDir(lab: string): string {
  const dir = runDirFor(lab);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'logs'), { recursive: true });
  return dir;
}

export function removeState(state: RunState): void {
  rmSync(join(state.runDir, 'state.json'), { force: true });
}
