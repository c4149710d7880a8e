import { afterAll, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, runCli } from '../helpers/cli.js';
import { describeRoot } from '../helpers/root.js';
import { describeWithPeers } from '../helpers/peers.js';
import { labPeers } from '../helpers/lab-peers.js';

/** Teardown is certain for namespace labs: Ctrl-C, `lab down` after `lab up`, and after a crash (kill -9). */
const work = mkdtempSync(join(tmpdir(), 'sl-labdown-'));
const runDir = join(work, 'run');
const env = { SOCKETLAB_RUN_DIR: runDir };
const stateFile = join(runDir, '98-teardown', 'state.json');
const lab = join(work, 'lab.yaml');
writeFileSync(lab, `name: 98-teardown
title: teardown
topic: teardown
hosts:
  - { name: client, kind: netns }
  - { name: server, kind: netns }
segments:
  - name: lan
    members:
      - { host: client, address: 10.0.98.10/24 }
      - { host: server, address: 10.0.98.80/24 }
services:
  - { name: echo, host: server, run: "echo --host 10.0.98.80 --port 7007 --tcp" }
steps:
  - { name: hold, host: client, run: "socketlab connect 10.0.98.80:7007 --hold 60", background: true, until: holding }
  - { name: wait, host: client, run: "sleep 30" }
checks:
  - { kind: established-pairs, host: server, port: 7007, count: 1, hint: h }
`);

afterAll(async () => {
  await runCli(['lab', 'down', lab], { env });
  rmSync(work, { recursive: true, force: true });
});

const namespacesOf = (id: string): string[] =>
  execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.startsWith(`sl-${id}-`));
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
interface State { topologyId: string; processes: { pid: number }[] }

async function startAndWait(): Promise<{ child: ReturnType<typeof spawn>; exited: Promise<number | null>; state: State }> {
  const child = spawn(process.execPath, [CLI, 'lab', 'run', lab, '--yes'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((res) => child.on('close', (c) => res(c)));
  // "step 2" is printed as it starts: the client holds its connection, sleep 30 is running
  for (let i = 0; i < 300 && !/step 2: wait/.test(out) && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
  expect(out).toMatch(/step 2: wait/);
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as State;
  return { child, exited, state };
}

describeRoot('namespace lab teardown', () => describeWithPeers('with its peers', labPeers(lab), () => {
  it('Ctrl-C removes the processes and every namespace of the lab', async () => {
    const { child, exited, state } = await startAndWait();
    try {
      expect(namespacesOf(state.topologyId).length).toBe(3); // client, server, switch
      expect(state.processes).toHaveLength(2);
      child.kill('SIGINT');
      expect(await exited).toBe(130);
      expect(namespacesOf(state.topologyId)).toEqual([]);
      for (const p of state.processes) expect(alive(p.pid)).toBe(false);
      expect(existsSync(stateFile)).toBe(false);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('after a crash of the runner (kill -9), lab down removes what it left', async () => {
    const { child, exited, state } = await startAndWait();
    child.kill('SIGKILL');
    await exited;
    expect(namespacesOf(state.topologyId).length).toBe(3);
    const down = await runCli(['lab', 'down', lab], { env });
    expect(down.code).toBe(0);
    expect(down.stdout).toMatch(new RegExp(`namespaces sl-${state.topologyId}-\\* removed`));
    expect(namespacesOf(state.topologyId)).toEqual([]);
    for (const p of state.processes) expect(alive(p.pid)).toBe(false);
  });

  it('two lab up at once: the second exits 2 and the first keeps its half-built namespaces', async () => {
    // building the namespaces takes a while with no process started yet: the second up used to
    // take that state for a dead lab and tear it down under the first
    const [a, b] = await Promise.all([
      runCli(['lab', 'up', lab, '--no-steps', '--yes'], { env, timeoutMs: 60_000 }),
      runCli(['lab', 'up', lab, '--no-steps', '--yes'], { env, timeoutMs: 60_000 }),
    ]);
    try {
      expect([a.code, b.code].sort()).toEqual([0, 2]);
      expect((a.code === 2 ? a : b).stderr).toMatch(/lab 98-teardown is already (starting|up)/);
      const state = JSON.parse(readFileSync(stateFile, 'utf8')) as State;
      expect(namespacesOf(state.topologyId).length).toBe(3);
      for (const p of state.processes) expect(alive(p.pid)).toBe(true);
    } finally {
      expect((await runCli(['lab', 'down', lab], { env })).code).toBe(0);
    }
  });

  it('lab up leaves the namespaces running for lab check; lab down removes them', async () => {
    const up = await runCli(['lab', 'up', lab, '--no-steps', '--yes'], { env, timeoutMs: 60_000 });
    expect(up.code).toBe(0);
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as State;
    try {
      expect(namespacesOf(state.topologyId).length).toBe(3);
      // no client was started (--no-steps): the check must fail, against the live namespace
      const check = await runCli(['lab', 'check', lab, '--json'], { env });
      expect(check.code).toBe(1);
      expect(check.stdout).toMatch(/0 ESTABLISHED on server port 7007/);
    } finally {
      expect((await runCli(['lab', 'down', lab], { env })).code).toBe(0);
    }
    expect(namespacesOf(state.topologyId)).toEqual([]);
  });
}));
