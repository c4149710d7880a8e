import { describe, expect, it } from 'vitest';
import { AS_NOBODY, runCli } from '../helpers/cli.js';
import { listLabFiles } from '../../src/lab/loader.js';

/** lab list / show as a learner meets them first. */
describe('lab list and show', () => {
  it('lists every lab with where it runs', async () => {
    const r = await runCli(['lab', 'list', '--json']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as { name: string; needsRoot: boolean; where: string }[];
    expect(rows.map((x) => x.name)).toEqual(listLabFiles().map((l) => l.name));
    expect(rows.find((x) => x.name === '02-socket-pairs')).toMatchObject({ needsRoot: false, where: 'localhost' });
    expect(rows.find((x) => x.name === '03-handshake')).toMatchObject({ needsRoot: true, where: 'localhost (root)' });
    expect(rows.find((x) => x.name === '07-dhcp')).toMatchObject({ needsRoot: true, where: 'namespaces (root)' });
    const human = await runCli(['lab', 'list']);
    expect(human.stdout).toMatch(/^02-socket-pairs\s+localhost\s+Socket pairs and netstat$/m);
  });

  it('shows a lab by number: hosts, services, steps and its checks in the course\'s words', async () => {
    const r = await runCli(['lab', 'show', '2']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^02-socket-pairs: Socket pairs and netstat$/m);
    expect(r.stdout).toMatch(/echo on local: socketlab echo --port 8920 --host 127\.0\.0\.1$/m);
    expect(r.stdout).toMatch(/- tcp\/8920 is LISTEN, held by socketlab-echo/);
    expect(r.stdout).toMatch(/- exactly 3 ESTABLISHED pairs share server port 8920/);
  });

  it('an unknown lab names the labs there are, exit 2', async () => {
    const r = await runCli(['lab', 'run', 'no-such-lab']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no lab named "no-such-lab" in .*labs: 01-ports, 02-socket-pairs/);
  });

  it('checking a namespace lab that is not up says so (exit 2) instead of checking this machine', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'sl-labcheck-'));
    try {
      const r = await runCli(['lab', 'check', '10-slaac', '--json'], { env: { SOCKETLAB_RUN_DIR: dir } });
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/lab 10-slaac is not up: its hosts are network namespaces, made by "sudo socketlab lab up 10-slaac"/);
      expect(r.code).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a namespace lab without root says so (as a normal user)', async () => {
    if (process.getuid?.() !== 0) {
      const r = await runCli(['lab', 'run', '07-dhcp']);
      expect(r.code).toBe(2);
      expect(r.stdout + r.stderr).toMatch(/needs root/);
      return;
    }
    // as root: run it as nobody, who cannot create namespaces
    const r = await runCli(['lab', 'run', '07-dhcp'], { wrap: AS_NOBODY, env: { SOCKETLAB_RUN_DIR: '/tmp/sl-nobody-labs' } });
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toMatch(/lab 07-dhcp builds network namespaces and needs root: run "sudo socketlab lab run 07-dhcp"/);
  });
});
