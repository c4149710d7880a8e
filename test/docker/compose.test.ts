import { afterAll, beforeAll, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runCli } from '../helpers/cli.js';
import { hasPeer } from '../helpers/peer-table.js';
import { describeDocker, ensureImage, labelled } from './helpers.js';

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), 'sl-compose-'));
// the project name is the directory's: unique, so nothing of anyone else's is touched
const dir = join(work, `sl06${Date.now().toString(36)}`);
const compose = (args: string[], timeout = 120_000) => run('docker-compose', args, { cwd: dir, timeout, env: { ...process.env, COMPOSE: 'docker-compose' } });

describeDocker('compose export of 06-dns under docker-compose 1.29', () => {
  beforeAll(async () => {
    await ensureImage();
  }, 300_000);
  afterAll(async () => {
    await compose(['down', '--volumes', '--timeout', '1']).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  });

  it('up -d, steps.sh, the secondary answers with the change, down leaves nothing', async (ctx) => {
    if (!hasPeer('docker-compose')) {
      const why = 'needs docker-compose (Debian package docker-compose)';
      if (process.env.SOCKETLAB_REQUIRE_DOCKER === '1') throw new Error(`SOCKETLAB_REQUIRE_DOCKER=1 but this test ${why}`);
      console.warn(`skipping the compose export run: ${why}`);
      return ctx.skip();
    }
    const exp = await runCli(['lab', 'export', '06-dns', '--docker', dir, '--image', 'socketlab:lab']);
    expect(exp.code).toBe(0);
    const version = await run('docker-compose', ['version', '--short']);
    expect(version.stdout.trim()).toMatch(/^1\.29\./);

    await compose(['up', '-d']);
    const steps = await run('sh', [join(dir, 'steps.sh')], { cwd: dir, timeout: 120_000, env: { ...process.env, COMPOSE: 'docker-compose' } });
    expect(steps.stdout).toContain('== step 6: ');
    const dig = await compose(['exec', '-T', 'client', 'dig', '@10.0.6.54', 'ftp.example.com', 'A', '+norec', '+short']);
    expect(dig.stdout.trim()).toBe('192.0.2.21');

    await compose(['down', '--timeout', '1']);
    const project = dir.split('/').pop()!;
    expect((await labelled('06-dns')).filter((n) => n.includes(project))).toEqual([]);
  });
});
