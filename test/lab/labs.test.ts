import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { describeRoot } from '../helpers/root.js';
import { itWithPeers } from '../helpers/peers.js';
import { labPeers } from '../helpers/lab-peers.js';
import { listLabFiles, loadLabFile } from '../../src/lab/loader.js';
import { needsRoot } from '../../src/lab/schema.js';

/**
 * Every lab shipped in labs/ runs end to end with the real services and passes its checks.
 * Localhost labs run on port 0 (--var port=0) so they cannot collide with anything else here.
 */
const work = mkdtempSync(join(tmpdir(), 'sl-labs-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const env = { SOCKETLAB_RUN_DIR: join(work, 'run') };

interface ReportJson { lab: string; exitCode: number; error?: string; checks: { name: string; passed: boolean; detail: string }[]; steps: { name: string; ok: boolean }[] }

const labs = listLabFiles().map((l) => ({ ...l, spec: loadLabFile(l.file) }));

it('labs/ holds the course labs, each with a README', () => {
  expect(labs.length).toBeGreaterThanOrEqual(4);
  for (const l of labs) expect(readFileSync(join(l.dir, 'README.md'), 'utf8')).toMatch(new RegExp(`^# `, 'm'));
});

function labTest(l: (typeof labs)[number]): void {
  itWithPeers(`${l.name} passes its checks`, labPeers(l.file), async () => {
    const junit = join(work, `${l.name}.xml`);
    const vars = 'port' in l.spec.vars && !needsRoot(l.spec) ? ['--var', 'port=0'] : [];
    const r = await runCli(['lab', 'run', l.name, '--json', '--junit', junit, ...vars], { env, timeoutMs: 170_000 });
    const report = JSON.parse(r.stdout) as ReportJson;
    const failed = report.checks.filter((c) => !c.passed).map((c) => `${c.name}: ${c.detail}`);
    expect({ error: report.error, failed, failedSteps: report.steps.filter((s) => !s.ok).map((s) => s.name) }).toEqual({ error: undefined, failed: [], failedSteps: [] });
    expect(r.code).toBe(0);
    expect(report.checks.length).toBe(l.spec.checks.length);
    const xml = readFileSync(junit, 'utf8');
    // checks, plus the student's tasks and questions (skipped: nobody did them in this run)
    const tests = l.spec.checks.length + l.spec.tasks.length + l.spec.questions.length;
    expect(xml).toMatch(new RegExp(`<testsuite name="${l.name}" tests="${tests}" failures="0" errors="0"`));
    // every question has a right answer computed from this very run
    const answers = JSON.parse(readFileSync(join(env.SOCKETLAB_RUN_DIR, l.name, 'questions.json'), 'utf8')) as { id: string; value?: string; missing?: string }[];
    expect(answers.filter((a) => a.value === undefined)).toEqual([]);
  }, 180_000);
}

describe('localhost labs (no root)', () => {
  for (const l of labs.filter((x) => !needsRoot(x.spec))) labTest(l);
});

const rootLabs = labs.filter((x) => needsRoot(x.spec));
if (rootLabs.length > 0) {
  describeRoot('labs that need root (namespaces, tcpdump)', () => {
    for (const l of rootLabs) labTest(l);
  });
}
