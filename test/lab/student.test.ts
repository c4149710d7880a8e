import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { runCli, CLI } from '../helpers/cli.js';
import { describeWithPeers } from '../helpers/peers.js';

/**
 * The student's side of a lab, for real: per-seed variants whose right answers differ, lab answer
 * (right / wrong / unknown / bad input), a task a server in any language passes, lab grade on the
 * recorded results, and a break/fix lab whose lab check turns from FAIL to PASS.
 */
const work = mkdtempSync(join(tmpdir(), 'sl-student-'));
const runDir = join(work, 'run');
const results = join(work, 'results');
mkdirSync(results);
const env = { SOCKETLAB_RUN_DIR: runDir };
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Report { exitCode: number; student?: string; seed?: number; score?: { points: number; maxPoints: number }; tasks?: { id: string; done: boolean }[]; questions?: { id: string; answered: boolean; correct: boolean }[]; checks: { passed: boolean; name: string }[] }
const LAB = '02-socket-pairs';
const expected = (lab: string, id: string): string => (JSON.parse(readFileSync(join(runDir, lab, 'questions.json'), 'utf8')) as { id: string; value: string }[]).find((q) => q.id === id)!.value;
const answer = (...args: string[]) => runCli(['lab', 'answer', LAB, ...args], { env });

describe('variants, answers and grading on lab 02 (localhost)', () => {
  it('two seeds give different right answers, both runs pass, and a copied answer is wrong', { timeout: 180_000 }, async () => {
    const one = await runCli(['lab', 'run', LAB, '--student', 'alice', '--json'], { env, timeoutMs: 90_000 });
    expect(one.code, one.stderr).toBe(0);
    const r1 = JSON.parse(one.stdout) as Report;
    expect(r1).toMatchObject({ student: 'alice', seed: expect.any(Number) });
    const alicePort = expected(LAB, 'server-port');
    expect(alicePort).not.toBe('8920');
    // the server listens on alice's own loopback address, not 127.0.0.1
    const aliceAddress = expected(LAB, 'server-address');
    expect(aliceAddress).toMatch(/^127\.\d+\.\d+\.\d+$/);
    expect(aliceAddress).not.toBe('127.0.0.1');

    const right = await answer('server-port', ` ${alicePort} `);
    expect(right.code).toBe(0);
    expect(right.stdout).toMatch(/^right/);
    const wrong = await answer('first-client-port', '1');
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toMatch(/wrong[\s\S]*hint: the left-hand side/);
    const unknown = await answer('no-such-question', '1');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/has no question "no-such-question" \(questions: server-port, first-client-port, established-rows, server-address\)/);
    const empty = await answer('server-port', '   ');
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/is empty/);

    // recorded in the run dir, and in the result lab status --json gives the teacher
    const status = await runCli(['lab', 'status', LAB, '--json'], { env });
    const s1 = JSON.parse(status.stdout) as Report;
    expect(s1.student).toBe('alice');
    expect(s1.questions!.find((q) => q.id === 'server-port')).toMatchObject({ answered: true, correct: true });
    expect(s1.questions!.find((q) => q.id === 'first-client-port')).toMatchObject({ answered: true, correct: false });
    writeFileSync(join(results, 'alice.json'), status.stdout);

    // lab check after lab run: the lab is down, but its values are known; nothing prints a literal ${...}
    const after = await runCli(['lab', 'check', LAB], { env });
    expect(after.code).toBe(1);
    expect(after.stdout).toContain(`tcp/${alicePort} is LISTEN`);
    expect(`${after.stdout}${after.stderr}`).not.toMatch(/\$\{/);

    const two = await runCli(['lab', 'run', LAB, '--seed', '2', '--student', 'bob', '--json'], { env, timeoutMs: 90_000 });
    expect(two.code, two.stderr).toBe(0);
    const bobPort = expected(LAB, 'server-port');
    expect(bobPort).not.toBe(alicePort);
    expect(expected(LAB, 'server-address')).not.toBe(aliceAddress);
    expect((await answer('server-address', aliceAddress)).code).toBe(1);
    const copied = await answer('server-port', alicePort);
    expect(copied.code).toBe(1);
    expect((await answer('server-port', bobPort)).code).toBe(0);
    writeFileSync(join(results, 'bob.json'), (await runCli(['lab', 'status', LAB, '--json'], { env })).stdout);
    writeFileSync(join(results, 'notes.json'), '{"not": "a result"}');

    const grade = await runCli(['lab', 'grade', results], { env });
    expect(grade.code).toBe(0);
    expect(grade.stderr).toMatch(/notes\.json: skipped, not a lab result/);
    const csv = readFileSync(join(results, 'grades.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(3);
    expect(csv[1]).toMatch(/^alice,\d+,\d+,/);
    expect(csv[2]).toMatch(/^bob,2,\d+,/);
    expect(grade.stdout).toMatch(/2 students, mean/);
  });
});

function startServer(cmd: string, args: string[]): ChildProcess {
  return spawn(cmd, args, { stdio: 'ignore' });
}
async function taskDone(): Promise<{ code: number | null; done: boolean }> {
  const r = await runCli(['lab', 'check', LAB, '--json'], { env });
  return { code: r.code, done: (JSON.parse(r.stdout) as Report).tasks!.find((t) => t.id === 'own-echo')!.done };
}
async function until(f: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 20 && !(await f()); i++) await new Promise((r) => setTimeout(r, 200));
}

describeWithPeers('a task a server in any language can pass (lab 02 own-echo)', ['socat', 'python3'], () => {
  it('nothing listening fails; a socat one-liner and a Python echo server pass', { timeout: 180_000 }, async () => {
    const up = await runCli(['lab', 'up', LAB, '--seed', '7', '--no-steps'], { env, timeoutMs: 60_000 });
    expect(up.code, up.stderr).toBe(0);
    const procs: ChildProcess[] = [];
    try {
      const port = (JSON.parse(readFileSync(join(runDir, LAB, 'last-run.json'), 'utf8')) as { scope: Record<string, string> }).scope.task_port!;
      const before = await taskDone();
      expect(before).toEqual({ code: 1, done: false });
      const hint = await runCli(['lab', 'hint', LAB, 'own-echo'], { env });
      expect(hint.stdout).toContain(`socat TCP-LISTEN:${port},reuseaddr,fork EXEC:cat`);

      const socat = startServer('socat', [`TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`, 'EXEC:cat']);
      procs.push(socat);
      await until(async () => (await taskDone()).done);
      expect((await taskDone()).done).toBe(true);
      socat.kill('SIGTERM');
      await until(async () => !(await taskDone()).done);

      // a 10-line Python echo server (raw bytes: the client sends no newline)
      const py = `import socket, threading
srv = socket.create_server(("127.0.0.1", ${port}), reuse_port=True)
def serve(c):
    with c:
        for d in iter(lambda: c.recv(4096), b""):
            c.sendall(d)
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()`;
      const python = startServer('python3', ['-c', py]);
      procs.push(python);
      await until(async () => (await taskDone()).done);
      expect((await taskDone()).done).toBe(true);
    } finally {
      for (const p of procs) p.kill('SIGKILL');
      await runCli(['lab', 'down', LAB], { env });
    }
  });
});

// break/fix (labs 06 and 08, with a seed, by the hint's commands): test/lab/breakfix.test.ts

void CLI;
