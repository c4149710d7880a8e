/**
 * socketlab used the way another project would: `npm pack`, the tarball installed into a fresh
 * project (test/fixtures/consumer, copied to a temp dir: no path back to src/), and scripts there
 * that import, require() and type-check the package through its exports map only.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describeRoot } from '../helpers/root.js';
import { describeWithPeers } from '../helpers/peers.js';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '../..');
const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');

describeWithPeers('socketlab installed from its tarball into a consumer project', ['dig', 'ss'], () => {
  let dir = '';
  let project = '';
  const node = async (args: string[]) => run(process.execPath, args, { cwd: project, timeout: 90_000 });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sl-consumer-'));
    project = join(dir, 'project');
    cpSync(join(repo, 'test', 'fixtures', 'consumer'), project, { recursive: true });
    const packed = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: repo, timeout: 120_000 });
    const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as { filename: string }[];
    // --ignore-scripts: what npm 11 does by default for a dependency's install scripts (allowScripts),
    // and socketlab's own postinstall (patch-package for dhcp) fails there, dhcp being hoisted
    // out of its node_modules; made deterministic here whatever the npm version or its config.
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', join(dir, info!.filename)], { cwd: project, timeout: 120_000 });
  }, 240_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ESM: a DNS server on port 0 answers dig, and its events name the query; internals are not importable', async () => {
    const { stdout } = await node(['esm-dns.mjs', '--lab']);
    const out = JSON.parse(stdout);
    expect(out.address.port).toBeGreaterThan(0);
    expect(out.dig).toBe('192.0.2.10');
    expect(out.serverEvents).toEqual([expect.objectContaining({ to: `127.0.0.1:${out.address.port}`, qname: 'www.example.test', qtype: 'A', rcode: 'NOERROR' })]);
    expect(out.serverEvents[0].from).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(out.query).toEqual({ rcode: 'NOERROR', answer: ['192.0.2.10'], pair: expect.stringContaining(`<-> 127.0.0.1:${out.address.port}`) });
    expect(out.deepImport).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
    expect(out.badBackend.code).toBe('LAB_ERR_INVALID_ARGUMENT');
    expect(out.badBackend.message).toMatch(/backend "docker" is not one of auto, local, netns/);
    // a shipped lab, found relative to the installed package, run through socketlab/lab
    expect(out.lab).toMatchObject({ passed: true, exitCode: 0, seed: 7 });
    expect(out.lab.events).toContain('tcp.accept');
  });

  it('CommonJS: require() of the ESM entry points works on this Node, without a warning', async () => {
    const { stdout, stderr } = await node(['cjs-dns.cjs']);
    const out = JSON.parse(stdout);
    expect(out.dig).toBe('192.0.2.20');
    expect(out.queries).toBe(1);
    expect(out.labExports).toEqual(['listLabs', 'runLab']);
    expect(out.netnsExports).toEqual(['createTopology']);
    expect(out.deepRequire).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
    expect(stderr).toBe('');
  });

  it('TypeScript: the consumer type-checks against the shipped .d.ts (and its @ts-expect-error lines stay errors)', async () => {
    const r = await run(process.execPath, [tsc, '-p', '.', '--noEmit'], { cwd: project, timeout: 90_000 }).catch((err: { stdout: string; code: number }) => err);
    expect('code' in r ? r.stdout : '').toBe('');
  });

  describeRoot('DHCP in a topology made through socketlab/netns', () => {
    it('DORA between two namespaces, seen in both event logs; `await using` leaves no socket, namespace or process', async () => {
      await run(process.execPath, [tsc, '-p', '.'], { cwd: project, timeout: 90_000 });
      const { stdout } = await node(['out/dispose.js']);
      const out = JSON.parse(stdout);
      expect(out.lease).toEqual({ address: '10.0.9.100', prefix: 24, server: '10.0.9.1', router: '10.0.9.1' });
      expect(out.interface).toContain('inet 10.0.9.100/24');
      // "the client sent DISCOVER from 0.0.0.0:68"
      expect(out.clientEvents[0]).toEqual({ event: 'dhcp.out', type: 'DISCOVER', from: '0.0.0.0:68', to: '255.255.255.255:67' });
      expect(out.clientEvents.map((e: { type: string }) => e.type)).toEqual(['DISCOVER', 'OFFER', 'REQUEST', 'ACK']);
      expect(out.serverSawDiscover).toEqual({ event: 'dhcp.in', type: 'DISCOVER', from: '0.0.0.0:68', to: '10.0.9.1:67' });
      expect(out.inside.echoed).toBe(true);
      expect(out.socketsInside).toBeGreaterThan(0);
      expect(out.socketsAfter).toEqual([]);
      expect(out.namespacesAfter).toEqual([]);
      expect(out.childrenAfter).toEqual([]);
    });
  });
});
