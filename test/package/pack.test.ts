import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { reversePatch } from '../helpers/unpatch.js';

/**
 * The published package runs the patched DHCP codec even when installed without install scripts
 * (`--ignore-scripts`, recent npm's default for dependencies, global installs): it bundles it.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'sl-pack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Run { code: number; stdout: string; stderr: string }
function run(cmd: string, args: string[], cwd: string, timeout = 120_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, timeout, env: { ...process.env, NO_COLOR: '1', SOCKETLAB_LOG_LEVEL: 'warn' } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('npm pack, then npm install --ignore-scripts', () => {
  const consumer = join(work, 'consumer');
  const bin = join(consumer, 'node_modules', '.bin', 'socketlab');
  const bundled = join(consumer, 'node_modules', 'socketlab', 'node_modules', 'dhcp');

  it('the installed package runs the patched codec it bundles', async () => {
    const pack = await run('npm', ['pack', '--pack-destination', work], root, 180_000);
    expect(pack.code, pack.stderr).toBe(0);
    const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'))!;
    mkdirSync(consumer);
    writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
    const inst = await run('npm', ['install', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', join(work, tgz)], consumer, 180_000);
    expect(inst.code, inst.stderr).toBe(0);
    expect(readFileSync(join(bundled, 'lib', 'protocol.js'), 'utf8')).toContain('socketlab patch');

    const help = await run(bin, ['dhcp', 'serve', '--help'], consumer);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: socketlab dhcp serve/);
    const check = await run(bin, ['dhcp', 'selfcheck'], consumer);
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toContain(`patched node-dhcp in ${bundled}`);
  }, 400_000);

  it('with the patch undone in the installed copy, dhcp selfcheck and dhcp serve refuse with exit 1', async () => {
    reversePatch(bundled);
    const check = await run(bin, ['dhcp', 'selfcheck'], consumer);
    expect(check.code).toBe(1);
    expect(check.stderr).toMatch(/^socketlab: the DHCP codec in .*WITHOUT socketlab's patch/);
    expect(check.stderr).not.toMatch(/Option \d+ not known|\n\s+at /);
    const serve = await run(bin, ['dhcp', 'serve', '-i', 'lo', '--subnet', '127.0.0.0/8', '--range', '127.0.0.100-127.0.0.110'], consumer, 20_000);
    expect(serve.code).toBe(1);
    expect(serve.stderr).toMatch(/nothing was started/);
  }, 60_000);
});
