// DNS as a lab runs it: primary and secondary on port 53 in their own network namespaces, a
// client namespace running dig against them. Needs root (namespaces, port 53).
import { expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { describeRoot } from '../helpers/root.js';
import { describeWithPeers } from '../helpers/peers.js';
import { createTopology } from '../../src/netns/index.js';
import { EXAMPLE_ZONE, tempDir } from './helpers.js';

function ready(child: ChildProcess, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const t = setTimeout(() => reject(new Error(`${what} not ready: ${out} ${err}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (/^socketlab-dns listening on /m.test(out)) {
        clearTimeout(t);
        resolve(out);
      }
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => reject(new Error(`${what} exited (${code}): ${out} ${err}`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

const records = (file: string): Record<string, unknown>[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describeRoot('dns on port 53 inside lab namespaces', () => describeWithPeers('with dig', ['dig'], () => {
  it('primary and secondary on 10.0.0.53/54:53, queried by dig from a client namespace', async () => {
    using dir = tempDir();
    await using topo = await createTopology({
      hosts: [{ name: 'client' }, { name: 'ns1' }, { name: 'ns2' }],
      segments: [{ name: 'lan', members: [{ host: 'client', address: '10.0.0.10/24' }, { host: 'ns1', address: '10.0.0.53/24' }, { host: 'ns2', address: '10.0.0.54/24' }] }],
    });
    const plog = join(dir.path, 'primary.log');
    const slog = join(dir.path, 'secondary.log');
    const primary = topo.hosts.ns1!.socketlab(['--log-file', plog, 'dns', 'serve', '--zone', EXAMPLE_ZONE, '--host', '10.0.0.53', '--port', '53', '--allow-transfer', '10.0.0.0/24', '--notify', '10.0.0.54:53']);
    try {
      await ready(primary, 'primary');
      const secondary = topo.hosts.ns2!.socketlab(['--log-file', slog, 'dns', 'serve', '--host', '10.0.0.54', '--port', '53', '--secondary', '10.0.0.53:53', '--zone-name', 'example.com.']);
      try {
        expect(await ready(secondary, 'secondary')).toMatch(/secondary for example\.com\. serial 2026112101/);
        // the server-to-server connection: secondary's ephemeral port <-> primary:53, still open
        const ss = await topo.hosts.ns2!.exec('ss', ['-tnH', 'state', 'established']);
        expect(ss.stdout).toMatch(/10\.0\.0\.54:\d+\s+10\.0\.0\.53:53\b/);
        const client = topo.hosts.client!;
        const a = await client.exec('dig', ['@10.0.0.53', '+tries=1', '+time=2', 'www.example.com', 'A']);
        expect(a.stdout).toMatch(/^www\.example\.com\.\s+3600\s+IN\s+A\s+192\.0\.2\.80$/m);
        expect(a.stdout).toContain('SERVER: 10.0.0.53#53(10.0.0.53) (UDP)');
        const b = await client.exec('dig', ['@10.0.0.54', '+tries=1', '+time=2', '+noedns', 'many.example.com', 'A']);
        expect(b.stdout).toContain(';; Truncated, retrying in TCP mode.');
        expect(b.stdout).toMatch(/ANSWER: 40,/);
        // the client is not in the secondary's transfer list (default: loopback only)
        const x = await client.exec('dig', ['@10.0.0.54', '+tries=1', '+time=2', 'example.com', 'AXFR']);
        expect(x.stdout).not.toMatch(/XFR size/);
      } finally {
        await stop(secondary);
      }
    } finally {
      await stop(primary);
    }
    const pulled = records(slog).find((r) => r.event === 'dns.axfr' && r.rcode === 'NOERROR')!;
    expect(pulled.pair).toMatch(/^10\.0\.0\.54:\d+ <-> 10\.0\.0\.53:53$/);
    const served = records(plog).find((r) => r.event === 'dns.axfr')!;
    expect(served.pair).toBe(pulled.pair);
    const q = records(slog).filter((r) => r.event === 'dns.query' && r.qname === 'many.example.com');
    expect(q.map((r) => r.transport)).toEqual(['udp', 'tcp']);
    expect(q[0]!.pair).toMatch(/^10\.0\.0\.10:\d+ <-> 10\.0\.0\.54:53$/);
    expect(records(slog).some((r) => r.event === 'dns.axfr' && r.rcode === 'REFUSED' && String(r.pair).startsWith('10.0.0.10:'))).toBe(true);
  });
}));
