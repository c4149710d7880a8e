import { afterAll, beforeAll, expect, it } from 'vitest';
import path from 'node:path';
import { describeRoot } from '../helpers/root.js';
import { broadcastRoute, lab, logRecords, probe, startServer, tempDir, waitFor, type Running, type Topology } from './helpers.js';

// Thousands of short, random, mutated and malformed datagrams (option 55 listing anything, unknown
// options, truncated options, floods of random xids and message types), broadcast and unicast,
// against a running server: it never crashes or stalls, and a normal DORA right after completes.
describeRoot('dhcp serve under fuzz', () => {
  let topo: Topology;
  let server: Running;
  const tmp = tempDir();
  const log = path.join(tmp.dir, 'server.log');

  beforeAll(async () => {
    tmp.make();
    topo = await lab({
      hosts: [{ name: 'srv' }, { name: 'fz' }],
      segments: [{ name: 'lan', members: [{ host: 'srv', address: '10.2.0.1/16' }, { host: 'fz', address: '10.2.0.2/16' }] }],
    });
    await broadcastRoute(topo.hosts.fz!);
    server = await startServer(topo.hosts.srv!, [
      '-i', 'eth0', '--subnet', '10.2.0.0/16', '--range', '10.2.1.0-10.2.255.250', '--leases', path.join(tmp.dir, 'leases.csv'), '--log-file', log, '--log-level', 'warn',
    ]);
  });
  afterAll(async () => {
    await server?.stop();
    await topo?.close();
    tmp[Symbol.dispose]();
  });

  it.each([
    ['broadcast', '255.255.255.255', 1],
    ['unicast', '10.2.0.1', 2],
  ])('%s: 4000 bad datagrams, then a normal DORA', async (_name, to, seed) => {
    const [res] = await probe(topo.hosts.fz!, ['fuzz', '--count', '4000', '--to', to, '--seed', String(seed), '--deadline', '30000']);
    expect(res).toMatchObject({ result: 'fuzzed', sent: 4000 });
    const dora = await probe(topo.hosts.fz!, ['dora', '--count', '3', '--prefix', '02:99', '--concurrency', '1', '--timeout', '2000', '--retries', '2']);
    expect(dora.map((d) => d.result)).toEqual(['ACK', 'ACK', 'ACK']);
    expect(server.child.exitCode).toBeNull();
    expect(server.child.signalCode).toBeNull();
    // malformed input was seen and reported as a warning, with the peer's socket pair
    await waitFor(() => logRecords(log).some((r) => r.msg === 'malformed datagram dropped' && String(r.pair).endsWith('10.2.0.1:67')), 'malformed-datagram warnings');
    expect(logRecords(log).some((r) => Number(r.level) >= 50)).toBe(false); // no error-level records
  });
});
