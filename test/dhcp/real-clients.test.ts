import { afterAll, beforeAll, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { describeRoot } from '../helpers/root.js';
import { describeWithPeers } from '../helpers/peers.js';
import { addresses, lab, logRecords, readLeaseFile, startIn, startServer, tempDir, waitFor, type Running, type Topology } from './helpers.js';

// ISC dhclient and busybox udhcpc, the clients people trust, each get, renew and release a lease
// from socketlab; the lease file shows each step. --lease-time 60 at --time-scale 10 makes 6 s leases
// (T1 3 s), so renewal happens during the test.

describeRoot('dhcp serve with real clients', () => {
  describeWithPeers('dhclient and udhcpc', ['dhclient', 'udhcpc'], () => {
    let topo: Topology;
    let server: Running;
    const tmp = tempDir();
    const leases = path.join(tmp.dir, 'leases.csv');
    const log = path.join(tmp.dir, 'server.log');

    beforeAll(async () => {
      tmp.make();
      topo = await lab({
        hosts: [{ name: 'srv' }, { name: 'isc' }, { name: 'bb' }, { name: 'sl' }],
        segments: [{ name: 'lan', members: [{ host: 'srv', address: '10.0.1.1/24' }, { host: 'isc' }, { host: 'bb' }, { host: 'sl' }] }],
      });
      server = await startServer(topo.hosts.srv!, [
        '-i', 'eth0', '--subnet', '10.0.1.0/24', '--range', '10.0.1.100-10.0.1.150', '--router', '10.0.1.1',
        '--dns', '10.0.1.1', '--domain', 'lab.test', '--lease-time', '60', '--time-scale', '10', '--leases', leases, '--log-file', log,
      ]);
    });
    afterAll(async () => {
      await server?.stop();
      await topo?.close();
      tmp[Symbol.dispose]();
    });

    const rowsFor = (mac: string) => (fs.existsSync(leases) ? fs.readFileSync(leases, 'utf8').split('\n').filter((l) => l.includes(mac)) : []);
    const mac = async (host: string): Promise<string> => (await topo.hosts[host]!.exec('cat', ['/sys/class/net/eth0/address'])).stdout.trim();

    it('ISC dhclient: lease, renewal at T1 (unicast REQUEST with ciaddr), release', async () => {
      const isc = topo.hosts.isc!;
      const hw = await mac('isc');
      const lf = path.join(tmp.dir, 'dhclient.leases');
      const pf = path.join(tmp.dir, 'dhclient.pid');
      const events = path.join(tmp.dir, 'dhclient.events');
      const script = path.join(tmp.dir, 'dhclient-script');
      // Our own -sf script: applies the address in the namespace only, never touches /etc/resolv.conf.
      fs.writeFileSync(script, `#!/bin/sh
echo "$reason $new_ip_address" >> ${events}
case "$reason" in
  BOUND|RENEW|REBIND|REBOOT) ip addr replace "$new_ip_address/$new_subnet_mask" dev "$interface" ;;
  EXPIRE|FAIL|RELEASE|STOP) [ -n "$old_ip_address" ] && ip addr del "$old_ip_address/$old_subnet_mask" dev "$interface" ;;
esac
exit 0
`, { mode: 0o755 });
      const args = ['-d', '-v', '-4', '-lf', lf, '-pf', pf, '-sf', script, 'eth0'];
      const client = isc.spawn('dhclient', args);
      try {
        const bound = await waitFor(() => readLeaseFile(leases).find((r) => r.hwaddr === hw && r.state === 0), 'dhclient lease in the lease file');
        expect(bound.address).toMatch(/^10\.0\.1\.1\d\d$/);
        await waitFor(async () => (await addresses(isc)).includes(`${bound.address}/24`), 'address applied by dhclient');
        // renewal: a second bound row for the same address, after a REQUEST with ciaddr set
        await waitFor(() => rowsFor(hw).length >= 2, 'renewal row', 15_000);
        await waitFor(() => logRecords(log).some((r) => r.event === 'dhcp.in' && r.type === 'REQUEST' && r.chaddr === hw && r.ciaddr === bound.address), 'RENEW REQUEST in the server log');
        await waitFor(() => /RENEW/.test(fs.readFileSync(events, 'utf8')), 'dhclient ran its script with reason RENEW');
        // release: dhclient -r sends RELEASE and stops the -d instance via the pid file
        const rel = await isc.exec('dhclient', ['-r', '-v', '-4', '-lf', lf, '-pf', pf, '-sf', script, 'eth0'], { timeoutMs: 20_000 });
        expect(rel.code).toBe(0);
        await waitFor(() => readLeaseFile(leases).find((r) => r.hwaddr === hw && r.state === 3), 'released row');
        expect(await addresses(isc)).toEqual([]);
      } finally {
        client.kill('SIGKILL');
      }
    });

    it('busybox udhcpc: lease, renewal (SIGUSR1), release (SIGUSR2)', async () => {
      const bb = topo.hosts.bb!;
      const hw = await mac('bb');
      const events = path.join(tmp.dir, 'udhcpc.events');
      const script = path.join(tmp.dir, 'udhcpc-script');
      fs.writeFileSync(script, `#!/bin/sh
echo "$1 $ip" >> ${events}
case "$1" in
  deconfig) ip -4 addr flush dev "$interface" ;;
  bound|renew) ip addr replace "$ip/$mask" dev "$interface" ;;
esac
exit 0
`, { mode: 0o755 });
      const client = bb.spawn('udhcpc', ['-f', '-i', 'eth0', '-s', script, '-t', '5', '-T', '1', '-A', '1']);
      try {
        const bound = await waitFor(() => readLeaseFile(leases).find((r) => r.hwaddr === hw && r.state === 0), 'udhcpc lease in the lease file');
        await waitFor(async () => (await addresses(bb)).includes(`${bound.address}/24`), 'address applied by udhcpc');
        // udhcpc sends option 61 (01 + MAC): the file records it
        expect(bound.clientId).toBe(`01:${hw}`);
        // busybox clamps short leases to 122 s, so its T1 is a minute away: SIGUSR1 is its "renew now"
        // (unicast REQUEST with ciaddr, as at T1).
        client.kill('SIGUSR1');
        await waitFor(() => rowsFor(hw).length >= 2 && fs.readFileSync(events, 'utf8').includes('renew'), 'udhcpc renewal', 15_000);
        await waitFor(() => logRecords(log).some((r) => r.event === 'dhcp.in' && r.type === 'REQUEST' && r.chaddr === hw && r.ciaddr === bound.address), 'RENEW REQUEST in the server log');
        client.kill('SIGUSR2');
        await waitFor(() => readLeaseFile(leases).find((r) => r.hwaddr === hw && r.state === 3), 'released row');
        await waitFor(async () => (await addresses(bb)).length === 0, 'address removed after release');
      } finally {
        client.kill('SIGKILL');
      }
    });

    it('socketlab dhcp client keeps its lease: renews at T1 by unicast while it runs', async () => {
      const host = topo.hosts.sl!;
      await using client = await startIn(host, null, ['dhcp', 'client', '-i', 'eth0', '--state-file', path.join(tmp.dir, 'sl.json')], /^lease /m);
      const addr = /^lease (\S+)\/24 .*, 6 s \(T1 3 s, T2 5 s\)/m.exec(client.stdout())?.[1];
      expect(addr, client.stdout()).toBeDefined();
      await waitFor(() => client.stdout().match(/^lease /gm)!.length >= 2, 'a renewed lease line', 15_000);
      expect(client.stdout()).toMatch(new RegExp(`^-> REQUEST +${addr!.replaceAll('.', '\\.')}:68 -> 10\\.0\\.1\\.1:67 .*ciaddr=`, 'm'));
      expect(await addresses(host)).toEqual([`${addr}/24`]);
    });

    it('every message in and out was logged with its socket pair', () => {
      const recs = logRecords(log).filter((r) => r.event === 'dhcp.in' || r.event === 'dhcp.out');
      const types = new Set(recs.map((r) => `${r.event}:${r.type}`));
      for (const t of ['dhcp.in:DISCOVER', 'dhcp.out:OFFER', 'dhcp.in:REQUEST', 'dhcp.out:ACK', 'dhcp.in:RELEASE']) expect(types).toContain(t);
      for (const r of recs) {
        expect(r).toMatchObject({ transport: 'udp', xid: expect.any(Number), chaddr: expect.stringMatching(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/) });
        expect(String(r.pair)).toMatch(/:6[78] <-> .*:67$/);
      }
      const offer = recs.find((r) => r.event === 'dhcp.out' && r.type === 'OFFER')!;
      expect(offer).toMatchObject({ from: '10.0.1.1:67', to: '255.255.255.255:68' });
    });
  });
});
