import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, runCli, startCli } from '../helpers/cli.js';
import { describeWithPeers } from '../helpers/peers.js';

/** Output conventions every command follows: logs that arrive, a closed stdout, colours, --version. */
const work = mkdtempSync(join(tmpdir(), 'sl-output-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const ESC = '\x1b[';

/** Polls `get` until it returns a truthy value, or gives up after `ms`. */
async function within<T>(ms: number, get: () => T | undefined | false): Promise<T | undefined> {
  const end = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v) return v;
    if (Date.now() > end) return undefined;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('log records reach a pipe or a log file while the server runs', () => {
  it('the first JSON record of a quiet server reaches a stderr pipe without waiting for more records', async () => {
    // the record must not wait in a buffer for 4 KiB of later records or for the exit
    await using srv = await startCli(['echo', '--port', '0', '--tcp'], { ready: /listening on/ });
    const line = await within(2_000, () => srv.stderr().split('\n').find((l) => l.includes('"msg":"echo listening"')));
    expect(srv.child.exitCode).toBeNull();
    expect(line, `stderr so far: ${srv.stderr()}`).toBeDefined();
    expect(JSON.parse(line!)).toMatchObject({ name: 'socketlab-echo', event: 'listen' });
  });

  it('the same through --log-file', async () => {
    const file = join(work, 'echo.log');
    await using srv = await startCli(['echo', '--port', '0', '--tcp', '--log-file', file], { ready: /listening on/ });
    const text = await within(2_000, () => existsSync(file) && readFileSync(file, 'utf8').includes('"msg":"echo listening"'));
    expect(srv.child.exitCode).toBeNull();
    expect(text, existsSync(file) ? readFileSync(file, 'utf8') : 'no log file').toBe(true);
  });
});

describe('a closed stdout', () => {
  it('socketlab tour | head -1: exits cleanly once the reader is gone, without a stack', async () => {
    const child = spawn(process.execPath, [CLI, 'tour'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SOCKETLAB_LOG_LEVEL: 'warn' } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const closed = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await once(child.stdout, 'data');
    child.stdout.destroy(); // what `head -1` does after its line: close the pipe's read end
    const [code, signal] = await closed;
    clearTimeout(killer);
    expect({ code, signal, stderr }).toEqual({ code: 0, signal: null, stderr: '' });
  });

  it('socketlab lab run 2 | head -1: the lab is torn down before the exit, nothing of it keeps running', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'sl-epipe-'));
    try {
      const env = { ...process.env, SOCKETLAB_LOG_LEVEL: 'warn', SOCKETLAB_RUN_DIR: runDir };
      const child = spawn(process.execPath, [CLI, 'lab', 'run', '02-socket-pairs', '--var', 'port=0'], { stdio: ['ignore', 'pipe', 'pipe'], env });
      const closed = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
      const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      // the first step's output: the echo server and the clients are running now
      let out = '';
      for await (const d of child.stdout) {
        out += d;
        if (/holding 3 connection/.test(out)) break;
      }
      const state = JSON.parse(readFileSync(join(runDir, '02-socket-pairs', 'state.json'), 'utf8')) as { processes: { pid: number }[] };
      child.stdout.destroy();
      const [code, signal] = await closed;
      clearTimeout(killer);
      expect({ code, signal }).toEqual({ code: 0, signal: null });
      expect(state.processes.length).toBeGreaterThan(0);
      for (const p of state.processes) expect(() => process.kill(p.pid, 0), `pid ${p.pid} still running`).toThrow();
      const down = await runCli(['lab', 'down', '02-socket-pairs'], { env: { SOCKETLAB_RUN_DIR: runDir } });
      expect(down.stdout).toMatch(/is not up/);
    } finally {
      rmSync(runDir, { recursive: true, force: true });
    }
  });
});

describeWithPeers('colours on a terminal (script)', ['script'], () => {
  /** The tour on a pseudo-terminal (stdout and stderr), through script(1). */
  const onTty = async (args: string, env: NodeJS.ProcessEnv = {}): Promise<string> => {
    const child = spawn('script', ['-qec', `${process.execPath} ${CLI} ${args}`, '/dev/null'], {
      env: { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, CI: undefined, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const [code] = (await once(child, 'close')) as [number | null];
    clearTimeout(killer);
    expect(code, out).toBe(0);
    return out;
  };

  it('colours on a terminal by default', async () => {
    expect(await onTty('tour')).toContain(ESC);
  });

  it('NO_COLOR=1 and --no-color: no ANSI escapes on a terminal, in output or logs', async () => {
    const a = await onTty('tour', { NO_COLOR: '1' });
    expect(a).toMatch(/Ports/);
    expect(a).not.toContain(ESC);
    const b = await onTty('tour --no-color', { FORCE_COLOR: '1' });
    expect(b).toMatch(/Ports/);
    expect(b).not.toContain(ESC);
  });
});

describe('FORCE_COLOR and --version', () => {
  it('FORCE_COLOR=1 colours output that is not a terminal', async () => {
    const env = { NO_COLOR: '', FORCE_COLOR: '1' };
    const r = await runCli(['ports', '443'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(ESC);
    expect((await runCli(['ports', '443'], { env: { NO_COLOR: '', FORCE_COLOR: '0' } })).stdout).not.toContain(ESC);
  });

  it("--version is package.json's version", async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });
});
