/**
 * The public surface is the exports map and the declarations it reaches; scripts/api-report.mjs
 * compares them with the committed api/socketlab.api.md and fails on a change without a version bump.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '../..');
const script = join(repo, 'scripts', 'api-report.mjs');
const report = join(repo, 'api', 'socketlab.api.md');
const tmp = mkdtempSync(join(tmpdir(), 'sl-apireport-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function check(args: string[]): Promise<{ code: number; out: string }> {
  try {
    const r = await run(process.execPath, [script, ...args], { cwd: repo, timeout: 120_000 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

/** A committed report whose surface differs from the built one (as if someone changed an export). */
function drifted(version: string): { report: string; pkg: string } {
  const text = readFileSync(report, 'utf8').replace('export declare function startEcho(', 'export declare function startEchoServer(');
  const pkg = { ...JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')), version };
  const files = { report: join(tmp, `${version}.api.md`), pkg: join(tmp, `${version}.package.json`) };
  writeFileSync(files.report, text);
  writeFileSync(files.pkg, JSON.stringify(pkg));
  return files;
}

describe('API report', () => {
  it('the declarations built from src/ match the committed api/socketlab.api.md', async () => {
    const r = await check(['--check']);
    expect(r.out).toContain('public API unchanged');
    expect(r.code).toBe(0);
  });

  it('a changed surface with the same version fails and asks for a version bump; --update refuses too', async () => {
    const version = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).version as string;
    const f = drifted(version);
    const r = await check(['--check', '--dts', join(repo, 'dist'), '--report', f.report, '--package', f.pkg]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('changed without a version bump');
    const u = await check(['--update', '--dts', join(repo, 'dist'), '--report', f.report, '--package', f.pkg]);
    expect(u.code).toBe(1);
    expect(readFileSync(f.report, 'utf8')).toContain('startEchoServer(');
  });

  it('after a version bump, --update records the new surface and --check passes again', async () => {
    const f = drifted('99.0.0');
    expect((await check(['--check', '--dts', join(repo, 'dist'), '--report', f.report, '--package', f.pkg])).out).toContain('run node scripts/api-report.mjs --update');
    expect((await check(['--update', '--dts', join(repo, 'dist'), '--report', f.report, '--package', f.pkg])).code).toBe(0);
    const after = await check(['--check', '--dts', join(repo, 'dist'), '--report', f.report, '--package', f.pkg]);
    expect(after.code).toBe(0);
    expect(readFileSync(f.report, 'utf8')).toContain('version: 99.0.0');
  });
});
