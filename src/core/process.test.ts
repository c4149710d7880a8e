import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { run } from './process.js';

/** Running (a killed orphan may stay a zombie until its new parent reaps it). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('run', () => {
  it('collects stdout and stderr, exit code, input and env', async () => {
    const r = await run(['sh', '-c', 'cat; echo "$SL_X" >&2; exit 3'], { input: 'hello', env: { SL_X: 'x1' } });
    expect(r).toMatchObject({ code: 3, signal: null, stdout: 'hello', stderr: 'x1\n', timedOut: false });
    expect(r.error).toBeUndefined();
  });

  it('reports a command that cannot start as code 127 with the error, without rejecting', async () => {
    const r = await run(['/nonexistent/socketlab-no-such-tool']);
    expect(r.code).toBe(127);
    expect(r.error).toMatchObject({ code: 'ENOENT' });
  });

  it('kills the whole process group on timeout, not only the leader', async () => {
    // the shell starts a grandchild that prints its pid and would outlive a plain kill of the shell
    const r = await run(['sh', '-c', 'sleep 30 & echo $!; wait'], { timeoutMs: 300 });
    expect(r).toMatchObject({ timedOut: true, code: null, signal: 'SIGKILL' });
    const grandchild = Number(r.stdout.trim());
    expect(grandchild).toBeGreaterThan(0);
    for (let i = 0; i < 250 && running(grandchild); i++) await new Promise((res) => setTimeout(res, 20));
    expect(running(grandchild)).toBe(false);
  });

  it('stops a command whose output overruns maxBuffer', async () => {
    const r = await run(['sh', '-c', 'yes'], { maxBuffer: 100_000 });
    expect(r.error?.message).toMatch(/exceeds 100000 bytes/);
    expect(r.code).toBeNull();
  });
});
