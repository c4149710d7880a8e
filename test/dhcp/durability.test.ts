import { afterAll, beforeAll, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { describeRoot } from '../helpers/root.js';
import { PROBE, broadcastRoute, lab, probe, readLeaseFile, startServer, tempDir, waitFor, type Running, type Topology } from './helpers.js';

// kill -9 in the middle of a burst of new leases, then restart on the same lease file: every ACK a
// client received is still in the file, held by that client, and is never handed to anyone else,
// also with the file compacted in the background (new file, fsync, rename) during the burst.
describeRoot('dhcp serve: kill -9 during a burst', () => {
  let topo: Topology;
  const tmp = tempDir();
  const leases = path.join(tmp.dir, 'leases.csv');
  const serveArgs = ['-i', 'eth0', '--subnet', '10.1.0.0/16', '--range', '10.1.0.10-10.1.255.250', '--lease-time', '3600', '--leases', leases, '--log-level', 'warn'];

  beforeAll(async () => {
    tmp.make();
    topo = await lab({
      hosts: [{ name: 'srv' }, { name: 'cl' }],
      segments: [{ name: 'lan', members: [{ host: 'srv', address: '10.1.0.1/16' }, { host: 'cl' }] }],
    });
    await broadcastRoute(topo.hosts.cl!);
  });
  afterAll(async () => {
    await topo?.close();
    tmp[Symbol.dispose]();
  });

  it('no acknowledged lease is lost or duplicated', async () => {
    // A slow disk (each fsync +15 ms) keeps rows waiting for their group commit, so an ACK sent
    // before its row is written would be lost by the kill: the test can catch that ordering bug.
    // Background compaction every 100 rows: the kill may land while a new file is written or swapped in.
    const server: Running = await startServer(topo.hosts.srv!, serveArgs, { SOCKETLAB_DHCP_SLOW_DISK_MS: '15', SOCKETLAB_DHCP_COMPACT_ROWS: '100' });
    const born = fs.statSync(leases).birthtimeMs; // (inode numbers are reused; creation times are not)
    // A bounded burst: 4000 clients at most, 64 in flight, 25 s at most; stops after 200 misses.
    const burst = topo.hosts.cl!.spawn(process.execPath, [PROBE, 'dora', '--count', '4000', '--prefix', '02:77', '--concurrency', '64', '--timeout', '500', '--deadline', '25000', '--max-misses', '200']);
    let out = '';
    burst.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const burstDone = new Promise<void>((r) => burst.on('close', () => r()));
    const acked = (): Record<string, unknown>[] => out.split('\n').filter((l) => l.includes('"ACK"')).map((l) => JSON.parse(l) as Record<string, unknown>);
    await waitFor(() => acked().length >= 300, '300 ACKs before the kill', 20_000, 20);
    server.child.kill('SIGKILL');
    await server.stop();
    await burstDone;

    const acks = acked();
    expect(fs.statSync(leases).birthtimeMs, 'a background compaction replaced the file during the burst').not.toBe(born);
    expect(acks.length).toBeGreaterThanOrEqual(300);
    expect(acks.length).toBeLessThan(4000); // the kill really landed mid-burst
    const byAddr = new Map<string, string>();
    for (const a of acks) {
      expect(byAddr.has(String(a.address)), `address ${a.address} ACKed twice`).toBe(false);
      byAddr.set(String(a.address), String(a.mac));
    }

    // Restart on the same file: compaction at start, then every ACKed lease is there, bound, its client's.
    const again = await startServer(topo.hosts.srv!, serveArgs);
    try {
      const rows = new Map(readLeaseFile(leases).map((r) => [r.address, r]));
      for (const a of acks) expect(rows.get(String(a.address)), `lease ${a.address} for ${a.mac}`).toMatchObject({ hwaddr: a.mac, state: 0 });
      const header = fs.readFileSync(leases, 'utf8').split('\n')[0];
      expect(header).toBe('address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context,pool_id');

      // Each acknowledged client still holds its address (INIT-REBOOT is ACKed with the same one) ...
      const pairsFile = path.join(tmp.dir, 'pairs.txt');
      fs.writeFileSync(pairsFile, acks.map((a) => `${a.mac} ${a.address}\n`).join(''));
      const reboot = await probe(topo.hosts.cl!, ['reboot', '--pairs', pairsFile, '--concurrency', '32', '--deadline', '30000']);
      expect(reboot).toHaveLength(acks.length);
      for (const r of reboot) expect(r, JSON.stringify(r)).toMatchObject({ result: 'ACK', address: r.want });

      // ... and new clients never get one of those addresses.
      const fresh = await probe(topo.hosts.cl!, ['dora', '--count', '500', '--prefix', '02:78', '--concurrency', '32', '--timeout', '1000', '--retries', '2', '--deadline', '30000']);
      const freshAcks = fresh.filter((r) => r.result === 'ACK');
      expect(freshAcks.length).toBe(500);
      for (const f of freshAcks) expect(byAddr.has(String(f.address)), `${f.address} handed out twice`).toBe(false);
    } finally {
      await again.stop();
    }
  });
});
