import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { describeRoot } from '../helpers/root.js';
import { itWithPeers } from '../helpers/peers.js';
import { labPeers } from '../helpers/lab-peers.js';
import { runLab } from '../../src/api/lab.js';
import { resolveLab } from '../../src/lab/loader.js';
import { variantVars } from '../../src/lab/variants.js';

/**
 * Per-student variants of the namespace labs, for real: two seeds give each student their own
 * subnet, addresses, zone name and MACs; both runs pass every check, the same question has a
 * different right answer, a copied answer is wrong, and lab grade has one row per student with the seed.
 */
const work = mkdtempSync(join(tmpdir(), 'sl-variants-'));
const runDir = join(work, 'run');
const results = join(work, 'results');
mkdirSync(results);
const env = { SOCKETLAB_RUN_DIR: runDir };
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Report { exitCode: number; student?: string; seed?: number; checks: { passed: boolean; name: string }[] }
const expected = (lab: string): Record<string, string> =>
  Object.fromEntries((JSON.parse(readFileSync(join(runDir, lab, 'questions.json'), 'utf8')) as { id: string; value: string }[]).map((q) => [q.id, q.value]));
const scopeOf = (lab: string): Record<string, string> => (JSON.parse(readFileSync(join(runDir, lab, 'last-run.json'), 'utf8')) as { scope: Record<string, string> }).scope;
const noPlaceholder = (...texts: string[]): void => expect(texts.join('\n')).not.toMatch(/\$\{/);

/** Runs LAB as STUDENT with SEED: every check passes; returns this run's right answers and values. */
async function runAs(lab: string, student: string, seed: string): Promise<{ answers: Record<string, string>; scope: Record<string, string> }> {
  const r = await runCli(['lab', 'run', lab, '--seed', seed, '--student', student, '--json'], { env, timeoutMs: 150_000 });
  const report = JSON.parse(r.stdout) as Report;
  expect(report.checks.filter((c) => !c.passed).map((c) => c.name), r.stderr).toEqual([]);
  expect(r.code, r.stderr).toBe(0);
  expect(report).toMatchObject({ student, seed: Number(seed) });
  noPlaceholder(r.stdout, r.stderr);
  return { answers: expected(lab), scope: scopeOf(lab) };
}

describeRoot('variants of the namespace labs', () => {
  itWithPeers('06-dns: two seeds, two zones and subnets; both pass; a copied answer is wrong; lab grade has both', labPeers('06-dns'), async () => {
    const lab = '06-dns';
    const shown = await runCli(['lab', 'show', lab, '--seed', '1']);
    noPlaceholder(shown.stdout.replace(/<run_dir>/g, ''));

    const alice = await runAs(lab, 'alice', '1');
    // the zone file was rendered with alice's zone and addresses
    const zone = readFileSync(join(runDir, lab, 'example.zone'), 'utf8');
    expect(zone).toContain(`$ORIGIN ${alice.scope.zone}.`);
    expect(zone).toMatch(new RegExp(`^ns2\\s+IN\\s+A\\s+${alice.scope.ns2_ip!.replace(/\./g, '\\.')}$`, 'm'));
    expect(alice.scope.zone).not.toBe('example.com');
    expect(alice.answers['axfr-client']).toBe(alice.scope.ns2_ip);
    const right = await runCli(['lab', 'answer', lab, 'axfr-client', alice.answers['axfr-client']!], { env });
    expect(right.code, right.stderr).toBe(0);
    writeFileSync(join(results, 'alice.json'), (await runCli(['lab', 'status', lab, '--json'], { env })).stdout);

    const bob = await runAs(lab, 'bob', '2');
    expect(bob.scope.zone).not.toBe(alice.scope.zone);
    expect(bob.scope.lan).not.toBe(alice.scope.lan);
    expect(bob.answers['axfr-client']).not.toBe(alice.answers['axfr-client']);
    expect(bob.answers['notify-from']).not.toBe(alice.answers['notify-from']);
    const copied = await runCli(['lab', 'answer', lab, 'axfr-client', alice.answers['axfr-client']!], { env });
    expect(copied.code).toBe(1);
    expect(copied.stdout).toMatch(/^wrong/);
    noPlaceholder(copied.stdout, copied.stderr);
    expect((await runCli(['lab', 'answer', lab, 'notify-from', bob.answers['notify-from']!], { env })).code).toBe(0);
    const status = await runCli(['lab', 'status', lab], { env });
    expect(status.stdout).toMatch(/lab 06-dns, student bob, seed 2/);
    noPlaceholder(status.stdout, status.stderr);
    writeFileSync(join(results, 'bob.json'), (await runCli(['lab', 'status', lab, '--json'], { env })).stdout);

    const grade = await runCli(['lab', 'grade', results], { env });
    expect(grade.code, grade.stderr).toBe(0);
    const csv = readFileSync(join(results, 'grades.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toMatch(/^student,seed,06-dns,/);
    expect(csv[1]).toMatch(/^alice,1,\d+,/);
    expect(csv[2]).toMatch(/^bob,2,\d+,/);
  }, 400_000);

  itWithPeers('07-dhcp: two seeds, two scopes, reservations and MACs; both pass; the leased address differs', labPeers('07-dhcp'), async () => {
    const lab = '07-dhcp';
    const one = await runAs(lab, 'carol', '11');
    const two = await runAs(lab, 'dave', '12');
    expect(one.scope.pc1_mac).not.toBe('aa:bb:cc:00:07:01');
    expect(two.scope.pc1_mac).not.toBe(one.scope.pc1_mac);
    expect(two.scope.reserved_ip).not.toBe(one.scope.reserved_ip);
    // the question's text names this student's MAC; its answer is in this student's scope
    const q = JSON.parse(readFileSync(join(runDir, lab, 'questions.json'), 'utf8')) as { id: string; text: string }[];
    expect(q.find((x) => x.id === 'pc1-address')!.text).toContain(two.scope.pc1_mac);
    expect(two.answers['pc1-address']).toMatch(new RegExp(`^${two.scope.lan!.replace(/\.0\/24$/, '').replace(/\./g, '\\.')}\\.1\\d\\d$`));
    expect(two.answers['pc1-address']).not.toBe(one.answers['pc1-address']);
    const copied = await runCli(['lab', 'answer', lab, 'pc1-address', one.answers['pc1-address']!], { env });
    expect(copied.code).toBe(1);
    noPlaceholder(copied.stdout, copied.stderr);
  }, 300_000);
});

describe('the public API: runLab with a seed', () => {
  it("runs the seed's variant, as --seed does (lab 02 on its own port and loopback address)", { timeout: 90_000 }, async () => {
    const spec = resolveLab('02-socket-pairs');
    const v = variantVars(spec.variants, 5, spec.vars);
    const before = process.env.SOCKETLAB_RUN_DIR;
    process.env.SOCKETLAB_RUN_DIR = runDir;
    try {
      const r = await runLab('02-socket-pairs', { seed: 5 });
      expect(r.checks.filter((c) => !c.passed).map((c) => c.name), r.error).toEqual([]);
      expect(r).toMatchObject({ passed: true, seed: 5 });
      expect(r.checks.map((c) => c.name).join('\n')).toContain(`tcp/${v.port} is LISTEN`);
      expect(r.events.find((e) => e.event === 'tcp.accept')?.to).toBe(`${v.server_ip}:${v.port}`);
    } finally {
      if (before === undefined) delete process.env.SOCKETLAB_RUN_DIR;
      else process.env.SOCKETLAB_RUN_DIR = before;
    }
  });
});
