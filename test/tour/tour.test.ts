import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

describe('socketlab tour', () => {
  it('runs on localhost, shows verified socket pairs for TCP and UDP, and cleans up', async () => {
    const r = await runCli(['tour']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/3 TCP connections to 127\.0\.0\.1:\d+/);
    expect(r.stdout.match(/verified: every pair is in the kernel's table/g)).toHaveLength(2);
    expect(r.stdout).toMatch(/UNCONN/);
    expect(r.stdout).toMatch(/Try next/);
    // everything closed: nothing of the tour still listens
    const after = await runCli(['netstat', '-l', '-t', '-p', '--json']);
    const owners = JSON.parse(after.stdout).sockets.flatMap((s: { process?: { name: string }[] }) => s.process ?? []).map((p: { name: string }) => p.name);
    expect(owners).not.toContain('socketlab-tour');
  });
});
