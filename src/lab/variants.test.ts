import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveLab } from './loader.js';
import { variantVars, type VariantSpec } from './variants.js';
import { bindVars, fill, fillSoft } from './template.js';
import { bindSpec, labVars, renderFile } from './bind.js';
import { staticScope } from './docker.js';
import { studentVars } from './student.js';
import { parseCidr, inCidr, ipToInt } from '../core/address.js';
import type { LabSpec } from './schema.js';

describe('names derived from a subnet or value', () => {
  const scope = { lan: '10.0.7.0/24', ns1: '10.0.6.53', zone: 'bakimo.example' };
  it('host N, network, prefix, mask, and regexes', () => {
    expect(fill('${lan.1} ${lan.199} ${lan.network}/${lan.prefix} ${lan.mask}', scope, 't')).toBe('10.0.7.1 10.0.7.199 10.0.7.0/24 255.255.255.0');
    expect(fill('${lan.re}1[0-9][0-9]', scope, 't')).toBe('10\\.0\\.7\\.1[0-9][0-9]');
    expect(new RegExp(`^${fill('${ns1.re}:', scope, 't')}`).test('10.0.6.53:4000')).toBe(true);
    expect(new RegExp(`^${fill('${ns1.re}:', scope, 't')}`).test('10.0.6.5300:4000')).toBe(false);
    expect(fill('${zone.re}', scope, 't')).toBe('bakimo\\.example');
    // outside the subnet, or no such part: not defined (a lab-file error, never a literal ${...})
    expect(() => fill('${lan.256}', scope, 't')).toThrow(/variable "lan.256" is not defined/);
    expect(fillSoft('${lan.nope}', scope)).toBe('<lan.nope>');
  });
  it('vars that refer to vars are bound; names only a run knows are left', () => {
    expect(bindVars({ lan: '10.0.9.0/24', gw: '${lan.1}', acl: '${gw}/32', port: '${echo.port}' })).toEqual({ lan: '10.0.9.0/24', gw: '10.0.9.1', acl: '10.0.9.1/32', port: '${echo.port}' });
  });
});

describe('variant values', () => {
  const spec: Record<string, VariantSpec> = {
    lan: { subnet: { in: '10.0.0.0/16', prefix: 24 } },
    wan: { subnet: { in: '10.0.0.0/16', prefix: 24 } },
    a: { address: { in: '${lan}', hosts: [2, 6] } },
    b: { address: { in: '${lan}', hosts: [2, 6] } },
    c: { address: { in: '${lan}', hosts: [2, 6] } },
    m1: { mac: 'aa:bb:cc:dd:ee' },
    m2: { mac: 'aa:bb:cc:dd:ee' },
    zone: { name: { under: 'example' } },
    port: { range: [9000, 9999] },
  };
  const defaults = { lan: '10.0.7.0/24', wan: '10.0.8.0/24', gw: '${lan.2}', a: '${lan.3}', b: '${lan.4}', c: '${lan.5}', m1: 'x', m2: 'y', zone: 'example.com', port: '8920' };

  it('same seed, same values; another seed, others', () => {
    const one = variantVars(spec, 7, defaults);
    expect(variantVars(spec, 7, defaults)).toEqual(one);
    const two = variantVars(spec, 8, defaults);
    expect(two.lan).not.toBe(one.lan);
    expect(two.zone).not.toBe(one.zone);
  });

  it('inside their ranges, and no two collide (nor with a var that does not vary) over many seeds', () => {
    for (let seed = 0; seed < 300; seed++) {
      const v = variantVars(spec, seed, defaults);
      const lan = parseCidr(v.lan!);
      expect(parseCidr(v.wan!).network, `seed ${seed}`).not.toBe(lan.network);
      expect(v.lan).toMatch(/^10\.0\.\d+\.0\/24$/);
      const gw = bindVars({ ...defaults, ...v }).gw!;
      const hosts = [v.a!, v.b!, v.c!];
      // hosts 2..6 hold five addresses: the gateway .2 and three drawn ones never meet
      expect(new Set([...hosts, gw]).size, `seed ${seed}: ${hosts} ${gw}`).toBe(4);
      for (const h of hosts) {
        expect(inCidr(ipToInt(h), lan)).toBe(true);
        expect(ipToInt(h) - lan.network).toBeGreaterThanOrEqual(2);
        expect(ipToInt(h) - lan.network).toBeLessThanOrEqual(6);
      }
      expect(v.m1).toMatch(/^aa:bb:cc:dd:ee:[0-9a-f]{2}$/);
      expect(v.m1).not.toBe(v.m2);
      expect(v.zone).toMatch(/^([bdfgkmnprstvz][aeiou]){3}\.example$/);
      expect(Number(v.port)).toBeGreaterThanOrEqual(9000);
      expect(Number(v.port)).toBeLessThanOrEqual(9999);
    }
  });

  it('a range too small for its variables says so', () => {
    expect(() => variantVars({ a: { address: { in: '10.0.0.0/24', hosts: [2, 2] } }, b: { address: { in: '10.0.0.0/24', hosts: [2, 2] } } }, 1)).toThrow(/variants\.b: no value left/);
  });
});

/** The lab's services, steps, segments and routes as a run fills them (run_dir as /RUN). */
function filled(spec: LabSpec, over: Record<string, string> = {}): { services: string[]; steps: string[]; segments: string[]; routes: string[] } {
  const scope = { ...staticScope(spec, over), run_dir: '/RUN' };
  const bound = bindSpec(spec, labVars(spec, over));
  return {
    services: spec.services.map((s) => fill(s.run, scope, s.name)),
    steps: spec.steps.map((s) => fill(s.run, scope, s.name)),
    segments: bound.segments.flatMap((s) => s.members.map((m) => `${m.host} ${m.address ?? '-'}`)),
    routes: bound.routes.map((r) => `${r.host} ${r.to} via ${r.via}`),
  };
}

describe('the shipped labs without a seed are as they were', () => {
  it('02-socket-pairs: the server on 127.0.0.1:8920 (echo\'s own default address, now said)', () => {
    const f = filled(resolveLab('02-socket-pairs'));
    expect(f.services).toEqual(['echo --port 8920 --host 127.0.0.1']);
    expect(f.steps[0]).toBe('socketlab connect 127.0.0.1:8920 --count 3 --hold 60 --verify');
  });
  it('06-dns: addresses, services, zone name', () => {
    const f = filled(resolveLab('06-dns'));
    expect(f.segments).toEqual(['client 10.0.6.10/24', 'ns1 10.0.6.53/24', 'ns2 10.0.6.54/24']);
    expect(f.services).toEqual([
      'dns serve --zone /RUN/example.zone --host 10.0.6.53 --port 53 --allow-transfer 10.0.6.0/24 --notify 10.0.6.54:53',
      'dns serve --host 10.0.6.54 --port 53 --secondary 10.0.6.53:53 --zone-name example.com.',
    ]);
    expect(f.steps[0]).toBe('socketlab dns query www.example.com A --server 10.0.6.53:53');
    expect(f.steps[6]).toContain('dig @10.0.6.54 ftp.example.com A +norec +short');
  });
  it('06-dns: the zone file is rendered as it was written before it had variables', () => {
    const spec = resolveLab('06-dns');
    const dir = mkdtempSync(join(tmpdir(), 'sl-render-'));
    try {
      renderFile(join(spec.dir, 'example.zone'), join(dir, 'z'), staticScope(spec));
      const text = readFileSync(join(dir, 'z'), 'utf8');
      expect(text).toMatch(/^\$ORIGIN example\.com\.$/m);
      expect(text).toMatch(/^\$TTL 3600$/m);
      expect(text).toMatch(/IN {2}SOA {3}ns1\.example\.com\. hostmaster\.example\.com\. \(/);
      expect(text).toMatch(/^ns1 {5}IN {2}A {5}10\.0\.6\.53$/m);
      expect(text).toMatch(/^ns2 {5}IN {2}A {5}10\.0\.6\.54$/m);
      expect(text).not.toContain('${');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it("11-dhcpv6: dhclient's script stays executable in the run dir (dhclient -6 -sf runs it)", () => {
    const spec = resolveLab('11-dhcpv6');
    const dir = mkdtempSync(join(tmpdir(), 'sl-render-'));
    try {
      renderFile(join(spec.dir, 'dhclient6-script'), join(dir, 's'), staticScope(spec));
      expect(statSync(join(dir, 's')).mode & 0o111).not.toBe(0);
      renderFile(join(spec.dir, 'radvd.conf'), join(dir, 'c'), staticScope(spec));
      expect(statSync(join(dir, 'c')).mode & 0o111).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('07-dhcp: scope, router, reservation, MACs', () => {
    const f = filled(resolveLab('07-dhcp'));
    expect(f.segments).toEqual(['server 10.0.7.1/24', 'pc1 -', 'pc2 -']);
    expect(f.services).toEqual(['dhcp serve -i eth0 --subnet 10.0.7.0/24 --range 10.0.7.100-10.0.7.199 --router 10.0.7.1 --dns 10.0.7.1 --domain lab.example --lease-time 60 --time-scale 4 --reserve aa:bb:cc:00:07:02=10.0.7.50 --leases /RUN/leases.csv']);
    expect(f.steps.slice(0, 2)).toEqual(['ip link set eth0 address aa:bb:cc:00:07:01', 'ip link set eth0 address aa:bb:cc:00:07:02']);
  });
  it('08-dhcp-relay: two subnets, the route back, the relay', () => {
    const f = filled(resolveLab('08-dhcp-relay'));
    expect(f.segments).toEqual(['server 10.0.1.2/24', 'router 10.0.1.1/24', 'router 10.0.2.1/24', 'pc -']);
    expect(f.routes).toEqual(['server 10.0.2.0/24 via 10.0.1.1']);
    expect(f.services).toEqual([
      'dhcp serve -i eth0 --subnet 10.0.1.0/24 --range 10.0.1.100-10.0.1.199 --router 10.0.1.1 --subnet 10.0.2.0/24 --range 10.0.2.100-10.0.2.199 --router 10.0.2.1 --leases /RUN/leases.csv',
      'dhcp relay -i eth1 --server 10.0.1.2',
    ]);
  });
});

describe('the shipped labs with a seed', () => {
  it('06-dns: a zone name and three distinct addresses inside a seed-chosen subnet; the fault follows them', () => {
    const spec = resolveLab('06-dns');
    const a = labVars(spec, studentVars(spec, { seed: '1' }).vars);
    const b = labVars(spec, studentVars(spec, { seed: '2' }).vars);
    expect(a.zone).not.toBe('example.com');
    expect(a.zone).not.toBe(b.zone);
    expect(a.lan).not.toBe(b.lan);
    for (const v of [a, b]) {
      const lan = parseCidr(v.lan!);
      const ips = [v.client_ip!, v.ns1_ip!, v.ns2_ip!];
      expect(new Set(ips).size).toBe(3);
      for (const ip of ips) expect(inCidr(ipToInt(ip), lan)).toBe(true);
      expect(v.transfer_acl).toBe(v.lan);
    }
    const broken = labVars(spec, studentVars(spec, { seed: '1', break: 'fix-acl' }).vars);
    expect(broken.transfer_acl).toBe(`${a.client_ip}/32`);
    expect(filled(spec, studentVars(spec, { seed: '1' }).vars).services[1]).toBe(`dns serve --host ${a.ns2_ip} --port 53 --secondary ${a.ns1_ip}:53 --zone-name ${a.zone}.`);
  });
  it('08-dhcp-relay: the two subnets differ, and the route back follows them', () => {
    const spec = resolveLab('08-dhcp-relay');
    for (let seed = 0; seed < 50; seed++) {
      const v = labVars(spec, studentVars(spec, { seed: String(seed) }).vars);
      expect(v.core).not.toBe(v.edge);
      expect(bindSpec(spec, v).routes).toEqual([{ host: 'server', to: v.edge, via: v.router_core }]);
    }
  });
});

describe('no text of a shipped lab keeps a literal ${...}', () => {
  it('every ${name} in every lab (checks, tasks, questions, hints) is known, with and without a seed', async () => {
    const { listLabFiles, loadLabFile } = await import('./loader.js');
    const { lookup } = await import('./template.js');
    for (const l of listLabFiles()) {
      const spec = loadLabFile(l.file);
      for (const seed of [undefined, '1', '2', '3']) {
        const vars = seed === undefined ? {} : studentVars(spec, { seed }).vars;
        const scope: Record<string, string> = { ...staticScope(spec, vars) };
        // names only a run knows: its namespaces, its services' ready lines
        for (const h of spec.hosts) scope[`${h.name}.netns`] = `sl-x-${h.name}`;
        for (const s of spec.services) for (const k of ['port', 'address', 'transport']) scope[`${s.name}.${k}`] ??= '1';
        const unknown = [...JSON.stringify(spec).matchAll(/\$\{([a-zA-Z0-9_.-]+)\}/g)].map((m) => m[1]!).filter((n) => lookup(scope, n) === undefined);
        expect([...new Set(unknown)], `${spec.name} seed ${seed}`).toEqual([]);
      }
    }
  });
});
