import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describeRoot } from '../helpers/root.js';
import { itWithPeers } from '../helpers/peers.js';
import { createTopology, type Topology } from '../../src/netns/index.js';
import { randomId } from '../../src/netns/names.js';
import { deleteNamespaceSync } from '../../src/netns/ip.js';

/** The namespaces and processes of topology `id` still present now. */
function leftovers(id: string): string[] {
  const out = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return out.split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.startsWith(`sl-${id}-`));
}

/** Running (a zombie no one reaps, e.g. orphaned under a container's pid 1, counts as gone). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

const ids: string[] = [];
const newId = (): string => {
  const id = `t${randomId()}`.slice(0, 6);
  ids.push(id);
  return id;
};

/** client -- router -- server on two segments, default routes via the router. */
const routedSpec = (id: string, forwarding: boolean) => ({
  id,
  hosts: [{ name: 'client' }, { name: 'router', forwarding }, { name: 'server' }],
  segments: [
    { name: 'lan1', members: [{ host: 'client', address: '10.77.1.2/24' }, { host: 'router', address: '10.77.1.1/24' }] },
    { name: 'lan2', members: [{ host: 'router', address: '10.77.2.1/24' }, { host: 'server', address: '10.77.2.2/24' }] },
  ],
  routes: [{ host: 'client', to: 'default', via: '10.77.1.1' }, { host: 'server', to: 'default', via: '10.77.2.1' }],
});

describeRoot('netns topologies', () => {
  afterAll(() => {
    // Belt and braces: whatever a failing test left behind.
    // deleteNamespaceSync kills what still runs inside first: `ip netns del` alone leaves it running.
    for (const id of ids) for (const ns of leftovers(id)) deleteNamespaceSync(ns);
  });

  itWithPeers('joins two hosts on one segment: they ping each other, loopback is up, nothing lands in the host namespace', ['ping'], async () => {
    const id = newId();
    const before = execFileSync('ip', ['-br', 'link'], { encoding: 'utf8' });
    await using topo = await createTopology({
      id,
      hosts: [{ name: 'a' }, { name: 'b' }],
      segments: [{ name: 'lan', members: [{ host: 'a', address: '10.77.1.1/24' }, { host: 'b', address: '10.77.1.2/24' }] }],
    });
    expect(topo.id).toBe(id);
    expect(topo.namespaces).toEqual([`sl-${id}-a`, `sl-${id}-b`, `sl-${id}-sw`]);
    expect(leftovers(id).sort()).toEqual([...topo.namespaces].sort());
    expect(topo.hosts.a!.netns).toBe(`sl-${id}-a`);
    expect(topo.hosts.a!.interfaces).toEqual([{ segment: 'lan', ifname: 'eth0', address: '10.77.1.1/24' }]);

    const ab = await topo.hosts.a!.exec('ping', ['-c', '1', '-W', '5', '10.77.1.2']);
    expect(ab.code, ab.stdout + ab.stderr).toBe(0);
    expect(ab.stdout).toMatch(/1 received/);
    const ba = await topo.hosts.b!.exec('ping', ['-c', '1', '-W', '5', '10.77.1.1']);
    expect(ba.code, ba.stdout + ba.stderr).toBe(0);

    const addr = await topo.hosts.b!.exec('ip', ['-br', 'addr', 'show']);
    expect(addr.stdout).toMatch(/^lo\s+UNKNOWN\s+127\.0\.0\.1\/8/m);
    expect(addr.stdout).toMatch(/^eth0@\S+\s+UP\s+10\.77\.1\.2\/24/m);
    const lo = await topo.hosts.a!.exec('ping', ['-c', '1', '-W', '5', '127.0.0.1']);
    expect(lo.code).toBe(0);

    const br = execFileSync('ip', ['-n', `sl-${id}-sw`, '-br', 'link'], { encoding: 'utf8' });
    expect(br).toMatch(/^br-lan\s+UP/m);
    expect(br).toMatch(/^a-eth0@/m);
    // a hub for multicast: IPv6 neighbour discovery and RAs reach every host
    expect(execFileSync('ip', ['-n', `sl-${id}-sw`, '-d', 'link', 'show', 'br-lan'], { encoding: 'utf8' })).toMatch(/mcast_snooping 0/);
    expect(execFileSync('ip', ['-br', 'link'], { encoding: 'utf8' })).toBe(before);
  });

  itWithPeers('a forwarding router host between two segments routes between them', ['ping'], async () => {
    const id = newId();
    await using topo = await createTopology({
      id,
      hosts: [{ name: 'client' }, { name: 'router', forwarding: true }, { name: 'server' }],
      segments: [
        { name: 'lan1', members: [{ host: 'client', address: '10.77.1.2/24' }, { host: 'router', address: '10.77.1.1/24' }] },
        { name: 'lan2', members: [{ host: 'router', address: '10.77.2.1/24' }, { host: 'server', address: '10.77.2.2/24' }] },
      ],
      routes: [
        { host: 'client', to: 'default', via: '10.77.1.1' },
        { host: 'server', to: '10.77.1.0/24', via: '10.77.2.1' },
      ],
    });
    expect(topo.hosts.router!.interfaces.map((i) => `${i.ifname}:${i.segment}`)).toEqual(['eth0:lan1', 'eth1:lan2']);
    const fwd = await topo.hosts.router!.exec('cat', ['/proc/sys/net/ipv4/ip_forward']);
    expect(fwd.stdout.trim()).toBe('1');
    const ping = await topo.hosts.client!.exec('ping', ['-c', '1', '-W', '5', '10.77.2.2']);
    expect(ping.code, ping.stdout + ping.stderr).toBe(0);
    // One hop through the router: TTL 64 arrives as 63.
    expect(ping.stdout).toMatch(/ttl=63/);
    const route = await topo.hosts.client!.exec('ip', ['route', 'show', 'default']);
    expect(route.stdout).toMatch(/default via 10\.77\.1\.1 dev eth0/);
  });

  itWithPeers('without forwarding the same router drops the traffic', ['ping'], async () => {
    const id = newId();
    await using topo = await createTopology(routedSpec(id, false));
    const ping = await topo.hosts.client!.exec('ping', ['-c', '1', '-W', '1', '10.77.2.2']);
    expect(ping.code).not.toBe(0);
  });

  itWithPeers('a host without forwarding does not route even when the machine itself forwards (as dockerd sets it)', ['ping'], async () => {
    const id = newId();
    const before = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
    // New namespaces copy the machine's IPv4 settings: turn the machine's forwarding on for the
    // creation only (dockerd does this on every machine it runs on), and restore it at once.
    execFileSync('sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
    let topo: Topology;
    try {
      topo = await createTopology(routedSpec(id, false));
    } finally {
      execFileSync('sysctl', ['-q', '-w', `net.ipv4.ip_forward=${before}`]);
    }
    await using _t = topo;
    const fwd = await topo.hosts.router!.exec('cat', ['/proc/sys/net/ipv4/ip_forward']);
    expect(fwd.stdout.trim()).toBe('0');
    const ping = await topo.hosts.client!.exec('ping', ['-c', '1', '-W', '1', '10.77.2.2']);
    expect(ping.code).not.toBe(0);
  });

  it('applies a per-host ephemeral port range inside that namespace only', async () => {
    const id = newId();
    const hostRange = execFileSync('cat', ['/proc/sys/net/ipv4/ip_local_port_range'], { encoding: 'utf8' });
    await using topo = await createTopology({
      id,
      hosts: [{ name: 'tiny', ephemeralRange: [40000, 40003] }, { name: 'plain' }],
      segments: [{ name: 'lan', members: [{ host: 'tiny', address: '10.77.3.1/24' }, { host: 'plain', address: '10.77.3.2/24' }] }],
    });
    const tiny = await topo.hosts.tiny!.exec('cat', ['/proc/sys/net/ipv4/ip_local_port_range']);
    expect(tiny.stdout.trim().split(/\s+/)).toEqual(['40000', '40003']);
    const plain = await topo.hosts.plain!.exec('cat', ['/proc/sys/net/ipv4/ip_local_port_range']);
    expect(plain.stdout.trim().split(/\s+/)).not.toEqual(['40000', '40003']);
    expect(execFileSync('cat', ['/proc/sys/net/ipv4/ip_local_port_range'], { encoding: 'utf8' })).toBe(hostRange);
  });

  it("a DHCP client's script in a lab host writes the host's own resolv.conf, never the machine's", async () => {
    const id = newId();
    const before = readFileSync('/etc/resolv.conf', 'utf8');
    let etcDir = '';
    {
      await using topo = await createTopology({ id, hosts: [{ name: 'pc' }], segments: [] });
      etcDir = `/etc/netns/sl-${id}-pc`;
      // what udhcpc's default.script does on a lease without DNS servers
      const w = await topo.hosts.pc!.exec('sh', ['-c', 'echo "nameserver 192.0.2.53" > /etc/resolv.conf && cat /etc/resolv.conf']);
      expect(w.code, w.stderr).toBe(0);
      expect(w.stdout).toBe('nameserver 192.0.2.53\n');
      expect(readFileSync('/etc/resolv.conf', 'utf8')).toBe(before);
    }
    expect(readFileSync('/etc/resolv.conf', 'utf8')).toBe(before);
    expect(existsSync(etcDir)).toBe(false);
  });

  itWithPeers('supports IPv6 addresses and runs socketlab itself inside a host', ['ping'], async () => {
    const id = newId();
    await using topo = await createTopology({
      id,
      hosts: [{ name: 'a' }, { name: 'b' }],
      segments: [{ name: 'lan', members: [{ host: 'a', address: 'fd77:1::1/64' }, { host: 'b', address: 'fd77:1::2/64' }] }],
    });
    const ping = await topo.hosts.a!.exec('ping', ['-6', '-c', '1', '-W', '5', 'fd77:1::2']);
    expect(ping.code, ping.stdout + ping.stderr).toBe(0);
    const child = topo.hosts.b!.socketlab(['--version']);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const [code] = (await once(child, 'close')) as [number];
    expect(code).toBe(0);
    expect(out.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('exec reports the exit code and a timeout as code null', async () => {
    const id = newId();
    await using topo = await createTopology({ id, hosts: [{ name: 'a' }], segments: [] });
    expect(await topo.hosts.a!.exec('sh', ['-c', 'echo out; echo err >&2; exit 3'])).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' });
    expect((await topo.hosts.a!.exec('sleep', ['30'], { timeoutMs: 200 })).code).toBeNull();
  });

  it('close() removes every namespace and kills their processes, also when the test body throws', async () => {
    const id = newId();
    let pid = 0;
    let topoRef: Topology | undefined;
    await expect(
      (async () => {
        await using topo = await createTopology({
          id,
          hosts: [{ name: 'a' }, { name: 'b' }],
          segments: [{ name: 'lan', members: [{ host: 'a', address: '10.77.4.1/24' }, { host: 'b', address: '10.77.4.2/24' }] }],
        });
        topoRef = topo;
        // A process that ignores SIGTERM: close() must still get rid of it.
        const child = topo.hosts.a!.spawn('sh', ['-c', "trap '' TERM; echo up; while :; do sleep 1; done"]);
        await once(child.stdout!, 'data');
        pid = child.pid!;
        expect(alive(pid)).toBe(true);
        throw new Error('deliberate failure inside the test');
      })(),
    ).rejects.toThrow('deliberate failure');
    expect(leftovers(id)).toEqual([]);
    expect(alive(pid)).toBe(false);
    await topoRef!.close(); // a second close is harmless
    expect(() => topoRef!.hosts.a!.spawn('true', [])).toThrow(/closed/);
  });

  it('a failed build removes what it had created', async () => {
    const id = newId();
    await expect(
      createTopology({
        id,
        hosts: [{ name: 'a' }, { name: 'b' }],
        // The spec is valid, but the kernel refuses a gateway that is on no attached subnet.
        segments: [{ name: 'lan', members: [{ host: 'a', address: '10.77.5.1/24' }, { host: 'b', address: '10.77.5.2/24' }] }],
        routes: [{ host: 'a', to: 'default', via: '10.99.9.9' }],
      }),
    ).rejects.toThrow(/ip -n sl-\w+-a -4 route add default via 10\.99\.9\.9 failed/);
    expect(leftovers(id)).toEqual([]);
  });

  it('refuses an id whose namespaces already exist', async () => {
    const id = newId();
    await using topo = await createTopology({ id, hosts: [{ name: 'a' }], segments: [] });
    await expect(createTopology({ id, hosts: [{ name: 'a' }], segments: [] })).rejects.toThrow(/already exists/);
    expect(leftovers(id).sort()).toEqual([...topo.namespaces].sort());
  });

  it('a process that exits without close() still removes its topology', async () => {
    const id = newId();
    const modUrl = new URL('../../dist/netns/index.js', import.meta.url).href;
    const script = `
      const { createTopology } = await import(${JSON.stringify(modUrl)});
      await createTopology({ id: ${JSON.stringify(id)}, hosts: [{ name: 'a' }], segments: [] });
      console.log(require('node:child_process').execFileSync('ip', ['netns', 'list']).toString().includes('sl-${id}-a') ? 'built' : 'missing');
      process.exit(0);
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script.replace("require('node:child_process')", "(await import('node:child_process'))")], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(out.trim()).toBe('built');
    expect(leftovers(id)).toEqual([]);
  });

  it('SIGTERM to a process holding a topology removes it', async () => {
    const id = newId();
    const modUrl = new URL('../../dist/netns/index.js', import.meta.url).href;
    const script = `
      const { createTopology } = await import(${JSON.stringify(modUrl)});
      const topo = await createTopology({ id: ${JSON.stringify(id)}, hosts: [{ name: 'a' }], segments: [] });
      topo.hosts.a.spawn('sleep', ['600']);
      console.log('ready');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await once(child.stdout, 'data');
      expect(leftovers(id)).toHaveLength(2);
      child.kill('SIGTERM');
      const [code, sig] = (await once(child, 'close')) as [number | null, string | null];
      expect(code ?? sig).toBe(128 + 15);
      expect(leftovers(id)).toEqual([]);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('netns module path', () => {
  it('points socketlab() at the built CLI', async () => {
    const { CLI_PATH } = await import('../../src/netns/topology.js');
    expect(CLI_PATH).toBe(fileURLToPath(new URL('../../dist/cli.js', import.meta.url)));
  });
});
