import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type Docker from 'dockerode';
import { LabError } from '../../errors.js';
import type { BuildOptions, HostBackend, HostTopology, LabHost, LocalNetns, SegmentTap, TopologySpec } from '../backend.js';
import { cleanDocker } from './clean.js';
import { allowBridge, removeUserRules } from './firewall.js';
import { connectEngine, engineError, LAB_LABEL, statusOf } from './engine.js';
import { execInContainer, PID_DIR, startInContainer } from './exec.js';
import { DEFAULT_TAG } from './image.js';
import { socketsViaExec } from '../sockets.js';
import { planDocker, setupScript, type PlannedHost, type PlannedNetwork } from './plan.js';

/**
 * What a lab host may do beyond Docker's defaults: addresses and routes, raw sockets (ping, tcpdump, DHCP),
 * ports below 1024, and SYS_PTRACE so that `ss -p` names a socket's process that dropped to another user
 * (dnsmasq runs as nobody; /proc/PID/fd of another uid needs it, as on the host where root has it).
 */
export const HOST_CAPS = ['NET_ADMIN', 'NET_RAW', 'NET_BIND_SERVICE', 'SYS_PTRACE'];

function ipamConfig(n: PlannedNetwork): Docker.IPAM['Config'] {
  return [n.ipv4, n.ipv6].filter((x) => x !== undefined).map((x) => ({ Subnet: x.subnet, Gateway: x.gateway, ...(x.ipRange && { IPRange: x.ipRange }) }));
}

function endpoint(h: PlannedHost, segment: string): Docker.EndpointSettings {
  const a = h.interfaces.find((i) => i.segment === segment)?.address?.split('/')[0];
  if (!a) return {};
  return { IPAMConfig: a.includes(':') ? { IPv6Address: a } : { IPv4Address: a } };
}

/**
 * The bridge on the Docker host is not a lab host: on an IPv6 segment it must not configure itself
 * from a lab router's RAs; on an IPv4-only one it has no IPv6 at all (Engine 20.10 leaves it on, and
 * its MLD reports would show in the segment's capture as a stranger), as the netns switch has none.
 */
function quietBridge(bridge: string, ipv6: boolean): void {
  const dir = `/proc/sys/net/ipv6/conf/${bridge}`;
  if (!existsSync(dir)) return; // a remote engine or Docker Desktop: its VM, not this machine
  for (const [key, value] of ipv6 ? [['accept_ra', '0'], ['autoconf', '0']] : [['disable_ipv6', '1']]) {
    try {
      writeFileSync(`${dir}/${key}`, value!);
    } catch {
      // not root here: the engine's host keeps its defaults
    }
  }
}

/**
 * Whether the engine runs on this machine and we may look into its networks (root): its lab
 * bridges are then interfaces here, where tcpdump captures a segment as the netns backend's does.
 */
function engineIsHere(bridges: string[]): boolean {
  return process.getuid?.() === 0 && bridges.length > 0 && bridges.every((b) => existsSync(`/sys/class/net/${b}`));
}

/** Whether PID here is the container ID's process (an engine on this machine, and we are root), by its cgroup. */
function isOurContainer(pid: number, id: string): boolean {
  if (process.getuid?.() !== 0 || !(pid > 0)) return false;
  try {
    return readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(id);
  } catch {
    return false;
  }
}

class DockerTopology implements HostTopology {
  readonly backend = 'docker' as const;
  readonly hosts: Record<string, LabHost> = {};
  taps?: Record<string, SegmentTap>;
  private readonly containers: Docker.Container[] = [];
  private readonly networks: Docker.Network[] = [];
  /** the lab networks' bridges: close() removes the DOCKER-USER rules made for them */
  private readonly bridges: string[] = [];
  private closing: Promise<void> | undefined;

  constructor(
    readonly id: string,
    private readonly docker: Docker,
    /** false when attached: the runner that built it removes it */
    private readonly owned = true,
  ) {}

  async addNetwork(n: PlannedNetwork, labels: Record<string, string>): Promise<void> {
    const net = await this.docker.createNetwork({
      Name: n.name,
      Driver: 'bridge',
      CheckDuplicate: true,
      // no route, no NAT: a lab's DHCP server or scan never reaches a real LAN
      Internal: true,
      EnableIPv6: n.ipv6 !== undefined,
      IPAM: { Driver: 'default', Config: ipamConfig(n) },
      Options: { 'com.docker.network.bridge.name': n.bridge },
      Labels: { ...labels, 'socketlab.segment': n.segment },
    });
    this.networks.push(net);
    quietBridge(n.bridge, n.ipv6 !== undefined);
    this.bridges.push(n.bridge);
    await allowBridge(n.bridge, labels[LAB_LABEL]!);
  }

  async addHost(h: PlannedHost, plan: { networks: PlannedNetwork[]; routes: { host: string; to: string; via: string }[] }, opts: BuildOptions, labels: Record<string, string>): Promise<void> {
    const nets = h.interfaces.map((i) => plan.networks.find((n) => n.segment === i.segment)!);
    const [first, ...rest] = nets;
    const c = await this.docker.createContainer({
      name: h.container,
      Hostname: h.name,
      Image: opts.image ?? DEFAULT_TAG,
      Entrypoint: ['sh', '-c', `mkdir -p ${PID_DIR} && exec sleep infinity`],
      Cmd: [],
      Labels: { ...labels, 'socketlab.host': h.name },
      // SOCKETLAB_LAB_HOST: this is a lab host on internal networks (for the DHCP host-network guard)
      Env: ['SOCKETLAB_LOG_SYNC=1', `SOCKETLAB_LAB_HOST=${h.name}`],
      StopTimeout: 1,
      HostConfig: {
        Init: true, // reaps what exec'd processes leave behind
        CapAdd: HOST_CAPS,
        Sysctls: h.sysctls,
        NetworkMode: first ? first.name : 'none',
        Binds: (opts.mounts ?? []).map((m) => `${m}:${m}`),
      },
      ...(first && { NetworkingConfig: { EndpointsConfig: { [first.name]: endpoint(h, first.segment) } } }),
    });
    this.containers.push(c);
    // Engine API 1.41 takes one network at create; the others are connected before start
    for (const n of rest) await this.docker.getNetwork(n.name).connect({ Container: c.id, EndpointConfig: endpoint(h, n.segment) });
    await c.start();
    const info = await c.inspect();
    const ifaces = h.interfaces.map((i) => {
      const net = plan.networks.find((n) => n.segment === i.segment)!;
      const mac = info.NetworkSettings.Networks[net.name]?.MacAddress;
      if (!mac) throw new LabError('LAB_ERR_DOCKER', `container ${h.container} has no interface on network ${net.name}`);
      return { mac, ifname: i.ifname, ...(i.address && { address: i.address }), ...(i.mac && { setMac: i.mac }) };
    });
    const routes = plan.routes.filter((r) => r.host === h.name);
    const r = await execInContainer(this.docker, c, h.name, ['sh', '-c', setupScript(ifaces, routes)], { timeoutMs: 30_000 });
    if (r.code !== 0) throw new LabError('LAB_ERR_DOCKER', `setting up the interfaces of ${h.container} failed: ${(r.stderr || r.stdout).trim()}`);
    // the container's network namespace, entered from this machine (the live view's ip link and ss)
    const pid = info.State.Pid;
    this.hosts[h.name] = this.hostOf(h.name, c, h.interfaces, isOurContainer(pid, info.Id) ? { prefix: ['nsenter', `--net=/proc/${pid}/ns/net`], label: `container ${h.container}` } : undefined);
  }

  /** A lab host over a running container. */
  hostOf(name: string, c: Docker.Container, interfaces: LabHost['interfaces'], localNetns?: LocalNetns): LabHost {
    const host: LabHost = {
      name,
      interfaces,
      ...(localNetns && { localNetns }),
      exec: (argv, o) => execInContainer(this.docker, c, name, argv, o),
      spawn: (argv, o) => {
        if (this.closing) throw new LabError('LAB_ERR_DOCKER', `topology ${this.id} is closed: cannot run ${argv[0]} on ${name}`);
        return startInContainer(this.docker, c, name, argv, o);
      },
      readFile: async (path) => {
        const res = await execInContainer(this.docker, c, name, ['cat', '--', path], { timeoutMs: 10_000 });
        if (res.code !== 0) throw new LabError('LAB_ERR_DOCKER', `${name}: cannot read ${path}: ${res.stderr.trim()}`);
        return res.raw;
      },
      cli: (args) => ['socketlab', ...args],
      sockets: (o) => socketsViaExec(host, o),
    };
    return host;
  }

  close(): Promise<void> {
    return (this.closing ??= (async () => {
      if (!this.owned) return;
      const errors: string[] = [];
      // force: SIGKILL to every process of the container at once, then removal
      await Promise.all(
        this.containers.map((c) =>
          c.remove({ force: true, v: true }).catch((err: unknown) => {
            if (statusOf(err) !== 404) errors.push(String((err as Error).message));
          }),
        ),
      );
      for (const n of this.networks) {
        await n.remove().catch((err: unknown) => {
          if (statusOf(err) !== 404) errors.push(String((err as Error).message));
        });
      }
      if (this.bridges.length > 0) await removeUserRules(undefined, this.bridges).catch((err: unknown) => errors.push(String((err as Error).message)));
      if (errors.length) throw new LabError('LAB_ERR_DOCKER', `topology ${this.id}: could not remove everything (${errors.join('; ')}); run socketlab docker clean`);
    })());
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** The engine, once it answers and has IMAGE; else one line saying what to do (exit 2). */
export async function checkDockerReady(image = DEFAULT_TAG): Promise<Docker> {
  const docker = await connectEngine();
  try {
    await docker.getImage(image).inspect();
  } catch (err) {
    if (statusOf(err) === 404) throw new LabError('LAB_ERR_DOCKER_IMAGE', `image ${image} is not on the Docker engine: run socketlab image build${image === DEFAULT_TAG ? '' : ` --tag ${image}`}`);
    throw engineError(err);
  }
  return docker;
}

/**
 * Builds a lab network in Docker: each segment an `internal` user-defined bridge with the lab's
 * subnet (Docker's gateway on the last free address), each host a container of the socketlab
 * image with only HOST_CAPS added, its interfaces named as the lab
 * says. Everything is labelled `socketlab.lab=<lab>`; on any failure what was made is removed.
 */
export async function createDockerTopology(spec: TopologySpec, opts: BuildOptions): Promise<HostTopology> {
  const plan = planDocker(spec);
  const docker = await checkDockerReady(opts.image);
  const topo = new DockerTopology(plan.id, docker);
  const labels = { [LAB_LABEL]: opts.lab, 'socketlab.topology': plan.id };
  try {
    for (const n of plan.networks) await topo.addNetwork(n, labels);
    await Promise.all(plan.hosts.map((h) => topo.addHost(h, plan, opts, labels)));
    // each segment is a bridge on the engine's machine: tcpdump -i <bridge> there sees all its frames
    if (engineIsHere(plan.networks.map((n) => n.bridge))) {
      topo.taps = Object.fromEntries(plan.networks.map((n): [string, SegmentTap] => [n.segment, { ifname: n.bridge, netns: { prefix: [], label: `network ${n.name}` } }]));
    }
  } catch (err) {
    await topo.close().catch(() => undefined);
    throw err instanceof LabError ? err : engineError(err);
  }
  return topo;
}

/** The containers of a running lab (made by another process): its close() removes nothing, `lab down` does. */
export async function attachDockerTopology(spec: TopologySpec, _opts: BuildOptions): Promise<HostTopology> {
  const plan = planDocker(spec);
  const docker = await connectEngine();
  const topo = new DockerTopology(plan.id, docker, false);
  for (const h of plan.hosts) topo.hosts[h.name] = topo.hostOf(h.name, docker.getContainer(h.container), h.interfaces);
  return topo;
}

export const dockerBackend: HostBackend = {
  name: 'docker',
  build: createDockerTopology,
  attach: attachDockerTopology,
  clean: (lab) => cleanDocker(lab),
};
