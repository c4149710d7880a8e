import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { describeRoot } from '../helpers/root.js';
import { describeWithPeers, itWithPeers } from '../helpers/peers.js';
import { labPeers } from '../helpers/lab-peers.js';

/** --step with stdin not a terminal: every network event is shown, and nothing waits for Enter. */
const work = mkdtempSync(join(tmpdir(), 'sl-labstep-'));
const env = { SOCKETLAB_RUN_DIR: join(work, 'run') };
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('lab run --step (stdin not a TTY)', () => {
  it('shows each TCP connection with its socket pair, then finishes on its own', async () => {
    const r = await runCli(['lab', 'run', '02-socket-pairs', '--var', 'port=0', '--step'], { env, timeoutMs: 60_000 });
    expect({ code: r.code, failed: r.code === 0 ? '' : r.stdout.slice(-2500) + r.stderr }).toEqual({ code: 0, failed: '' });
    const events = r.stdout.match(/event \d+\/\d+ TCP connect \(SYN, SYN-ACK, ACK\)  127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+  \[echo on local\]/g) ?? [];
    expect(events).toHaveLength(3);
    expect(r.stdout).not.toMatch(/Enter: next event/);
    // the events come right after the step that caused them, before the next step
    expect(r.stdout.indexOf('event 1/3')).toBeGreaterThan(r.stdout.indexOf('step 1:'));
    expect(r.stdout.indexOf('event 1/3')).toBeLessThan(r.stdout.indexOf('step 2:'));
  });

  it('UDP datagrams are shown as datagrams, not connections', async () => {
    const r = await runCli(['lab', 'run', '04-udp-vs-tcp', '--var', 'port=0', '--step'], { env, timeoutMs: 60_000 });
    expect({ code: r.code, failed: r.code === 0 ? '' : r.stdout.slice(-2500) + r.stderr }).toEqual({ code: 0, failed: '' });
    expect(r.stdout.match(/UDP datagram  127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
  });
});

describeRoot('lab run --step in namespaces', () => {
  itWithPeers('DORA: DHCPDISCOVER from 0.0.0.0:68, OFFER and ACK with yiaddr', labPeers('07-dhcp'), async () => {
    const r = await runCli(['lab', 'run', '07-dhcp', '--step'], { env, timeoutMs: 120_000 });
    expect({ code: r.code, failed: r.code === 0 ? '' : r.stdout.slice(-2500) + r.stderr }).toEqual({ code: 0, failed: '' });
    expect(r.stdout).toMatch(/DHCPDISCOVER  0\.0\.0\.0:68 -> [\d.]+:67 .*\n\s+type=DISCOVER xid=0x[0-9a-f]{8} chaddr=aa:bb:cc:00:07:01/);
    expect(r.stdout).toMatch(/DHCPOFFER  10\.0\.7\.1:67 -> 255\.255\.255\.255:68 .*\n\s+type=OFFER .*yiaddr=10\.0\.7\.1\d\d/);
    expect(r.stdout).toMatch(/DHCPACK .*\n\s+type=ACK .*chaddr=aa:bb:cc:00:07:02 yiaddr=10\.0\.7\.50/);
  }, 130_000);

  itWithPeers('DNS: the truncated UDP answer, then the TCP connection and query, then AXFR', labPeers('06-dns'), async () => {
    const r = await runCli(['lab', 'run', '06-dns', '--step'], { env, timeoutMs: 120_000 });
    expect({ code: r.code, failed: r.code === 0 ? '' : r.stdout.slice(-2500) + r.stderr }).toEqual({ code: 0, failed: '' });
    expect(r.stdout).toMatch(/DNS query and answer over UDP \(answer truncated, TC=1\)  10\.0\.6\.10:\d+ -> 10\.0\.6\.53:53[^\n]*\n\s+qname=many\.example\.com/);
    expect(r.stdout).toMatch(/AXFR zone transfer over TCP  10\.0\.6\.54:\d+ -> 10\.0\.6\.53:53/);
  }, 130_000);
});

describeWithPeers('lab run --step on a terminal', ['script'], () => {
  it('asks for Enter at each network event', async () => {
    const { spawn } = await import('node:child_process');
    const { CLI } = await import('../helpers/cli.js');
    // script(1) gives the run a pseudo-terminal; each line we write is one Enter press
    const child = spawn('script', ['-qec', `${process.execPath} ${CLI} lab run 02-socket-pairs --var port=0 --step`, '/dev/null'], {
      env: { ...process.env, ...env, SOCKETLAB_LOG_LEVEL: 'warn', NO_COLOR: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const done = new Promise<number | null>((res) => child.on('close', (c) => res(c)));
    const timer = setInterval(() => child.stdin.write('\n'), 300);
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const code = await done;
    clearInterval(timer);
    clearTimeout(killer);
    expect(code).toBe(0);
    expect(out.match(/Enter: next event/g)).toHaveLength(3);
    expect(out).toMatch(/all 6 checks passed/);
  }, 70_000);

  it('with --json the prompts stay off stdout, which is the JSON document', async () => {
    const { spawn } = await import('node:child_process');
    const { readFileSync } = await import('node:fs');
    const { CLI } = await import('../helpers/cli.js');
    const json = join(work, 'step.json');
    // stdin is the pseudo-terminal (so it asks), stdout goes to a file
    const child = spawn('script', ['-qec', `${process.execPath} ${CLI} lab run 02-socket-pairs --var port=0 --step --json > ${json}`, '/dev/null'], {
      env: { ...process.env, ...env, SOCKETLAB_LOG_LEVEL: 'warn', NO_COLOR: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const done = new Promise<number | null>((res) => child.on('close', (c) => res(c)));
    const timer = setInterval(() => child.stdin.write('\n'), 300);
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const code = await done;
    clearInterval(timer);
    clearTimeout(killer);
    expect(code).toBe(0);
    expect(out.match(/Enter: next event/g)).toHaveLength(3);
    const report = JSON.parse(readFileSync(json, 'utf8')) as { exitCode: number; checks: unknown[] };
    expect(report).toMatchObject({ exitCode: 0 });
    expect(report.checks).toHaveLength(6);
  }, 70_000);
});
