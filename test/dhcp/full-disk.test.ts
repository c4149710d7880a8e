import { afterAll, beforeAll, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describeRoot } from '../helpers/root.js';
import { broadcastRoute, lab, probe, readLeaseFile, startServer, tempDir, type Running, type Topology } from './helpers.js';

// The lease file on a full disk (a small tmpfs): the server stops ACKing on ENOSPC, and the torn row
// the short write left is cut off again; once space is back, new ACKs are written, and a restart
// loads every ACKed lease (before: the next row was glued onto the torn one, and the restart failed
// with `address "10.77.010.77.0.129" is not IPv4` or dropped an ACKed lease).
describeRoot('dhcp serve: lease file on a full disk', () => {
  let topo: Topology;
  const tmp = tempDir();
  const mnt = path.join(tmp.dir, 'mnt');
  const leases = path.join(mnt, 'leases.csv');
  const filler = path.join(mnt, 'filler');
  let mounted = false;
  const servers: Running[] = [];
  const serveArgs = ['-i', 'eth0', '--subnet', '10.77.0.0/24', '--range', '10.77.0.10-10.77.0.250', '--lease-time', '3600', '--leases', leases, '--log-level', 'warn'];

  beforeAll(async () => {
    tmp.make();
    fs.mkdirSync(mnt);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0700', 'tmpfs', mnt]);
    mounted = true;
    topo = await lab({
      hosts: [{ name: 'srv' }, { name: 'cl' }],
      segments: [{ name: 'lan', members: [{ host: 'srv', address: '10.77.0.1/24' }, { host: 'cl' }] }],
    });
    await broadcastRoute(topo.hosts.cl!);
  });
  afterAll(async () => {
    for (const s of servers) await s.stop().catch(() => undefined);
    await topo?.close();
    if (mounted) {
      try {
        execFileSync('umount', [mnt]);
      } catch {
        execFileSync('umount', ['-l', mnt]); // still busy: detach now, freed when the last user exits
      }
    }
    tmp[Symbol.dispose]();
  });

  /** Fills the tmpfs: after this, only the slack in the lease file's last page can take data. */
  function fillDisk(): void {
    const fd = fs.openSync(filler, 'w');
    try {
      const chunk = Buffer.alloc(16 * 1024, 0x78);
      for (;;) fs.writeSync(fd, chunk);
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
    } finally {
      fs.closeSync(fd);
    }
  }

  it('no ACK without a written row; the torn row is cut off; after space frees, every ACKed lease survives a restart', async () => {
    servers.push(await startServer(topo.hosts.srv!, serveArgs));
    fillDisk();

    // One client at a time, until the server stops answering (it must not ACK what it could not write).
    const first = await probe(topo.hosts.cl!, ['dora', '--count', '200', '--prefix', '02:77', '--concurrency', '1', '--timeout', '1000', '--max-misses', '2', '--deadline', '40000']);
    const acked1 = first.filter((r) => r.result === 'ACK');
    expect(acked1.length).toBeGreaterThan(0);
    expect(first.filter((r) => r.result === 'no-ack').length).toBeGreaterThan(0); // the disk really was full
    const text = fs.readFileSync(leases, 'utf8');
    expect(text.endsWith('\n'), `lease file ends mid-row: ...${JSON.stringify(text.slice(-80))}`).toBe(true);

    fs.rmSync(filler); // space is back
    const second = await probe(topo.hosts.cl!, ['dora', '--count', '5', '--prefix', '02:78', '--concurrency', '1', '--timeout', '1000', '--retries', '2', '--deadline', '30000']);
    const acked2 = second.filter((r) => r.result === 'ACK');
    expect(acked2).toHaveLength(5);
    await servers[0]!.stop();

    const again = await startServer(topo.hosts.srv!, serveArgs); // refused to start before the fix
    servers.push(again);
    expect(again.stderr()).not.toMatch(/torn row/); // the file held whole rows only
    const rows = new Map(readLeaseFile(leases).map((r) => [r.address, r]));
    for (const a of [...acked1, ...acked2]) expect(rows.get(String(a.address)), `ACKed lease ${a.address} for ${a.mac}`).toMatchObject({ hwaddr: a.mac, state: 0 });
  });
});
