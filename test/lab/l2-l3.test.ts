import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { describeRoot } from '../helpers/root.js';
import { itWithPeers } from '../helpers/peers.js';
import { labPeers } from '../helpers/lab-peers.js';

/**
 * Lab 13's checks each catch a broken network, not only pass on the right one: the lab is copied
 * and run with one fault each (the router not forwarding, a wrong gateway on the client, a NAT
 * router), and exactly the checks that look at what the fault changes fail.
 */
const LAB = '13-l2-l3';
const work = mkdtempSync(join(tmpdir(), 'sl-l2l3-'));
const env = { SOCKETLAB_RUN_DIR: join(work, 'run') };
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Report { exitCode: number; error?: string; checks: { name: string; passed: boolean; detail: string }[] }

const CHECK = {
  noNat: "the server saw the connection from the client's IP 10.0.1.10",
  arpGateway: 'the client ARPed for its gateway 10.0.1.1',
  lan1Dst: "on lan1 the frame to the server's IP carries the router's lan1 MAC",
  lan2Src: "on lan2 the same request comes from the router's lan2 MAC",
  ttl: 'IP addresses and ports are the same on both segments, and the TTL is one less',
  neigh: "the client's neighbour table maps the gateway",
} as const;

let n = 0;
/** Runs a copy of the lab whose lab.yaml has `from` replaced by `to`; returns the names of the failed checks. */
async function runBroken(from: string, to: string): Promise<{ failed: string[]; report: Report; questions: Record<string, string | undefined> }> {
  const dir = join(work, `copy${n++}`, LAB);
  cpSync(join('labs', LAB), dir, { recursive: true });
  const file = join(dir, 'lab.yaml');
  const text = readFileSync(file, 'utf8');
  expect(text).toContain(from);
  writeFileSync(file, text.replace(from, to));
  const r = await runCli(['lab', 'run', file, '--yes', '--json'], { env, timeoutMs: 150_000 });
  const report = JSON.parse(r.stdout) as Report;
  expect(report.error).toBeUndefined();
  expect(r.code).toBe(1);
  const answers = JSON.parse(readFileSync(join(env.SOCKETLAB_RUN_DIR, LAB, 'questions.json'), 'utf8')) as { id: string; value?: string }[];
  return { failed: report.checks.filter((c) => !c.passed).map((c) => c.name), report, questions: Object.fromEntries(answers.map((a) => [a.id, a.value])) };
}

const failedOf = (failed: string[]) => Object.entries(CHECK).filter(([, name]) => failed.some((f) => f.startsWith(name))).map(([k]) => k).sort();

describeRoot('lab 13-l2-l3 on a broken network', () => {
  itWithPeers('router forwarding off: nothing reaches lan2, so the no-NAT, lan2 MAC and TTL checks fail', labPeers(LAB), async () => {
    const { failed } = await runBroken('{ name: router, kind: netns, forwarding: true }', '{ name: router, kind: netns, forwarding: false }');
    // the client still sends its SYN to the router's MAC on lan1 and ARPs for the gateway
    expect(failedOf(failed)).toEqual(['lan2Src', 'noNat', 'ttl']);
  }, 180_000);

  itWithPeers('wrong gateway on the client: no frame to the router, ARP for the wrong next hop', labPeers(LAB), async () => {
    const { failed } = await runBroken('{ host: client, to: default, via: 10.0.1.1 }', '{ host: client, to: default, via: 10.0.1.99 }');
    expect(failedOf(failed)).toEqual(['arpGateway', 'lan1Dst', 'lan2Src', 'neigh', 'noNat', 'ttl']);
  }, 180_000);

  itWithPeers('a NAT router: the server sees the router\'s 10.0.2.1, and lan2 carries another IP source', [...labPeers(LAB), 'iptables'], async () => {
    const nat = 'steps:\n  - name: the router masquerades (NAT) what it sends out on lan2\n    host: router\n    run: iptables -t nat -A POSTROUTING -o eth1 -j MASQUERADE\n';
    const { failed, questions } = await runBroken('steps:\n', nat);
    // Ethernet is rewritten as always; the IP source is not the client's any more
    expect(failedOf(failed)).toEqual(['lan2Src', 'noNat', 'ttl']);
    expect(questions['server-saw-ip']).toBe('10.0.2.1');
    expect(questions['lan1-dst-mac']).toBe('02:00:00:00:01:01');
  }, 180_000);
});

describeRoot('lab 13-l2-l3 break/fix', () => {
  itWithPeers('--break fix-forwarding: lab check fails until the student turns forwarding on in the router', labPeers(LAB), async () => {
    const up = await runCli(['lab', 'up', LAB, '--break', 'fix-forwarding'], { env, timeoutMs: 120_000 });
    expect(up.code, up.stderr + up.stdout).toBe(0);
    expect(up.stdout).toMatch(/brought up broken on purpose \(task fix-forwarding\)/);
    try {
      const broken = await runCli(['lab', 'check', LAB, '--json'], { env, timeoutMs: 90_000 });
      expect(broken.code).toBe(1);
      const b = JSON.parse(broken.stdout) as Report & { tasks: { id: string; done: boolean }[] };
      expect(b.tasks.find((t) => t.id === 'fix-forwarding')!.done).toBe(false);
      expect(failedOf(b.checks.filter((c) => !c.passed).map((c) => c.name))).toEqual(['lan2Src', 'noNat', 'ttl']);
      const hint = await runCli(['lab', 'hint', LAB, 'fix-forwarding'], { env });
      expect(hint.stdout).toMatch(/sysctl -w net\.ipv4\.ip_forward=1/);

      const ns = (JSON.parse(readFileSync(join(env.SOCKETLAB_RUN_DIR, LAB, 'state.json'), 'utf8')) as { netns: Record<string, string> }).netns.router!;
      const fix = await runCli(['netns', 'exec', ns, '--', 'sysctl', '-w', 'net.ipv4.ip_forward=1'], { env });
      expect(fix.code, fix.stderr).toBe(0);

      // the task's own request crosses the router now, and the lab's checks find it on both segments
      const fixed = await runCli(['lab', 'check', LAB, '--json'], { env, timeoutMs: 90_000 });
      const f = JSON.parse(fixed.stdout) as Report & { tasks: { id: string; done: boolean }[] };
      expect(f.tasks.find((t) => t.id === 'fix-forwarding')!.done).toBe(true);
      expect(f.checks.filter((c) => !c.passed).map((c) => `${c.name}: ${c.detail}`)).toEqual([]);
      expect(fixed.code).toBe(0);
    } finally {
      await runCli(['lab', 'down', LAB], { env, timeoutMs: 60_000 });
    }
  }, 300_000);
});

describe('lab 13-l2-l3 frames.sh', () => {
  it('reads the SYN that crossed from each capture: MACs, TTL, IPs and ports, and says what changed', () => {
    const dir = mkdtempSync(join(work, 'frames-'));
    const syn = (src: string, dst: string, ttl: number, pair: string) =>
      `17:03:20.147689 ${src} > ${dst}, ethertype IPv4 (0x0800), length 74: (tos 0x0, ttl ${ttl}, id 4214, offset 0, flags [DF], proto TCP (6), length 60)\n    ${pair}: Flags [S], cksum 0x1742 (incorrect -> 0x5786), seq 2161848413, win 64240, options [mss 1460,sackOK,TS val 1160845876 ecr 0,nop,wscale 10], length 0\n`;
    const arp = '17:03:20.147644 02:00:00:00:01:0a > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Ethernet (len 6), IPv4 (len 4), Request who-has 10.0.1.1 tell 10.0.1.10, length 28\n';
    writeFileSync(join(dir, 'service-lan1.out'), arp + syn('02:00:00:00:01:0a', '02:00:00:00:01:01', 64, '10.0.1.10.43772 > 10.0.2.10.8920'));
    writeFileSync(join(dir, 'service-lan2.out'), syn('02:00:00:00:02:01', '02:00:00:00:02:0a', 63, '10.0.1.10.43772 > 10.0.2.10.8920'));
    writeFileSync(join(dir, 'service-nat.out'), syn('02:00:00:00:02:01', '02:00:00:00:02:0a', 63, '10.0.2.1.43772 > 10.0.2.10.8920'));
    writeFileSync(join(dir, 'service-empty.out'), arp);
    // a SYN that never crossed (the router was not forwarding), then the one that did: the pair that crossed is shown
    writeFileSync(join(dir, 'service-retry.out'), syn('02:00:00:00:01:0a', '02:00:00:00:01:01', 64, '10.0.1.10.40000 > 10.0.2.10.8920') + syn('02:00:00:00:01:0a', '02:00:00:00:01:01', 64, '10.0.1.10.43772 > 10.0.2.10.8920'));
    const sh = (...files: string[]) => spawnSync('sh', [join('labs', LAB, 'frames.sh'), ...files.map((f) => join(dir, `service-${f}.out`))], { encoding: 'utf8' });
    const ok = sh('lan1', 'lan2');
    expect(ok.stdout).toBe('lan1: 02:00:00:00:01:0a > 02:00:00:00:01:01 ttl 64 10.0.1.10.43772 > 10.0.2.10.8920\nlan2: 02:00:00:00:02:01 > 02:00:00:00:02:0a ttl 63 10.0.1.10.43772 > 10.0.2.10.8920\nsame IPs and ports: yes; ttl change: -1\n');
    expect(ok.status).toBe(0);
    expect(sh('retry', 'lan2').stdout).toMatch(/^retry: .* 10\.0\.1\.10\.43772 > 10\.0\.2\.10\.8920\n.*\nsame IPs and ports: yes; ttl change: -1$/m);
    expect(sh('retry').stdout).toMatch(/^retry: .* 10\.0\.1\.10\.40000 > /);
    expect(sh('lan1', 'nat').stdout).toMatch(/^same IPs and ports: no; ttl change: -1$/m);
    const none = sh('lan1', 'empty');
    expect(none.stdout).toMatch(/^empty: no SYN captured$/m);
    expect(none.stdout).not.toMatch(/ttl change/);
    expect(none.status).toBe(1);
  });
});
