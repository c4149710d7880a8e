import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync, renameSync, linkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { isSameProcess, procStartTime } from '../core/process.js';
import { LabError } from '../errors.js';

/** A process the lab started: a service or a background step. */
export interface RunProcess {
  name: string;
  kind: 'service' | 'step';
  host: string;
  pid: number;
  /** /proc/PID/stat start time: teardown signals the pid only while it still names this process */
  startTime?: string;
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
  runnerStartTime?: string;
  topologyId?: string;
  /** Where the hosts run (absent in older state files: netns with a topologyId, else local). */
  backend?: 'local' | 'netns' | 'docker';
  /** Docker: the image the hosts run. */
  image?: string;
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

/** Whether the lab's runner (another process) or any process it started still runs. */
export function stateIsLive(state: RunState): boolean {
  const runner = state.runnerPid !== process.pid && isSameProcess(state.runnerPid, state.runnerStartTime);
  return runner || state.processes.some((p) => p.pid !== process.pid && isSameProcess(p.pid, p.startTime));
}

const lockFile = (lab: string): string => join(runRoot(), `${lab}.lock`);

/** The live process (pid, start time) holding the lab's start lock, if any. */
export function startLockHolder(lab: string): number | undefined {
  const owner = readLock(lockFile(lab));
  return owner && isSameProcess(owner.pid, owner.startTime) ? owner.pid : undefined;
}

function readLock(file: string): { pid: number; startTime: string; text: string } | undefined {
  try {
    const text = readFileSync(file, 'utf8');
    const [pid, startTime] = text.trim().split(' ');
    return { pid: Number(pid), startTime: startTime ?? '', text };
  } catch {
    return undefined;
  }
}

/**
 * Takes the lab's start lock (RUNROOT/LAB.lock holding "pid starttime") or throws "already
 * starting" (exit 2): two `lab up` at once would otherwise tear down each other's half-built
 * topology. The file appears whole (written aside, then hard-linked), and a lock whose owner is
 * gone (killed, rebooted: pid dead or reused) is broken, so a crash cannot leave it stuck.
 * Returns the release function.
 */
export function acquireStartLock(lab: string): () => void {
  mkdirSync(runRoot(), { recursive: true });
  const file = lockFile(lab);
  const mine = `${process.pid} ${procStartTime(process.pid) ?? ''}\n`;
  const tmp = `${file}.${process.pid}`;
  writeFileSync(tmp, mine);
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        linkSync(tmp, file);
        return () => {
          if (readLock(file)?.text === mine) rmSync(file, { force: true });
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const owner = readLock(file);
      if (!owner) continue; // released meanwhile
      if (isSameProcess(owner.pid, owner.startTime || undefined)) {
        throw new LabError('LAB_ERR_LAB_RUN', `lab ${lab} is already starting (pid ${owner.pid}); wait for it, or stop it with "socketlab lab down ${lab}"`);
      }
      // stale: move it aside and check that what moved is the stale lock, not a new owner's
      const aside = `${file}.stale.${process.pid}`;
      try {
        renameSync(file, aside);
      } catch {
        continue;
      }
      if (readLock(aside)?.text !== owner.text) {
        try {
          linkSync(aside, file);
        } catch {
          // someone else holds it now; the next round sees them
        }
      }
      rmSync(aside, { force: true });
    }
    throw new LabError('LAB_ERR_LAB_RUN', `lab ${lab}: could not take the start lock ${file}; another socketlab is starting it`);
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // gone already
    }
  }
}
