import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, runCli } from '../helpers/cli.js';
import { describeWithPeers } from '../helpers/peers.js';

/**
 * The life of a localhost lab across processes: Ctrl-C in the middle of a step, `lab down` after
 * the runner was killed and its pids may name other processes, two `lab up` at once, and a lab
 * file from outside labs/ that must be confirmed.
 */
const work = mkdtempSync(join(tmpdir(), 'sl-lablife-'));
const runDir = join(work, 'run');
const env = { SOCKETLAB_RUN_DIR: runDir };
const stateFile = join(runDir, '96-lifecycle', 'state.json');
const stepMarker = join(work, 'step-3-ran');
const checkMarker = join(work, 'check-ran');
const lab = join(work, 'lab.yaml');
writeFileSync(lab, `name: 96-lifecycle
title: lifecycle
topic: lifecycle
hosts:
  - { name: local, kind: localhost }
services:
  - { name: echo, run: "echo --port 0 --tcp" }
steps:
  - { name: hold, run: "socketlab connect 127.0.0.1:\${echo.port} --hold 60", background: true, until: holding }
  - { name: wait, run: "sleep 30" }
  - { name: after, run: "touch ${stepMarker}" }
checks:
  - { kind: command, run: "touch ${checkMarker}", hint: h }
`);

interface State { runnerPid: number; processes: { name: string; kind: string; pid: number; startTime?: string }[] }
const readState = (): State => JSON.parse(readFileSync(stateFile, 'utf8')) as State;
const alive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
};
const until = async (ok: () => boolean, ms = 30_000): Promise<void> => {
  for (const end = Date.now() + ms; !ok() && Date.now() < end;) await new Promise((r) => setTimeout(r, 50));
};

afterAll(async () => {
  await runCli(['lab', 'down', lab], { env });
  rmSync(work, { recursive: true, force: true });
});

describe('lab lifecycle on localhost', () => {
  it('Ctrl-C during a foreground step stops the run: no later step, no check, nothing left running, exit 130', async () => {
    const child = spawn(process.execPath, [CLI, 'lab', 'run', lab, '--yes'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((res) => child.on('close', (c) => res(c)));
    try {
      await until(() => /step 2: wait/.test(out) || child.exitCode !== null);
      expect(out).toMatch(/step 2: wait/);
      const pids = readState().processes.map((p) => p.pid);
      expect(pids).toHaveLength(2); // the echo service and the background client
      child.kill('SIGINT');
      expect(await exited).toBe(130);
      expect(existsSync(stepMarker), 'step 3 ran after Ctrl-C').toBe(false);
      expect(existsSync(checkMarker), 'a check ran after Ctrl-C').toBe(false);
      expect(out).not.toMatch(/^checks$/m);
      for (const pid of pids) expect(alive(pid), `pid ${pid} still running`).toBe(false);
      expect(existsSync(stateFile)).toBe(false);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('lab down after kill -9 of the runner stops the lab\'s processes and spares a pid that names another process now', async () => {
    const up = await runCli(['lab', 'up', lab, '--yes', '--no-steps'], { env, timeoutMs: 30_000 });
    expect(up.code).toBe(0);
    const state = readState();
    const echo = state.processes.find((p) => p.name === 'echo')!;
    expect(echo.startTime).toMatch(/^\d+$/);
    process.kill(state.runnerPid, 'SIGKILL');
    await until(() => !alive(state.runnerPid));
    // after a crash or a reboot a recorded pid may belong to anyone: here an unrelated sleep,
    // recorded as if it were a step the lab started (its start time is the lab's, not the sleep's)
    const stranger = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
    try {
      await until(() => alive(stranger.pid!));
      state.processes.push({ ...echo, name: 'reused', kind: 'step', pid: stranger.pid! });
      writeFileSync(stateFile, JSON.stringify(state));
      const down = await runCli(['lab', 'down', lab], { env });
      expect(down.code).toBe(0);
      expect(alive(echo.pid), 'the lab\'s echo service is stopped').toBe(false);
      expect(alive(stranger.pid!), 'an unrelated process with a recorded pid was killed').toBe(true);
    } finally {
      stranger.kill('SIGKILL');
    }
  });

  it('two lab up at once: one starts the lab, the other exits 2 and leaves it alone', async () => {
    const [a, b] = await Promise.all([
      runCli(['lab', 'up', lab, '--yes', '--no-steps'], { env, timeoutMs: 30_000 }),
      runCli(['lab', 'up', lab, '--yes', '--no-steps'], { env, timeoutMs: 30_000 }),
    ]);
    try {
      expect([a.code, b.code].sort()).toEqual([0, 2]);
      const loser = a.code === 2 ? a : b;
      expect(loser.stderr).toMatch(/lab 96-lifecycle is already (starting|up)/);
      const state = readState();
      expect(alive(state.runnerPid)).toBe(true);
      for (const p of state.processes) expect(alive(p.pid), `${p.name} of the lab that is up`).toBe(true);
    } finally {
      expect((await runCli(['lab', 'down', lab], { env })).code).toBe(0);
    }
  });

  it('a lab file outside labs/ is shown and not run without a terminal or --yes (exit 2)', async () => {
    const r = await runCli(['lab', 'run', lab], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is not one of the installed labs\. It will run these commands as (root|you):/);
    expect(r.stderr).toContain('service echo on local: socketlab echo --port 0 --tcp');
    expect(r.stderr).toContain(`step 3 on local: touch ${stepMarker}`);
    expect(r.stderr).toContain(`check on local: touch ${checkMarker}`);
    expect(r.stderr).toMatch(/pass --yes/);
    expect(existsSync(stateFile)).toBe(false);
    const up = await runCli(['lab', 'up', lab], { env });
    expect(up.code).toBe(2);
    expect(up.stderr).toMatch(/pass --yes/);
    expect(existsSync(stateFile)).toBe(false);
  });
});

describeWithPeers('a lab file outside labs/ on a terminal', ['script'], () => {
  it('asks before running, and "n" runs nothing', async () => {
    const child = spawn('script', ['-qec', `${process.execPath} ${CLI} lab run ${lab}`, '/dev/null'], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((res) => child.on('close', (c) => res(c)));
    try {
      await until(() => /\[y\/N\]/.test(out) || child.exitCode !== null);
      expect(out).toMatch(/run lab 96-lifecycle\? \[y\/N\]/);
      child.stdin.write('n\r');
      expect(await exited).toBe(2);
      expect(out).toMatch(/not run \(not confirmed\)/);
      expect(existsSync(stateFile)).toBe(false);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
