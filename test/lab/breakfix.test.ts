import { afterAll, expect } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { runCli, CLI } from '../helpers/cli.js';
import { describeRoot } from '../helpers/root.js';
import { itWithPeers } from '../helpers/peers.js';
import { labPeers } from '../helpers/lab-peers.js';

/**
 * Break/fix labs as a student does them: lab up --break brings the lab up with its fault (and a
 * seed, so the commands carry this student's own addresses), lab check says the task is not done,
 * the student runs the commands lab hint gives, and lab check passes: the task and every check.
 */
const work = mkdtempSync(join(tmpdir(), 'sl-breakfix-'));
const env = { SOCKETLAB_RUN_DIR: join(work, 'run') };
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Report { exitCode: number; break?: string; tasks?: { id: string; done: boolean }[]; checks: { passed: boolean; name: string; detail: string }[] }

/** The commands `lab hint LAB TASK` tells the student to run, one per line. */
async function hintCommands(lab: string, task: string): Promise<string[]> {
  const r = await runCli(['lab', 'hint', lab, task], { env });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).not.toMatch(/\$\{|<[a-z0-9_.-]+>/);
  const lines = r.stdout.split('\n');
  return lines.slice(lines.findIndex((l) => /do this:/.test(l)) + 1, lines.findIndex((l) => /^then:/.test(l))).map((l) => l.replace(/#.*$/, '').trim()).filter(Boolean);
}

/** A hint line as argv: sudo dropped (the test is root), socketlab is the CLI under test. */
function argvOf(line: string, pid?: string): { argv: string[]; background: boolean } {
  const background = /&$/.test(line);
  const words = line.replace(/&$/, '').trim().split(/\s+/).filter((w, i) => !(i === 0 && w === 'sudo')).map((w) => (w === 'PID' && pid ? pid : w));
  return { argv: words.flatMap((w) => (w === 'socketlab' ? [process.execPath, CLI] : [w])), background };
}

function exec(argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(argv[0]!, argv.slice(1));
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function check(lab: string): Promise<{ code: number | null; report: Report; text: string }> {
  const r = await runCli(['lab', 'check', lab, '--json'], { env, timeoutMs: 120_000 });
  return { code: r.code, report: JSON.parse(r.stdout) as Report, text: r.stdout + r.stderr };
}

/** lab check until it passes (a secondary retries its transfer every few seconds), at most `tries` times. */
async function checkUntilPass(lab: string, tries: number): Promise<{ code: number | null; report: Report }> {
  let r = await check(lab);
  for (let i = 1; i < tries && r.code !== 0; i++) {
    await new Promise((res) => setTimeout(res, 2_000));
    r = await check(lab);
  }
  return r;
}

describeRoot('break/fix labs: lab check turns from FAIL to PASS once the student applies the hint', () => {
  itWithPeers('06-dns fix-acl: the primary restarted with an ACL that allows the secondary', labPeers('06-dns'), async () => {
    const lab = '06-dns';
    const up = await runCli(['lab', 'up', lab, '--seed', '3', '--break', 'fix-acl'], { env, timeoutMs: 180_000 });
    expect(up.code, up.stderr + up.stdout).toBe(0);
    expect(up.stdout).toMatch(/brought up broken on purpose \(task fix-acl\)/);
    const bg: ChildProcess[] = [];
    try {
      const broken = await check(lab);
      expect(broken.code).toBe(1);
      expect(broken.report.break).toBe('fix-acl');
      expect(broken.report.tasks!.find((t) => t.id === 'fix-acl')!.done).toBe(false);
      expect(broken.text).not.toMatch(/\$\{/);

      const [ask, find, kill, restart, ...rest] = await hintCommands(lab, 'fix-acl');
      expect(rest).toEqual([]);
      // what the student sees first: the primary refuses ns2's transfer
      const refused = await exec(argvOf(ask!).argv);
      expect(refused.stdout).toMatch(/Transfer failed|REFUSED/);
      const pid = /pid=(\d+)/.exec((await exec(argvOf(find!).argv)).stdout)?.[1];
      expect(pid).toBeDefined();
      expect((await exec(argvOf(kill!, pid).argv)).code).toBe(0);
      const { argv, background } = argvOf(restart!);
      expect(background).toBe(true);
      const server = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
      bg.push(server);
      await new Promise<void>((res, rej) => {
        let out = '';
        server.stdout!.on('data', (d: Buffer) => ((out += d.toString()), /listening on/.test(out) && res()));
        server.on('exit', (code) => rej(new Error(`the restarted primary exited (${code})`)));
      });

      const fixed = await checkUntilPass(lab, 5);
      expect(fixed.report.tasks!.find((t) => t.id === 'fix-acl')!.done).toBe(true);
      expect(fixed.report.checks.filter((c) => !c.passed).map((c) => `${c.name}: ${c.detail}`)).toEqual([]);
      expect(fixed.code).toBe(0);
    } finally {
      for (const p of bg) p.kill('SIGKILL');
      await runCli(['lab', 'down', lab], { env, timeoutMs: 60_000 });
    }
  }, 400_000);

  // the checks ping across the router: without ping the lab cannot turn PASS
  itWithPeers('08-dhcp-relay fix-route: the route back added in the server namespace', [...labPeers('08-dhcp-relay'), 'ping' as const], async () => {
    const lab = '08-dhcp-relay';
    const up = await runCli(['lab', 'up', lab, '--no-steps', '--seed', '4', '--break', 'fix-route'], { env, timeoutMs: 120_000 });
    expect(up.code, up.stderr + up.stdout).toBe(0);
    expect(up.stdout).toMatch(/brought up broken on purpose \(task fix-route\)/);
    try {
      const broken = await check(lab);
      expect(broken.code).toBe(1);
      expect(broken.report.break).toBe('fix-route');
      expect(broken.report.tasks!.find((t) => t.id === 'fix-route')!.done).toBe(false);
      expect(broken.text).not.toMatch(/\$\{/);

      const [look, add, ...rest] = await hintCommands(lab, 'fix-route');
      expect(rest).toEqual([]);
      expect((await exec(argvOf(look!).argv)).stdout).not.toMatch(/ via /);
      const fix = await exec(argvOf(add!).argv);
      expect(fix.code, fix.stderr).toBe(0);

      const fixed = await check(lab);
      expect(fixed.report.tasks!.find((t) => t.id === 'fix-route')!.done).toBe(true);
      expect(fixed.report.checks.filter((c) => !c.passed).map((c) => `${c.name}: ${c.detail}`)).toEqual([]);
      expect(fixed.code).toBe(0);
    } finally {
      await runCli(['lab', 'down', lab], { env, timeoutMs: 60_000 });
    }
  }, 300_000);
});
