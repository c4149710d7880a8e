import { afterAll, beforeAll, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import { createDockerTopology } from '../../src/hosts/docker/topology.js';
import { cleanDocker } from '../../src/hosts/docker/clean.js';
import type { HostTopology } from '../../src/hosts/backend.js';
import { describeDocker, ensureImage, labelled } from './helpers.js';

const lab = `test-topo-${randomBytes(3).toString('hex')}`;

describeDocker('docker topology', () => {
  let topo: HostTopology | undefined;
  beforeAll(async () => {
    await ensureImage();
  }, 300_000);
  afterAll(async () => {
    await topo?.close().catch(() => undefined);
    await cleanDocker(lab);
  });

  it('two hosts on one internal bridge: addresses, names, labels, ping, teardown', async () => {
    // b's second segment comes first in Docker's own order (alphabetical), so eth0/eth1 must be renamed
    topo = await createDockerTopology(
      {
        hosts: [{ name: 'a' }, { name: 'b', forwarding: true, ephemeralRange: [40000, 40009] }],
        segments: [
          { name: 'zlan', members: [{ host: 'a', address: '10.0.61.10/24' }, { host: 'b', address: '10.0.61.1/24' }] },
          { name: 'alan', members: [{ host: 'b', address: '10.0.62.1/24' }] },
        ],
      },
      { lab },
    );
    const { a, b } = topo.hosts;
    const addr = async (host: typeof a, ifname: string): Promise<string> => (await host!.exec(['ip', '-4', '-o', 'addr', 'show', 'dev', ifname])).stdout;
    expect(await addr(a, 'eth0')).toContain('inet 10.0.61.10/24');
    expect(await addr(b, 'eth0')).toContain('inet 10.0.61.1/24');
    expect(await addr(b, 'eth1')).toContain('inet 10.0.62.1/24');
    expect(b!.interfaces.map((i) => `${i.ifname}=${i.segment}`)).toEqual(['eth0=zlan', 'eth1=alan']);
    // and each name sits on the right Docker network: same MAC as the engine reports
    const nets = (await new Docker().getContainer(`sl-${topo.id}-b`).inspect()).NetworkSettings.Networks;
    expect((await b!.readFile('/sys/class/net/eth0/address')).toString().trim()).toBe(nets[`sl-${topo.id}-zlan`]!.MacAddress);
    expect((await b!.readFile('/sys/class/net/eth1/address')).toString().trim()).toBe(nets[`sl-${topo.id}-alan`]!.MacAddress);

    const ping = await a!.exec(['ping', '-c', '1', '-W', '5', '10.0.61.1']);
    expect(ping.stdout).toContain('1 received');
    expect(ping.code).toBe(0);
    // exit codes and stderr come back separately
    const bad = await a!.exec(['sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(bad).toMatchObject({ code: 3, stdout: 'out\n', stderr: 'err\n', timedOut: false });
    // sysctls per container, not the Docker host's
    expect((await a!.readFile('/proc/sys/net/ipv4/ip_forward')).toString().trim()).toBe('0');
    expect((await b!.readFile('/proc/sys/net/ipv4/ip_forward')).toString().trim()).toBe('1');
    expect((await b!.readFile('/proc/sys/net/ipv4/ip_local_port_range')).toString().trim().split(/\s+/)).toEqual(['40000', '40009']);
    // Docker's gateway is off the lab's addresses: the last usable one
    const net = await new Docker().getNetwork(`sl-${topo.id}-zlan`).inspect();
    expect(net.Internal).toBe(true);
    expect(net.IPAM.Config[0]).toMatchObject({ Subnet: '10.0.61.0/24', Gateway: '10.0.61.254' });

    // a long-running process, killed as a group; a timeout kills too
    const p = await a!.spawn(['sh', '-c', 'echo ready; sleep 600']);
    const first = await new Promise<string>((r) => p.stdout.once('data', (d: Buffer) => r(d.toString())));
    expect(first).toBe('ready\n');
    expect(await p.alive()).toBe(true);
    await p.kill('SIGTERM');
    await p.exited;
    expect(await p.alive()).toBe(false);
    const slow = await a!.exec(['sleep', '600'], { timeoutMs: 500 });
    expect(slow).toMatchObject({ code: null, timedOut: true });

    const names = await labelled(lab);
    expect(names).toEqual(expect.arrayContaining([`container /sl-${topo.id}-a`, `container /sl-${topo.id}-b`, `network sl-${topo.id}-zlan`, `network sl-${topo.id}-alan`]));
    const info = await new Docker().getContainer(`sl-${topo.id}-a`).inspect();
    expect(info.HostConfig.Privileged).toBe(false);
    expect(info.HostConfig.NetworkMode).not.toBe('host');
    expect([...(info.HostConfig.CapAdd ?? [])].sort()).toEqual(['NET_ADMIN', 'NET_BIND_SERVICE', 'NET_RAW', 'SYS_PTRACE']);

    await topo.close();
    expect(await labelled(lab)).toEqual([]);
  });
});
