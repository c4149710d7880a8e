import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  classifyPort, courseTable, hostEphemeralRange, inRange, lookupPort, lookupService, parseEtcServices, parsePort, serviceTable,
} from './registry.js';

const dirs: string[] = [];
const tempDir = (prefix: string): string => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('classifyPort', () => {
  it.each([
    [0, 'well-known'], [22, 'well-known'], [1023, 'well-known'],
    [1024, 'registered'], [3389, 'registered'], [49151, 'registered'],
    [49152, 'dynamic'], [65535, 'dynamic'],
  ] as const)('%i is %s', (port, category) => {
    expect(classifyPort(port)).toBe(category);
  });
});

describe('parsePort', () => {
  it('accepts 0-65535', () => {
    expect(parsePort('0')).toBe(0);
    expect(parsePort(' 443 ')).toBe(443);
    expect(parsePort('65535')).toBe(65535);
  });
  it.each([
    ['70000', /out of range.*65535/],
    ['-1', /negative/],
    ['1.5', /not a whole number/],
    ['http', /not a number/],
    ['', /not a number/],
  ])('rejects %j with a reason', (text, why) => {
    expect(() => parsePort(text)).toThrow(why);
  });
});

describe('service table', () => {
  it('covers every port of the course notes with protocol and name', () => {
    const notes = [20, 21, 22, 23, 25, 53, 67, 68, 69, 80, 110, 143, 161, 389, 443, 445, 1102, 1433, 3306, 3389, 5060, 5061];
    for (const port of notes) {
      const e = lookupPort(port);
      expect(e, `port ${port}`).toBeDefined();
      expect(e!.protocols.length).toBeGreaterThan(0);
      expect(e!.course).toBe(true);
    }
    expect(courseTable().map((e) => e.port)).toEqual(notes);
  });
  it('says where the notes\' table differs: DHCP 67/68 and TFTP 69 are UDP, DNS servers do not only talk TCP', () => {
    for (const port of [67, 68, 69]) {
      expect(lookupPort(port)!.protocols).toEqual(['udp']);
      expect(lookupPort(port)!.notesDiffer, `port ${port}`).toMatch(/notes list .* as TCP: .* UDP only/);
    }
    expect(lookupPort(53)!.notesDiffer).toMatch(/NOTIFY are UDP/);
    expect(lookupPort(80)!.notesDiffer).toBeUndefined();
  });
  it('DNS is both TCP and UDP; DHCP is UDP', () => {
    expect(lookupPort(53)!.protocols.sort()).toEqual(['tcp', 'udp']);
    expect(lookupPort(67)!.protocols).toEqual(['udp']);
  });
  it('looks services up by name and by common alias', () => {
    expect(lookupService('https')!.port).toBe(443);
    expect(lookupService('HTTPS')!.port).toBe(443);
    expect(lookupService('dns')!.port).toBe(53);
    expect(lookupService('rdp')!.port).toBe(3389);
    expect(lookupService('nosuchservice')).toBeUndefined();
  });
  it('merges /etc/services-style files, course entries winning', () => {
    const dir = tempDir('sl-services-');
    const file = join(dir, 'services');
    writeFileSync(file, '# comment\nhttp\t80/tcp\t\twww # WorldWideWeb\nhttp 80/udp\nfoo\t4242/tcp\t# Foo service\nbar 4243/sctp\n');
    const table = serviceTable(file);
    expect(table.find((e) => e.port === 80)!.name).toBe('http');
    expect(table.find((e) => e.port === 80)!.protocols).toEqual(['tcp']); // course entry kept as assigned
    expect(table.find((e) => e.port === 4242)).toMatchObject({ name: 'foo', description: 'Foo service', course: false });
    expect(table.find((e) => e.port === 4243)).toBeUndefined();
  });
  it('parses /etc/services lines', () => {
    expect(parseEtcServices('ssh\t\t22/tcp\t\t\t# SSH Remote Login Protocol\n')).toEqual([
      { port: 22, protocols: ['tcp'], name: 'ssh', description: 'SSH Remote Login Protocol', course: false },
    ]);
  });
});

describe('ephemeral range', () => {
  it('reads the kernel file format', () => {
    const dir = tempDir('sl-range-');
    const file = join(dir, 'range');
    writeFileSync(file, '32768\t60999\n');
    const r = hostEphemeralRange(file)!;
    expect(r).toMatchObject({ first: 32768, last: 60999 });
    expect(inRange(41822, r)).toBe(true);
    expect(inRange(8920, r)).toBe(false);
  });
  it('is undefined when the file is missing', () => {
    expect(hostEphemeralRange('/nonexistent/ip_local_port_range')).toBeUndefined();
  });
});
