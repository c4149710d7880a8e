import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, runCli } from '../helpers/cli.js';
import { hasPeer } from '../helpers/peers.js';
import { cleanDocker } from '../../src/hosts/docker/clean.js';
import { PACKAGE_ROOT } from '../../src/hosts/docker/image.js';
import { describeDocker, ensureImage, labelled } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'socketlab-docker-labs-'));
// the run dir is bind-mounted into every container at the same path
const env = { SOCKETLAB_RUN_DIR: join(work, 'run') };

/** Exactly one line on stderr, nothing on stdout, exit 2. */
function oneLineExit2(r: { code: number | null; stdout: string; stderr: string }): void {
  expect(r.stdout).toBe('');
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.code).toBe(2);
}

interface PacketEvent { kind: 'packet'; t: number; segment: string; from: string; to: string[]; summary: string; src: string; dst: string; source: string; layers: { name: string; fields: Record<string, unknown> }[] }
interface Report { exitCode: number; passed: boolean; error?: string; checks: { name: string; passed: boolean; detail?: string }[]; events?: ({ kind: string } | PacketEvent)[] }

async function runLab(lab: string, extra: string[] = []): Promise<{ code: number | null; report: Report; stderr: string }> {
  const r = await runCli(['lab', 'run', lab, '--backend', 'docker', '--json', ...extra], { env, timeoutMs: 280_000 });
  let report: Report;
  try {
    report = JSON.parse(r.stdout) as Report;
  } catch {
    throw new Error(`lab ${lab}: no JSON report (exit ${r.code}): ${r.stderr.slice(-2000)}`);
  }
  return { code: r.code, report, stderr: r.stderr };
}

afterAll(() => rmSync(work, { recursive: true, force: true }));

const LABS = readdirSync(join(PACKAGE_ROOT, 'labs'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(PACKAGE_ROOT, 'labs', d.name, 'lab.yaml')))
  .map((d) => d.name)
  .sort();

describe('lab --backend: bad input without an engine', () => {
  it('unknown backend: one line, exit 2', async () => {
    const r = await runCli(['lab', 'run', '07-dhcp', '--backend', 'vbox'], { env });
    oneLineExit2(r);
    expect(r.stderr).toMatch(/unknown backend "vbox": use local, netns, docker or auto/);
  });
  it('engine down (bogus DOCKER_HOST): one line naming docker.io, exit 2, nothing run', async () => {
    const r = await runCli(['lab', 'run', '07-dhcp', '--backend', 'docker'], { env: { ...env, DOCKER_HOST: 'tcp://127.0.0.1:1' } });
    oneLineExit2(r);
    expect(r.stderr).toMatch(/no Docker engine at tcp:\/\/127\.0\.0\.1:1 .*docker\.io/);
  });
  it('a namespace lab with --backend local: one line, exit 2', async () => {
    const r = await runCli(['lab', 'run', '07-dhcp', '--backend', 'local'], { env });
    oneLineExit2(r);
    expect(r.stderr).toMatch(/--backend local runs only localhost labs/);
  });
});

describeDocker('labs in Docker (--backend docker)', () => {
  beforeAll(async () => {
    await ensureImage();
  }, 300_000);

  it('image missing: one line naming image build, exit 2', async () => {
    const r = await runCli(['lab', 'run', '07-dhcp', '--backend', 'docker', '--image', 'socketlab-test:missing'], { env });
    oneLineExit2(r);
    expect(r.stderr).toMatch(/image socketlab-test:missing is not on the Docker engine: run socketlab image build --tag socketlab-test:missing/);
  });

  // every namespace lab, and the localhost labs in one container each
  // (read from labs/, so that a new lab is run here too: issue 10)
  it.each(LABS)(
    '%s passes its checks, and leaves nothing labelled',
    async (lab) => {
      try {
        const { code, report } = await runLab(lab);
        expect(report.error).toBeUndefined();
        expect(report.checks.filter((c) => !c.passed)).toEqual([]);
        expect(report.checks.length).toBeGreaterThan(0);
        expect(code).toBe(0);
        expect(await labelled(lab)).toEqual([]);
      } finally {
        await cleanDocker(lab);
      }
    },
    300_000,
  );

  it.runIf(process.getuid?.() === 0 && hasPeer('tcpdump'))("07-dhcp --json: every frame on the segment's bridge is one packet event, DORA with MACs and the hosts' lanes", async () => {
    try {
      const { code, report } = await runLab('07-dhcp');
      expect(code).toBe(0);
      const packets = (report.events ?? []).filter((e): e is PacketEvent => e.kind === 'packet');
      // captured on the bridge, not rebuilt from the servers' logs
      expect(packets.length).toBeGreaterThan(0);
      expect(packets.every((p) => p.source === 'capture' && p.segment === 'lan')).toBe(true);
      const discover = packets.find((p) => p.summary.startsWith('DHCPDISCOVER'));
      expect(discover).toMatchObject({ src: '0.0.0.0:68', dst: '255.255.255.255:67', from: 'pc1', to: ['pc2', 'server'] });
      expect(discover!.layers[0]).toMatchObject({ name: 'Ethernet', fields: { src: 'aa:bb:cc:00:07:01', dst: 'ff:ff:ff:ff:ff:ff' } });
      expect(packets.find((p) => p.summary.startsWith('DHCPOFFER'))).toMatchObject({ from: 'server', dst: '255.255.255.255:68' });
      // the lanes are the lab's hosts; the only stranger is Docker's own address on the bridge (10.0.7.254, an IGMP report at times)
      expect(new Set(packets.flatMap((p) => [p.from, ...p.to]).filter((l) => l !== '?'))).toEqual(new Set(['pc1', 'pc2', 'server']));
      expect(packets.filter((p) => p.from === '?').map((p) => p.src.split(':')[0]).filter((ip) => ip !== '10.0.7.254')).toEqual([]);
      // one arrow per frame: as many as tcpdump reads back from the run's capture, none twice
      const dir = join(work, 'run', '07-dhcp');
      const frames = readdirSync(dir).filter((f) => f.endsWith('.pcap')).reduce((n, f) => n + execFileSync('tcpdump', ['-r', join(dir, f), '-n'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n').filter(Boolean).length, 0);
      expect(packets.length).toBe(frames);
      const keys = packets.map((p) => [p.t, p.summary, p.src, p.dst].join(' '));
      expect(new Set(keys).size).toBe(keys.length);
    } finally {
      await cleanDocker('07-dhcp');
    }
  }, 300_000);

  it('a deliberately broken lab still fails in Docker: the router does not forward, the check across it FAILs (exit 1)', async () => {
    const file = join(work, 'broken.yaml');
    writeFileSync(file, `name: 97-broken
title: broken on purpose
topic: a failing check is caught in Docker
hosts:
  - { name: a, kind: netns }
  - { name: r, kind: netns }
  - { name: b, kind: netns }
segments:
  - { name: left, members: [ { host: a, address: 10.0.97.10/24 }, { host: r, address: 10.0.97.1/24 } ] }
  - { name: right, members: [ { host: r, address: 10.0.96.1/24 }, { host: b, address: 10.0.96.10/24 } ] }
routes:
  - { host: a, to: default, via: 10.0.97.1 }
  - { host: b, to: default, via: 10.0.96.1 }
steps:
  - { name: neighbour, host: a, run: "ping -c 1 -W 2 10.0.97.1" }
checks:
  - { kind: command, host: a, name: "a reaches b across r", run: "ping -c 1 -W 2 10.0.96.10", hint: "r has forwarding off" }
`);
    try {
      const { code, report } = await runLab(file, ['--yes']);
      expect(report.error).toBeUndefined();
      expect(report.checks.map((c) => [c.name, c.passed])).toEqual([['a reaches b across r', false]]);
      expect(code).toBe(1);
      expect(await labelled('97-broken')).toEqual([]);
    } finally {
      await cleanDocker('97-broken');
    }
  }, 120_000);

  it('kill -9 of the runner, then lab down --backend docker: nothing labelled is left', async () => {
    const lab = '07-dhcp';
    const child = spawn(process.execPath, [CLI, 'lab', 'run', lab, '--backend', 'docker'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      // step 2 has begun: containers, networks, the server and pc1's background client exist
      for (let i = 0; i < 1200 && !/step 2\b/.test(out) && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
      expect(out).toMatch(/step 2\b/);
      child.kill('SIGKILL');
      await once(child, 'close');
      expect((await labelled(lab)).length).toBeGreaterThan(0);
      const r = await runCli(['lab', 'down', lab, '--backend', 'docker'], { env, timeoutMs: 60_000 });
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/is down/);
      expect(await labelled(lab)).toEqual([]);
    } finally {
      child.kill('SIGKILL');
      await cleanDocker(lab);
    }
  }, 240_000);
});
