import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { describeRoot } from '../helpers/root.js';
import { describeWithPeers, itWithPeers } from '../helpers/peers.js';
import { labPeers } from '../helpers/lab-peers.js';

/**
 * --step pauses before each step and after each group of packets, on a terminal (or the live page);
 * with stdin not a terminal every network event is still shown, and nothing waits for Enter.
 */
const work = mkdtempSync(join(tmpdir(), 'sl-labstep-'));
const env = { SOCKETLAB_RUN_DIR: join(work, 'run') };
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('lab run --step (stdin not a TTY)', () => {
  it('shows each TCP connection with its socket pair, then finishes on its own', async () => {
    const r = await runCli(['lab', 'run', '02-socket-pairs', '--var', 'port=0', '--step'], { env, timeoutMs: 60_000 });
    expect({ code: r.code, failed: r.code === 0 ? '' : r.stdout.slice(-2500) + r.stderr }).toEqual({ code: 0, failed: '' });
    const events = r.stdout.match(/^  TCP connect \(SYN, SYN-ACK, ACK\)  \S+ -> \S+  127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+$/gm) ?? [];
    expect(events).toHaveLength(3);
    expect(r.stdout).not.toMatch(/Enter: next/);
    // shown with the step that caused them: after its heading, before the next step begins (the
    // services' records are read at the step's end; they were held back 1 s and came steps later)
    expect(r.stdout.indexOf('  TCP connect')).toBeGreaterThan(r.stdout.indexOf('step 1:'));
    expect(r.stdout.lastIndexOf('  TCP connect')).toBeLessThan(r.stdout.indexOf('step 2:'));
    // a localhost service's lane is named after the service
    expect(events[0]).toMatch(/ -> echo  /);
  });

  it('UDP datagrams are shown as datagrams, not connections', async () => {
    const r = await runCli(['lab', 'run', '04-udp-vs-tcp', '--var', 'port=0', '--step'], { env, timeoutMs: 60_000 });
    expect({ code: r.code, failed: r.code === 0 ? '' : r.stdout.slice(-2500) + r.stderr }).toEqual({ code: 0, failed: '' });
    expect(r.stdout.match(/^  UDP datagram  \S+ -> \S+  127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+$/gm)?.length ?? 0).toBeGreaterThanOrEqual(3);
  });
});

describeRoot('lab run --step in namespaces', () => {
  // captured packets need tcpdump (without it the run shows the services' log records instead)
  itWithPeers('DORA: DHCPDISCOVER from 0.0.0.0:68, OFFER and ACK with yiaddr', [...labPeers('07-dhcp'), 'tcpdump' as const], async () => {
    const r = await runCli(['lab', 'run', '07-dhcp', '--step'], { env, timeoutMs: 120_000 });
    expect({ code: r.code, failed: r.code === 0 ? '' : r.stdout.slice(-2500) + r.stderr }).toEqual({ code: 0, failed: '' });
    // captured packets, placed by the hosts that own their MACs: a broadcast reaches every other host
    expect(r.stdout).toMatch(/^  DHCPDISCOVER  pc1 -> all \(pc2, server\)  0\.0\.0\.0:68 -> 255\.255\.255\.255:67$/m);
    expect(r.stdout).toMatch(/^  DHCPOFFER 10\.0\.7\.1\d\d  server -> all \(pc1, pc2\)  10\.0\.7\.1:67 -> 255\.255\.255\.255:68$/m);
    expect(r.stdout).toMatch(/^  DHCPACK 10\.0\.7\.50  server -> all \(pc1, pc2\)  10\.0\.7\.1:67 -> 255\.255\.255\.255:68$/m);
    // the renewal at T1 is unicast, to pc1's own address
    expect(r.stdout).toMatch(/^  DHCPACK 10\.0\.7\.100  server -> pc1  10\.0\.7\.1:67 -> 10\.0\.7\.100:68$/m);
  }, 130_000);

  itWithPeers('DNS: the truncated UDP answer, then the TCP connection and query, then AXFR', [...labPeers('06-dns'), 'tcpdump' as const], async () => {
    const r = await runCli(['lab', 'run', '06-dns', '--step'], { env, timeoutMs: 120_000 });
    expect({ code: r.code, failed: r.code === 0 ? '' : r.stdout.slice(-2500) + r.stderr }).toEqual({ code: 0, failed: '' });
    expect(r.stdout).toMatch(/^  DNS response NOERROR TC=1 \(\d+ answers\)  ns1 -> client  10\.0\.6\.53:53 -> 10\.0\.6\.10:\d+$/m);
    expect(r.stdout).toMatch(/^  DNS AXFR AXFR example\.com \(TCP\)  ns2 -> ns1  10\.0\.6\.54:\d+ -> 10\.0\.6\.53:53$/m);
  }, 130_000);
});

describeWithPeers('lab run --step on a terminal', ['script'], () => {
  it('pauses before each step and waits for Enter', async () => {
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
    // lab 02 has six steps: a pause before each (and more after groups of packets)
    for (let i = 1; i <= 6; i++) expect(out).toMatch(new RegExp(`paused before step ${i}: .*Enter: next`));
    expect(out).toMatch(/all \d+ checks passed/);
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
    expect(out).toMatch(/paused before step 1: .*Enter: next/);
    const report = JSON.parse(readFileSync(json, 'utf8')) as { exitCode: number; checks: unknown[] };
    expect(report).toMatchObject({ exitCode: 0 });
    expect(report.checks.length).toBeGreaterThanOrEqual(6);
  }, 70_000);
});
