import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

/**
 * `lab status` of a namespace lab that is down (after `lab run`) evaluates its checks with the
 * last run's values; its hosts are gone, so nothing may run on this machine in their place: a
 * check's `dig @10.0.12.53` or `curl http://10.0.12.80:8080/` there went out of the machine's own
 * default route (lab 12-web's task check got a 404 from whatever answered outside).
 */
const work = mkdtempSync(join(tmpdir(), 'sl-status-down-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('lab status of a namespace lab that is down', () => {
  it("runs no check's command on this machine, and says why the check could not be evaluated", async () => {
    const dir = join(work, 'labs', '99-down');
    mkdirSync(dir, { recursive: true });
    const marker = join(work, 'ran-on-this-machine');
    writeFileSync(join(dir, 'README.md'), '# Lab 99\n');
    writeFileSync(join(dir, 'lab.yaml'), [
      'name: 99-down',
      'title: a namespace lab that is down',
      'topic: status after the run',
      'hosts:',
      '  - { name: client, kind: netns }',
      'checks:',
      '  - kind: command',
      '    host: client',
      `    run: touch ${marker}`,
      '    hint: the client host runs it',
    ].join('\n'));
    const runDir = join(work, 'run');
    mkdirSync(join(runDir, '99-down'), { recursive: true });
    writeFileSync(join(runDir, '99-down', 'last-run.json'), JSON.stringify({ lab: '99-down', runDir: join(runDir, '99-down'), startedAt: new Date().toISOString(), scope: {}, logs: {} }));
    const r = await runCli(['lab', 'status', join(dir, 'lab.yaml'), '--json'], { env: { SOCKETLAB_RUN_DIR: runDir } });
    expect(existsSync(marker)).toBe(false);
    const report = JSON.parse(r.stdout) as { checks: { passed: boolean; detail: string }[] };
    expect(report.checks[0]).toMatchObject({ passed: false, detail: expect.stringMatching(/network namespace.*lab 99-down is down/) });
  });
});
