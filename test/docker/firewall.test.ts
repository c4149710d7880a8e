import { afterAll, beforeAll, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { createDockerTopology } from '../../src/hosts/docker/topology.js';
import { cleanDocker } from '../../src/hosts/docker/clean.js';
import type { HostTopology } from '../../src/hosts/backend.js';
import { describeDocker, dockerUserChain, ensureImage, labelled } from './helpers.js';

const lab = `test-fw-${randomBytes(3).toString('hex')}`;

/**
 * Runs under whatever engine is there. With its iptables rules (the default) and br_netfilter on,
 * Docker's isolation rules for internal networks drop a frame bridged between two containers whose
 * source is outside the subnet: a DHCP DISCOVER from 0.0.0.0 (labs 07, 08). socketlab's ACCEPT in
 * DOCKER-USER for each lab bridge lets it through and goes with the lab.
 */
describeDocker('docker topology on an engine with or without its iptables rules', () => {
  let topo: HostTopology | undefined;
  beforeAll(async () => {
    await ensureImage();
  }, 300_000);
  afterAll(async () => {
    await topo?.close().catch(() => undefined);
    await cleanDocker(lab);
  });

  it('a DHCP DISCOVER from 0.0.0.0 crosses the lab bridge; the DOCKER-USER rules go with the topology', async () => {
    topo = await createDockerTopology({ hosts: [{ name: 'srv' }, { name: 'cli' }], segments: [{ name: 'lan', members: [{ host: 'srv', address: '10.0.65.1/24' }, { host: 'cli' }] }] }, { lab });
    const bridge = `slb-${topo.id}-0`;
    const chain = dockerUserChain();
    console.info(chain === undefined ? 'engine without a DOCKER-USER chain (--iptables=false) or not root' : `DOCKER-USER during the run:\n${chain}`);
    // iptables-nft quotes the comment, iptables-legacy does not
    if (chain !== undefined) expect(chain).toMatch(new RegExp(`^-A DOCKER-USER -i ${bridge} -o ${bridge} -m comment --comment "?socketlab\\.lab=${lab}"? -j ACCEPT$`, 'm'));

    const { srv, cli } = topo.hosts;
    const dump = await srv!.spawn(['timeout', '20', 'tcpdump', '-i', 'eth0', '-n', '-l', '-c', '1', 'udp and dst port 67']);
    let out = '';
    let err = '';
    dump.stdout.on('data', (d: Buffer) => (out += d.toString()));
    dump.stderr.on('data', (d: Buffer) => (err += d.toString()));
    for (let i = 0; i < 100 && !/listening on/.test(err); i++) await new Promise((r) => setTimeout(r, 100));
    expect(err).toMatch(/listening on/);
    // no server answers: udhcpc gives up after its DISCOVERs (exit 1); what counts is that one arrived
    await cli!.exec(['udhcpc', '-i', 'eth0', '-n', '-q', '-t', '3', '-T', '1', '-s', '/bin/true'], { timeoutMs: 20_000 });
    await dump.exited;
    expect(out).toMatch(/0\.0\.0\.0\.68 > 255\.255\.255\.255\.67/);

    await topo.close();
    expect(await labelled(lab)).toEqual([]);
    expect(dockerUserChain() ?? '').not.toContain(`socketlab.lab=${lab}`);
    expect(dockerUserChain('ip6tables') ?? '').not.toContain(`socketlab.lab=${lab}`);
  }, 120_000);
});
