import { afterAll, beforeAll, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { describeRoot } from '../helpers/root.js';
import { runCli } from '../helpers/cli.js';
import { lab, tempDir, type Topology } from './helpers.js';

// What `dhcp serve|leases|client` must refuse before serving anything (exit 2, a message naming the
// flag), run inside a lab namespace: in the host's namespace the host-network guard would exit 2 first.
describeRoot('dhcp: refused at start', () => {
  let topo: Topology;
  const tmp = tempDir();
  const leases = path.join(tmp.dir, 'leases.csv');
  // `cd DIR` first, so that a file written to the current directory can be seen (and is removed)
  const inNs = (dir = tmp.dir): string[] => ['ip', 'netns', 'exec', topo.hosts.srv!.netns, 'sh', '-c', 'cd "$0" && exec "$@"', dir];
  const serve = ['dhcp', 'serve', '-i', 'eth0', '--subnet', '10.9.0.0/24', '--range', '10.9.0.10-10.9.0.99'];

  beforeAll(async () => {
    tmp.make();
    topo = await lab({ hosts: [{ name: 'srv' }], segments: [{ name: 'lan', members: [{ host: 'srv', address: '10.9.0.1/24' }] }] });
  });
  afterAll(async () => {
    await topo?.close();
    tmp[Symbol.dispose]();
  });

  it('70 DNS servers: option 6 cannot hold them -> exit 2 naming --dns and option 6 (it used to start and drop every OFFER)', async () => {
    const dns = Array.from({ length: 70 }, (_, i) => `10.9.0.${i + 100}`).join(',');
    const r = await runCli([...serve, '--dns', dns, '--leases', leases], { wrap: inNs(), timeoutMs: 15_000 });
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(/--dns: 70 servers take 280 bytes, but option 6 .* at most 255/);
    expect(r.stdout).not.toMatch(/listening/);
  });

  it('a lease time that overflows option 51 after --time-scale -> exit 2 naming both flags', async () => {
    const r = await runCli([...serve, '--lease-time', '4294967295', '--time-scale', '0.5', '--leases', leases], { wrap: inNs(), timeoutMs: 15_000 });
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(/--lease-time 4294967295 at --time-scale 0\.5 is 8589934590 s .*option 51/);
  });

  it('--leases \'\' is refused (exit 2) and leaves no .compact-PID file in the current directory', async () => {
    const cwd = path.join(tmp.dir, 'cwd');
    fs.mkdirSync(cwd);
    const r = await runCli([...serve, '--leases', ''], { wrap: inNs(cwd), timeoutMs: 15_000 });
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(/--leases needs a file path/);
    expect(fs.readdirSync(cwd)).toEqual([]);
  });

  it('dhcp leases --leases on a missing file: exit 2 naming the file, not "no leases"', async () => {
    const missing = path.join(tmp.dir, 'nonexistent', 'leases.csv');
    const r = await runCli(['dhcp', 'leases', '--leases', missing]);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toContain(missing);
    expect(r.stdout).not.toMatch(/no leases/);
    const empty = await runCli(['dhcp', 'leases', '--leases', '']);
    expect(empty.code).toBe(2);
  });

  it('dhcp client --timeout beyond what a timer can hold: exit 2 with a message, no Node TimeoutOverflowWarning', async () => {
    const r = await runCli(['dhcp', 'client', '-i', 'eth0', '--once', '--timeout', '99999999999', '--state-file', path.join(tmp.dir, 'c.json')], { wrap: inNs(), timeoutMs: 15_000 });
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(/--timeout "99999999999" must be at most/);
    expect(r.stderr).not.toMatch(/TimeoutOverflowWarning/);
  });
});
