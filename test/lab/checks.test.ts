import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { CLI, runCli } from '../helpers/cli.js';
import { describeRoot } from '../helpers/root.js';
import { itWithPeers } from '../helpers/peers.js';

/**
 * Each check kind is shown to fail on a deliberately broken setup (and to pass on a right one),
 * with real echo servers and clients on 127.0.0.1 port 0.
 */
const work = mkdtempSync(join(tmpdir(), 'sl-labchecks-'));
const runDir = join(work, 'run');
const env = { SOCKETLAB_RUN_DIR: runDir };
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface CheckJson { kind: string; name: string; passed: boolean; detail: string; hint: string }
interface ReportJson { exitCode: number; passed: boolean; error?: string; checks: CheckJson[]; steps: { name: string; ok: boolean }[] }

let n = 0;
function labFile(body: string): string {
  const dir = join(work, `lab${n++}`);
  const f = `${dir}.yaml`;
  writeFileSync(f, `name: 99-check-test\ntitle: check test\ntopic: checks\nhosts:\n  - { name: local, kind: localhost }\n${body}`);
  return f;
}

async function runLab(file: string, extra: string[] = []): Promise<{ code: number | null; report: ReportJson; stderr: string }> {
  const r = await runCli(['lab', 'run', file, '--yes', '--json', ...extra], { env, timeoutMs: 60_000 });
  let report: ReportJson;
  try {
    report = JSON.parse(r.stdout) as ReportJson;
  } catch {
    throw new Error(`no JSON from lab run (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
  return { code: r.code, report, stderr: r.stderr };
}

const ECHO = `services:\n  - name: echo\n    run: echo --port 0 --tcp\n`;
const HOLD = (count: number, extra = '') =>
  `steps:\n  - name: clients\n    run: socketlab connect 127.0.0.1:\${echo.port} --count ${count} --hold 30 ${extra}\n    background: true\n    until: "holding \\\\d+ connection"\n`;

describe('check kinds catch a wrong expectation', () => {
  it('listening / established-pairs / sockets / log-event / ephemeral-source / command pass on a right setup', async () => {
    const f = labFile(`${ECHO}${HOLD(2)}checks:
  - { kind: listening, proto: tcp, port: "\${echo.port}", process: socketlab-echo, hint: h1 }
  - { kind: established-pairs, port: "\${echo.port}", count: 2, hint: h2 }
  - { kind: sockets, proto: tcp, port: "\${echo.port}", state: ESTABLISHED, min: 4, hint: h3 }
  - { kind: log-event, service: echo, event: tcp.accept, where: { transport: tcp }, count: 2, hint: h4 }
  - { kind: ephemeral-source, service: echo, min: 2, hint: h5 }
  - { kind: command, run: "ss -Htln sport = :\${echo.port}", stdout-matches: "LISTEN", hint: h6 }
  - { kind: listening, proto: udp, port: "\${echo.port}", absent: true, hint: h7 }
`);
    const { code, report } = await runLab(f);
    expect(report.checks.map((c) => [c.kind, c.passed, c.detail])).toEqual(report.checks.map((c) => [c.kind, true, c.detail]));
    expect(code).toBe(0);
    expect(report.checks).toHaveLength(7);
  });

  it('each check fails, with its hint, when the expectation is wrong', async () => {
    const f = labFile(`${ECHO}${HOLD(2)}checks:
  - { kind: listening, proto: tcp, port: "\${echo.port}", process: socketlab-dns, hint: wrong-process }
  - { kind: listening, proto: udp, port: "\${echo.port}", hint: tcp-only-server }
  - { kind: established-pairs, port: "\${echo.port}", count: 3, hint: wrong-count }
  - { kind: sockets, proto: tcp, port: "\${echo.port}", state: TIME-WAIT, min: 1, hint: no-time-wait }
  - { kind: log-event, service: echo, event: tcp.accept, where: { transport: udp }, hint: wrong-field }
  - { kind: log-event, service: echo, event: dns.axfr, hint: wrong-event }
  - { kind: command, run: "ss -Htln sport = :\${echo.port}", stdout-matches: "ESTAB", hint: wrong-output }
  - { kind: command, run: "false", hint: wrong-exit }
  - { kind: listening, proto: tcp, port: "\${echo.port}", absent: true, hint: not-absent }
`);
    const { code, report } = await runLab(f);
    expect(code).toBe(1);
    expect(report.passed).toBe(false);
    expect(report.checks.map((c) => c.passed)).toEqual(report.checks.map(() => false));
    const byHint = Object.fromEntries(report.checks.map((c) => [c.hint, c.detail]));
    expect(byHint['wrong-process']).toMatch(/held by socketlab-echo/);
    expect(byHint['tcp-only-server']).toMatch(/nothing listens on udp\//);
    expect(byHint['wrong-count']).toMatch(/^2 ESTABLISHED on server port/);
    expect(byHint['no-time-wait']).toMatch(/^0 in TIME-WAIT/);
    expect(byHint['wrong-field']).toMatch(/0 matching of 2 tcp\.accept records; last one: transport="tcp"/);
    expect(byHint['wrong-event']).toMatch(/events logged: .*tcp\.accept/);
    expect(byHint['wrong-output']).toMatch(/stdout does not match/);
    expect(byHint['wrong-exit']).toMatch(/exited 1, expected 0/);
  });

  it('human output prints a hint under each failed check only', async () => {
    const f = labFile(`${ECHO}checks:
  - { kind: listening, proto: tcp, port: "\${echo.port}", hint: never-shown }
  - { kind: established-pairs, port: "\${echo.port}", min: 1, hint: "open a connection first" }
`);
    const r = await runCli(['lab', 'run', f, '--yes'], { env, timeoutMs: 60_000 });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/PASS  tcp\/\d+ is LISTEN/);
    expect(r.stdout).toMatch(/FAIL  at least 1 ESTABLISHED pairs share server port \d+\n.*\n\s+hint: open a connection first/);
    expect(r.stdout).not.toMatch(/never-shown/);
    expect(r.stdout).toMatch(/1 of 2 checks failed/);
  });

  it('ephemeral-source fails when a client binds a fixed source port outside the range', async () => {
    const range = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    // a port below the ephemeral range that is free: registered range, deliberately chosen by the client
    const fixed = range[0]! - 1234;
    const f = labFile(`${ECHO}steps:
  - name: a client with a fixed source port
    run: socketlab connect 127.0.0.1:\${echo.port} --source-port ${fixed}
checks:
  - { kind: ephemeral-source, service: echo, hint: fixed-port }
`);
    const { code, report } = await runLab(f);
    expect(code).toBe(1);
    expect(report.checks[0]!.passed).toBe(false);
    expect(report.checks[0]!.detail).toContain(`source ports outside ${range[0]}-${range[1]}: ${fixed}`);
  });

  it('a step that fails makes the run fail (exit 1), even when checks pass', async () => {
    const f = labFile(`${ECHO}steps:
  - { name: a failing step, run: "socketlab ports 70000" }
checks:
  - { kind: listening, proto: tcp, port: "\${echo.port}", hint: h }
`);
    const { code, report } = await runLab(f);
    expect(report.checks[0]!.passed).toBe(true);
    expect(report.steps[0]).toMatchObject({ name: 'a failing step', ok: false });
    expect(code).toBe(1);
  });
});

describe('lab run exit code 2: the lab could not run', () => {
  it('a service that exits before its ready line', async () => {
    const f = labFile(`services:\n  - { name: echo, run: "echo --port 1.5" }\nchecks:\n  - { kind: listening, proto: tcp, port: 1, hint: h }\n`);
    const { code, report } = await runLab(f);
    expect(code).toBe(2);
    expect(report.error).toMatch(/service echo exited before it was ready: .*1\.5/);
  });

  it('an unknown ${var}', async () => {
    const f = labFile(`${ECHO}steps:\n  - { name: s, run: "echo \${nosuch}" }\nchecks:\n  - { kind: listening, proto: tcp, port: 1, hint: h }\n`);
    const { code, report } = await runLab(f);
    expect(code).toBe(2);
    expect(report.error).toMatch(/steps\[0\]\.run: variable "nosuch" is not defined \(known: .*echo\.port/);
    expect(report.error).not.toMatch(/\$\{/);
  });

  it('a bad lab file names file, field and line', async () => {
    const f = labFile(`checks:\n  - { kind: listening, proto: sctp, port: 1, hint: h }\n`);
    const r = await runCli(['lab', 'run', f], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/lab\d+\.yaml: checks\[0\]\.proto: must be one of tcp, udp, got string "sctp" \(line 7\)/);
  });
});

describe('up, check, down across separate invocations', () => {
  it('keeps the lab running between commands and tears it down from its state', async () => {
    const f = labFile(`${ECHO}checks:\n  - { kind: listening, proto: tcp, port: "\${echo.port}", process: socketlab-echo, hint: h }\n`);
    const up = await runCli(['lab', 'up', f, '--yes'], { env, timeoutMs: 30_000 });
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    const state = JSON.parse(readFileSync(join(runDir, '99-check-test', 'state.json'), 'utf8')) as { processes: { pid: number; listening: { port: number } }[] };
    const pid = state.processes[0]!.pid;
    try {
      process.kill(pid, 0);
      const check = await runCli(['lab', 'check', f, '--json'], { env });
      expect(check.code).toBe(0);
      expect((JSON.parse(check.stdout) as ReportJson).checks[0]!.passed).toBe(true);
      const again = await runCli(['lab', 'up', f, '--yes'], { env });
      expect(again.code).toBe(2);
      expect(again.stderr).toMatch(/already up/);
    } finally {
      const down = await runCli(['lab', 'down', f], { env });
      expect(down.code).toBe(0);
    }
    expect(() => process.kill(pid, 0)).toThrow();
    expect(existsSync(join(runDir, '99-check-test', 'state.json'))).toBe(false);
    // nothing is up any more: checked with the last run's values, it fails, and no ${...} is left unfilled
    const after = await runCli(['lab', 'check', f, '--json'], { env });
    expect(after.code).toBe(1);
    const port = state.processes[0]!.listening.port;
    expect((JSON.parse(after.stdout) as ReportJson).checks[0]).toMatchObject({ passed: false, name: `tcp/${port} is LISTEN, held by socketlab-echo` });
    expect(after.stdout + after.stderr).not.toMatch(/\$\{/);
  });

  it('Ctrl-C during a run stops every process it started', async () => {
    const f = labFile(`${ECHO}steps:
  - { name: hold, run: "socketlab connect 127.0.0.1:\${echo.port} --hold 60", background: true, until: "holding" }
  - { name: wait, run: "sleep 30" }
checks:
  - { kind: listening, proto: tcp, port: "\${echo.port}", hint: h }
`);
    const child = spawn(process.execPath, [CLI, 'lab', 'run', f, '--yes'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((res) => child.on('close', (c) => res(c)));
    try {
      const stateFile = join(runDir, '99-check-test', 'state.json');
      for (let i = 0; i < 300 && !/step 1: hold/.test(out); i++) await new Promise((r) => setTimeout(r, 100));
      expect(out).toMatch(/step 1: hold/);
      const pids = (JSON.parse(readFileSync(stateFile, 'utf8')) as { processes: { pid: number }[] }).processes.map((p) => p.pid);
      expect(pids).toHaveLength(2);
      child.kill('SIGINT');
      expect(await exited).toBe(130);
      for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
      expect(existsSync(stateFile)).toBe(false);
    } finally {
      child.kill('SIGKILL');
      await runCli(['lab', 'down', f], { env });
    }
  });
});

describe('Ctrl-C during lab check', () => {
  it("stops the command a check is running (it runs in its own process group, out of the terminal's reach)", async () => {
    const pidFile = join(work, 'check-sleep.pid');
    const f = labFile(`checks:\n  - { kind: command, run: "sh -c 'echo $$ > ${pidFile}; exec sleep 60'", hint: h }\n`);
    const child = spawn(process.execPath, [CLI, 'lab', 'check', f], { env: { ...process.env, ...env }, stdio: 'ignore' });
    const exited = new Promise<number | null>((res) => child.on('close', (c) => res(c)));
    // running and not a zombie waiting to be reaped
    const alive = (pid: number): boolean => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
      } catch {
        return false;
      }
    };
    try {
      for (let i = 0; i < 300 && !/^\d+\n/.test(existsSync(pidFile) ? readFileSync(pidFile, 'utf8') : ''); i++) await new Promise((r) => setTimeout(r, 100));
      const pid = Number(readFileSync(pidFile, 'utf8'));
      expect(alive(pid)).toBe(true);
      child.kill('SIGINT');
      expect(await exited).toBe(130);
      for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 20));
      expect(alive(pid)).toBe(false);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe("lab check against a learner's own setup (nothing started by the runner)", () => {
  it('grades a hand-started echo server and clients, and catches a missing client', async () => {
    const { startCli } = await import('../helpers/cli.js');
    const log = join(work, 'own-echo.jsonl');
    await using echo = await startCli(['--log-file', log, '--log-level', 'info', 'echo', '--port', '0'], { ready: /listening on \S+ 127\.0\.0\.1:(\d+)/, env: { SOCKETLAB_LOG_SYNC: '1' } });
    const port = /listening on \S+ 127\.0\.0\.1:(\d+)/.exec(echo.stdout())![1]!;
    await using clients = await startCli(['connect', `127.0.0.1:${port}`, '--count', '3', '--hold', '30'], { ready: /holding 3 connection/ });
    void clients;
    // lab 02's task (an echo server of the learner's own on task_port): a second one, so the task's client is not in the first one's log
    await using own = await startCli(['echo', '--port', '0', '--tcp'], { ready: /listening on \S+ 127\.0\.0\.1:(\d+)/ });
    const taskPort = /listening on \S+ 127\.0\.0\.1:(\d+)/.exec(own.stdout())![1]!;
    const args = ['lab', 'check', '02-socket-pairs', '--var', `echo.port=${port}`, '--var', `task_port=${taskPort}`, '--log', `echo=${log}`, '--json'];
    const ok = await runCli(args, { env });
    const report = JSON.parse(ok.stdout) as ReportJson;
    expect(report.checks.filter((c) => !c.passed)).toEqual([]);
    expect(ok.code).toBe(0);
    // the lab expects 3 clients; say 4 were required: the pairs and the log no longer add up
    const bad = await runCli([...args, '--var', 'clients=4'], { env });
    expect(bad.code).toBe(1);
    const failed = (JSON.parse(bad.stdout) as ReportJson).checks.filter((c) => !c.passed).map((c) => c.kind);
    expect(failed).toEqual(expect.arrayContaining(['established-pairs', 'log-event', 'ephemeral-source']));
  });
});

describeRoot('capture check (tcpdump, root)', () => {
  itWithPeers('fails when no handshake was captured, or the order is wrong', ['tcpdump'], async () => {
    const f = labFile(`root: true
services:
  - { name: echo, run: "echo --port 0 --tcp" }
  - { name: capture, run: "capture --port \${echo.port} --interface lo" }
steps:
  - { name: udp only, run: "socketlab ports 80" }
checks:
  - { kind: capture, service: capture, handshake: true, hint: no-traffic }
`);
    const quiet = await runLab(f);
    expect(quiet.code).toBe(1);
    expect(quiet.report.checks[0]).toMatchObject({ passed: false, detail: 'segments seen: none; missing SYN, SYN-ACK, ACK' });

    const g = labFile(`root: true
services:
  - { name: echo, run: "echo --port 0 --tcp" }
  - { name: capture, run: "capture --port \${echo.port} --interface lo" }
steps:
  - { name: one conversation, run: "socketlab connect 127.0.0.1:\${echo.port}", wait: 1 }
checks:
  - { kind: capture, service: capture, handshake: true, hint: ok }
  - { kind: capture, service: capture, sequence: [FIN, SYN], hint: wrong-order }
  - { kind: capture, service: capture, sequence: [SYN, RST], hint: no-reset }
`);
    const run = await runLab(g);
    expect(run.code).toBe(1);
    expect(run.report.checks.map((c) => [c.hint, c.passed])).toEqual([['ok', true], ['wrong-order', false], ['no-reset', false]]);
    expect(run.report.checks[2]!.detail).toMatch(/^segments seen: SYN SYN-ACK ACK .*; missing RST$/);
  });
});
