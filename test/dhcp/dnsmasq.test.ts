import { afterAll, beforeAll, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { describeRoot } from '../helpers/root.js';
import { describeWithPeers } from '../helpers/peers.js';
import { addresses, lab, startIn, tempDir, waitFor, type Running, type Topology } from './helpers.js';

// socketlab's client against a DHCP server people trust: dnsmasq in a namespace.
describeRoot('dhcp client against dnsmasq', () => {
  describeWithPeers('dnsmasq', ['dnsmasq'], () => {
    let topo: Topology;
    let dnsmasq: Running;
    const tmp = tempDir();
    const leaseFile = path.join(tmp.dir, 'dnsmasq.leases');
    const cli = fs.realpathSync(new URL('../../dist/cli.js', import.meta.url));

    beforeAll(async () => {
      tmp.make();
      topo = await lab({
        hosts: [{ name: 'dm' }, { name: 'pc' }],
        segments: [{ name: 'lan', members: [{ host: 'dm', address: '10.0.3.1/24' }, { host: 'pc' }] }],
      });
      fs.writeFileSync(leaseFile, '');
      dnsmasq = await startIn(topo.hosts.dm!, 'dnsmasq', [
        '--no-daemon', '--conf-file=/dev/null', '--port=0', '--user=root', '--group=root', '--interface=eth0', '--bind-interfaces',
        '--dhcp-range=10.0.3.100,10.0.3.150,255.255.255.0,120s', '--dhcp-option=3,10.0.3.1', `--dhcp-leasefile=${leaseFile}`,
        `--pid-file=${path.join(tmp.dir, 'dnsmasq.pid')}`, '--log-dhcp', '--log-facility=-',
      ], /DHCP, IP range 10\.0\.3\.100/, 10_000, {}, true); // dnsmasq logs to stderr with --log-facility=-
    });
    afterAll(async () => {
      await dnsmasq?.stop();
      await topo?.close();
      tmp[Symbol.dispose]();
    });

    it('gets a lease (address and default route applied) and releases it', async () => {
      const pc = topo.hosts.pc!;
      const state = path.join(tmp.dir, 'state.json');
      const got = await pc.exec(process.execPath, [cli, 'dhcp', 'client', '-i', 'eth0', '--once', '--json', '--state-file', state], { timeoutMs: 30_000 });
      expect(got.code, got.stderr).toBe(0);
      const lines = got.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      // dnsmasq pings an address before offering it, so the first DISCOVER may be retransmitted
      const seq = lines.map((l) => String(l.type ?? l.event)).filter((t, i, all) => t !== all[i - 1]);
      expect(seq).toEqual(['DISCOVER', 'OFFER', 'REQUEST', 'ACK', 'lease']);
      expect(lines[0]).toMatchObject({ from: '0.0.0.0:68', to: '255.255.255.255:67' });
      const lease = lines.at(-1)!;
      expect(lease).toMatchObject({ server: '10.0.3.1', router: '10.0.3.1', prefix: 24, leaseTime: 120 });
      expect(String(lease.address)).toMatch(/^10\.0\.3\.(1[0-4]\d|150)$/);
      expect(await addresses(pc)).toEqual([`${lease.address}/24`]);
      expect((await pc.exec('ip', ['route', 'show', 'default'])).stdout).toMatch(/default via 10\.0\.3\.1/);
      const mac = (await pc.exec('cat', ['/sys/class/net/eth0/address'])).stdout.trim();
      await waitFor(() => fs.readFileSync(leaseFile, 'utf8').includes(`${mac} ${lease.address}`), 'lease in dnsmasq\'s lease file');

      const rel = await pc.exec(process.execPath, [cli, 'dhcp', 'client', '-i', 'eth0', '--release', '--state-file', state], { timeoutMs: 30_000 });
      expect(rel.code, rel.stderr).toBe(0);
      expect(await addresses(pc)).toEqual([]);
      await waitFor(() => /DHCPRELEASE\(eth0\)/.test(dnsmasq.stderr()), 'dnsmasq saw the RELEASE');
      await waitFor(() => !fs.readFileSync(leaseFile, 'utf8').includes(mac), 'lease removed by dnsmasq');
    });
  });
});
