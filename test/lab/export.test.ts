import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { AS_NOBODY, runCli } from '../helpers/cli.js';
import { isRoot } from '../helpers/root.js';
import { listLabFiles, loadLabFile } from '../../src/lab/loader.js';
import { servicePorts, staticScope } from '../../src/lab/docker.js';
import { splitCommand } from '../../src/lab/exec.js';
import { fill } from '../../src/lab/template.js';
import { bindSpec, labVars } from '../../src/lab/bind.js';

/**
 * No Docker engine runs here, so the export is checked for completeness and consistency: every
 * host, service, network, address and port of the lab appears, and the entrypoint is socketlab.
 */
const work = mkdtempSync(join(tmpdir(), 'sl-export-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface ComposeService {
  image: string;
  build: { context: string; dockerfile: string };
  labels: Record<string, string>;
  command?: string[];
  entrypoint?: string[];
  expose?: string[];
  networks?: Record<string, { ipv4_address?: string; ipv6_address?: string; interface_name?: string }>;
  network_mode?: string;
  cap_add?: string[];
  sysctls?: Record<string, string>;
  volumes: string[];
}
interface Compose { name?: string; services: Record<string, ComposeService>; networks: Record<string, { driver: string; ipam?: { config: { subnet: string; gateway?: string }[] } }> }

// the labs as their default run has them: segment addresses and routes filled from their vars
const labs = listLabFiles().map((l) => loadLabFile(l.file)).map((s) => bindSpec(s, labVars(s)));

describe('lab export --docker', () => {
  for (const spec of labs) {
    it(`${spec.name}: every host, service, network and port appears`, async () => {
      const dir = join(work, spec.name);
      const r = await runCli(['lab', 'export', spec.name, '--docker', dir]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const compose = parse(readFileSync(join(dir, 'compose.yaml'), 'utf8')) as Compose;
      const dockerfile = readFileSync(join(dir, 'Dockerfile'), 'utf8');
      expect(dockerfile).toMatch(/^ENTRYPOINT \["socketlab"\]$/m);
      expect(dockerfile).toMatch(/^FROM node:20/m);
      // docker-compose 1.29 (Debian) refuses a top-level name and interface_name (Engine 28.1+)
      expect(compose.name).toBeUndefined();
      for (const c of Object.values(compose.services)) for (const n of Object.values(c.networks ?? {})) expect(n.interface_name).toBeUndefined();
      const containers = Object.entries(compose.services);
      const netns = spec.hosts.some((h) => h.kind === 'netns');
      const scope = staticScope(spec);

      // hosts: one container each, on the lab's networks with the lab's addresses
      for (const h of spec.hosts) {
        const c = compose.services[h.name];
        expect(c, `container for host ${h.name}`).toBeDefined();
        expect(c!.labels['socketlab.host']).toBe(h.name);
        expect(c!.image).toBe('socketlab:lab');
        expect(c!.volumes).toContain('./lab:/lab');
        if (h.ephemeralRange) expect(c!.sysctls?.['net.ipv4.ip_local_port_range']).toBe(h.ephemeralRange.join(' '));
        if (h.forwarding) expect(c!.sysctls?.['net.ipv4.ip_forward']).toBe('1');
        if (netns) expect(c!.cap_add).toEqual(expect.arrayContaining(['NET_ADMIN', 'NET_BIND_SERVICE']));
        if (spec.root) expect(c!.cap_add).toEqual(expect.arrayContaining(['NET_ADMIN', 'NET_RAW']));
      }
      for (const seg of netns ? spec.segments : [{ name: 'lab', members: spec.hosts.map((h) => ({ host: h.name, address: undefined as string | undefined })) }]) {
        expect(compose.networks[seg.name]?.driver, `network ${seg.name}`).toBe('bridge');
        for (const m of seg.members) {
          const attach = compose.services[m.host]!.networks?.[seg.name];
          expect(attach, `${m.host} on ${seg.name}`).toBeDefined();
          const ip = m.address?.split('/')[0];
          if (ip) expect(ip.includes(':') ? attach!.ipv6_address : attach!.ipv4_address).toBe(ip);
          if (ip) {
            const gw = compose.networks[seg.name]!.ipam!.config.map((c) => c.gateway);
            expect(gw, 'Docker gateway must not take a lab address').not.toContain(ip);
          }
        }
      }

      // services: their socketlab command as the container command, under the socketlab entrypoint
      for (const s of spec.services) {
        const found = containers.filter(([, c]) => c.labels['socketlab.service'] === s.name && c.labels['socketlab.host'] === s.host);
        expect(found, `container for service ${s.name}`).toHaveLength(1);
        const [, c] = found[0]!;
        const args = splitCommand(fill(s.run, scope, s.name));
        if (s.program) {
          expect([...(c.entrypoint ?? []).slice(-1), ...(c.command ?? [])]).toEqual(args.map((x) => x.replace(/\$/g, '$$$$')));
        } else {
          expect(c.command).toEqual(args.map((x) => x.replace(/\$/g, '$$$$'))); // compose's own $ escape
          // no own entrypoint: the image's socketlab; or a wrapper that ends in exec socketlab
          if (c.entrypoint) expect(c.entrypoint.join(' ')).toMatch(/exec socketlab "\$\$@" socketlab$/);
          for (const p of servicePorts(args).ports) expect(c.expose ?? []).toContain(`${p.port}/${p.proto}`);
        }
        if (c.network_mode) expect(c.network_mode).toBe(`service:${s.host}`);
      }

      // every port the checks look at is exposed by some container of that host
      for (const ch of spec.checks) {
        if (!('port' in ch) || ch.kind === 'listening' && ch.absent) continue;
        const port = Number(fill(String(ch.port), scope, 'port'));
        const host = ch.host ?? spec.hosts[0]!.name;
        const exposed = containers.filter(([, c]) => c.labels['socketlab.host'] === host).flatMap(([, c]) => c.expose ?? []);
        if (ch.kind === 'listening' || ch.kind === 'established-pairs') expect(exposed.map((e) => Number(e.split('/')[0])), `port ${port} on ${host}`).toContain(port);
      }

      // the steps, in order, run in the right containers
      const steps = readFileSync(join(dir, 'steps.sh'), 'utf8');
      spec.steps.forEach((s, i) => expect(steps).toContain(`== step ${i + 1}: `));
      for (const s of spec.steps) expect(steps).toMatch(new RegExp(`\\$COMPOSE exec (-d )?-T ${s.host} `));
      expect(existsSync(join(dir, 'lab', 'lab.yaml'))).toBe(true);
      // the lab's files as a run has them: its own ${var}s filled (lab 06's zone file)
      for (const f of spec.files) expect(readFileSync(join(dir, 'lab', f), 'utf8')).not.toMatch(new RegExp(`\\$\\{(${Object.keys(spec.vars).join('|') || '-'})\\}`));
      expect(readFileSync(join(dir, 'README.md'), 'utf8')).toContain(`socketlab lab run ${spec.name}`);
    });
  }

  it("--docker '' is refused (it wrote into the current directory, over the project's README.md)", async () => {
    const cwd = join(work, 'cwd');
    mkdirSync(cwd);
    writeFileSync(join(cwd, 'README.md'), 'the project readme\n');
    const r = await runCli(['lab', 'export', '02-socket-pairs', '--docker', ''], { wrap: ['sh', '-c', 'cd "$0" && exec "$@"', cwd] });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--docker needs a directory/);
    expect(readFileSync(join(cwd, 'README.md'), 'utf8')).toBe('the project readme\n');
    expect(existsSync(join(cwd, 'compose.yaml'))).toBe(false);
  });

  it("overwrites only the same lab's earlier export, else asks for --force", async () => {
    const dir = join(work, 'clash');
    mkdirSync(dir);
    writeFileSync(join(dir, 'README.md'), 'mine\n');
    const r = await runCli(['lab', 'export', '02-socket-pairs', '--docker', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/already has README\.md, not from an export of this lab; .*--force/);
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toBe('mine\n');
    expect((await runCli(['lab', 'export', '02-socket-pairs', '--docker', dir, '--force'])).code).toBe(0);
    // the same lab again: its own files, no --force needed; another lab: refused
    expect((await runCli(['lab', 'export', '02-socket-pairs', '--docker', dir])).code).toBe(0);
    const other = await runCli(['lab', 'export', '04-udp-vs-tcp', '--docker', dir]);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/from an export of 02-socket-pairs/);
  });

  it('a directory under /proc fails with a message instead of hanging', async () => {
    const r = await runCli(['lab', 'export', '02-socket-pairs', '--docker', '/proc/socketlab-x'], { timeoutMs: 10_000 });
    expect(r.signal).toBeNull();
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\/proc\/socketlab-x/);
  });

  it('a directory it may not write is a clear message, exit 2 (not "unexpected error")', async () => {
    // a root-owned 0755 directory, written as nobody (as root) or as this user (it is not ours)
    const locked = join(work, 'locked');
    mkdirSync(locked, { mode: 0o755 });
    if (!isRoot) chmodSync(locked, 0o555);
    const r = await runCli(['lab', 'export', '02-socket-pairs', '--docker', join(locked, 'out')], isRoot ? { wrap: AS_NOBODY } : {});
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot write .*locked(\/out)?: permission denied/);
    expect(r.stderr).not.toMatch(/unexpected error/);
  });

  it('--image NAME: that image everywhere, no build section, no Dockerfile', async () => {
    const dir = join(work, 'with-image');
    const r = await runCli(['lab', 'export', '07-dhcp', '--docker', dir, '--image', 'socketlab:test']);
    expect(r.code).toBe(0);
    const compose = parse(readFileSync(join(dir, 'compose.yaml'), 'utf8')) as Compose;
    for (const c of Object.values(compose.services)) {
      expect(c.image).toBe('socketlab:test');
      expect(c.build).toBeUndefined();
    }
    expect(existsSync(join(dir, 'Dockerfile'))).toBe(false);
  });

  it('a missing --docker is a usage error', async () => {
    const r = await runCli(['lab', 'export', '02-socket-pairs']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--docker <dir>/);
  });
});
