import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { runCli } from '../helpers/cli.js';
import { expectShape, type Shape } from '../helpers/shape.js';

/** The documented PortsReport (src/ports/lookup.ts). */
const portsReport: Shape = {
  ports: [{ port: 'number', category: 'string', protocols: ['string'], service: 'string|null', description: 'string|null', inCourseTable: 'boolean', 'notesDiffer?': 'string', inHostEphemeralRange: 'boolean', inIanaDynamicRange: 'boolean' }],
  ranges: [{ category: 'string', first: 'number', last: 'number', also: 'string', use: 'string' }],
  ephemeral: { host: 'object|null', iana: { first: 'number', last: 'number', source: 'string' }, explanation: 'string' },
};

describe('socketlab ports', () => {
  it('looks up by number and by name, both ways, as JSON', async () => {
    const r = await runCli(['ports', '443', 'https', 'ssh', '50000', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expectShape(report, portsReport);
    expect(report.ports.map((p: { port: number }) => p.port)).toEqual([443, 443, 22, 50000]);
    expect(report.ports[0]).toMatchObject({ service: 'https', category: 'well-known', inCourseTable: true });
    expect(report.ports[3]).toMatchObject({ category: 'dynamic', inIanaDynamicRange: true });
  });

  it("shows the host's real ephemeral range next to IANA's", async () => {
    const [first, last] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    const r = await runCli(['ports', '--json']);
    const report = JSON.parse(r.stdout);
    expect(report.ephemeral.host).toMatchObject({ first, last });
    expect(report.ephemeral.iana).toMatchObject({ first: 49152, last: 65535 });
    const text = await runCli(['ports']);
    expect(text.stdout).toContain(`this host: ${first}-${last}`);
    expect(text.stdout).toContain('IANA:      49152-65535');
  });

  it("with no argument prints the course's table and the three ranges", async () => {
    const r = await runCli(['ports']);
    expect(r.code).toBe(0);
    for (const row of [/^\s*53\s+tcp\+udp\s+domain\s+well-known/m, /^\s*67\s+udp\s+bootps/m, /^\s*3389\s+tcp\+udp\s+ms-wbt-server\s+registered/m]) expect(r.stdout).toMatch(row);
    for (const range of ['0-1023', '1024-49151', '49152-65535']) expect(r.stdout).toContain(range);
  });

  it('says, not silently, where the course notes differ: DHCP and TFTP on UDP, port 0 reserved', async () => {
    const r = await runCli(['ports']);
    expect(r.stdout).toContain('Where the course notes differ');
    expect(r.stdout).toMatch(/67\/udp: the notes list DHCP 67\/68 as TCP/);
    expect(r.stdout).toMatch(/69\/udp: the notes list TFTP 69 as TCP/);
    expect(r.stdout).toMatch(/Port 0 is reserved/);
    const one = JSON.parse((await runCli(['ports', 'tftp', '--json'])).stdout);
    expect(one.ports[0].notesDiffer).toMatch(/UDP only/);
  });
});
