import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { CLI_PATH, run } from '../core/process.js';
import type { ExecResult, Topology, TopologyHost as NetnsHost, TopologyInterface as NetnsInterface, TopologyOptions, TopologySpec } from '../api/types.js';
import { onShutdown } from '../core/shutdown.js';
import { isIP } from 'node:net';
import { LabError, invalidArgument } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { ip, listNamespaces, deleteNamespace, deleteNamespaceSync, isolateNamespaceEtc } from './ip.js';
import { requireNetnsPrivileges } from './privileges.js';
import {
  MAX_INTERFACES_PER_HOST,
  bridgeName,
  hostIfname,
  namespaceName,
  parseCidr,
  randomId,
  switchNamespace,
  switchPortName,
  validateHostName,
  validateId,
  validateMac,
  validateSegmentName,
} from './names.js';

// The shapes are the public API's (api/types.ts, the published contract); this module implements them.
export type { ExecResult, Topology, NetnsHost, NetnsInterface, TopologyOptions, TopologySpec };

export { CLI_PATH };

/**
 * The public TopologySpec, plus a fixed MAC per member (lab files' `mac:`), so captures and the
 * questions about them have stable answers. Internal for now: the public shape stays as published.
 */
export type NetnsTopologySpec = Omit<TopologySpec, 'segments'> & {
  segments: { name: string; members: { host: string; address?: string; mac?: string }[] }[];
};

interface PlannedInterface extends NetnsInterface {
  host: string;
  mac?: string;
  switchPort: string;
  bridge: string;
  cidr?: { address: string; prefix: number; family: 4 | 6 };
}

/** Checks a spec and computes every name, before anything is created. Pure. */
export function planTopology(spec: NetnsTopologySpec): { id: string; interfaces: PlannedInterface[] } {
  const id = validateId(spec.id ?? randomId());
  if (!Array.isArray(spec.hosts) || spec.hosts.length === 0) throw invalidArgument('topology: at least one host is needed');
  const hosts = new Set<string>();
  for (const h of spec.hosts) {
    validateHostName(h.name);
    if (hosts.has(h.name)) throw invalidArgument(`topology: host "${h.name}" is listed twice`);
    hosts.add(h.name);
    if (h.ephemeralRange) {
      const [lo, hi] = h.ephemeralRange;
      if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 1 || hi > 65535 || lo > hi) {
        throw invalidArgument(`topology: host "${h.name}" ephemeralRange [${lo}, ${hi}] is invalid: need 1 <= first <= last <= 65535`);
      }
    }
  }
  const segments = new Set<string>();
  const perHost = new Map<string, number>();
  const interfaces: PlannedInterface[] = [];
  const macs = new Map<string, string>();
  for (const seg of spec.segments ?? []) {
    validateSegmentName(seg.name);
    if (segments.has(seg.name)) throw invalidArgument(`topology: segment "${seg.name}" is listed twice`);
    segments.add(seg.name);
    const seen = new Set<string>();
    for (const m of seg.members) {
      if (!hosts.has(m.host)) throw invalidArgument(`topology: segment "${seg.name}" names host "${m.host}", which is not in hosts`);
      if (seen.has(m.host)) throw invalidArgument(`topology: host "${m.host}" is on segment "${seg.name}" twice`);
      seen.add(m.host);
      const index = perHost.get(m.host) ?? 0;
      if (index >= MAX_INTERFACES_PER_HOST) throw invalidArgument(`topology: host "${m.host}" has more than ${MAX_INTERFACES_PER_HOST} segments`);
      perHost.set(m.host, index + 1);
      const mac = m.mac === undefined ? undefined : validateMac(m.mac, `topology: segment "${seg.name}", host "${m.host}"`);
      if (mac !== undefined) {
        const other = macs.get(mac);
        if (other) throw invalidArgument(`topology: segment "${seg.name}", host "${m.host}": MAC ${mac} is already ${other}'s`);
        macs.set(mac, `${m.host} on ${seg.name}`);
      }
      interfaces.push({
        host: m.host,
        segment: seg.name,
        ifname: hostIfname(index),
        switchPort: switchPortName(m.host, index),
        bridge: bridgeName(seg.name),
        address: m.address,
        ...(mac !== undefined && { mac }),
        cidr: m.address === undefined ? undefined : parseCidr(m.address, `topology: segment "${seg.name}", host "${m.host}"`),
      });
    }
  }
  for (const r of spec.routes ?? []) {
    if (!hosts.has(r.host)) throw invalidArgument(`topology: a route names host "${r.host}", which is not in hosts`);
    if (r.to !== 'default') parseCidr(r.to, `topology: route on "${r.host}"`);
    if (isIP(r.via) === 0) throw invalidArgument(`topology: route on "${r.host}" via "${r.via}" is not an IP address`);
  }
  return { id, interfaces };
}

// Open topologies, torn down on SIGINT/SIGTERM (the shutdown coordinator) and on process exit.
const open = new Set<TopologyImpl>();
let offShutdown: (() => void) | undefined;

function onExit(): void {
  for (const t of open) t.closeSync();
}

function track(t: TopologyImpl): void {
  if (open.size === 0) {
    offShutdown = onShutdown(() => Promise.allSettled([...open].map((o) => o.close())));
    process.on('exit', onExit);
  }
  open.add(t);
}

function untrack(t: TopologyImpl): void {
  if (!open.delete(t) || open.size > 0) return;
  offShutdown?.();
  process.off('exit', onExit);
}

class TopologyImpl implements Topology {
  readonly hosts: Record<string, NetnsHost> = {};
  readonly namespaces: string[];
  private readonly children = new Set<ChildProcess>();
  /** Only what this object created is removed: a clash with another process's id must not delete its namespaces. */
  private readonly created = new Set<string>();
  private closing: Promise<void> | undefined;

  constructor(
    readonly id: string,
    hostNames: string[],
    private readonly log: Logger,
    private readonly killGraceMs: number,
  ) {
    this.namespaces = [...hostNames.map((h) => namespaceName(id, h)), switchNamespace(id)];
  }

  /** `ip netns add NS`, remembered for close(). */
  async addNamespace(ns: string): Promise<void> {
    await ip(['netns', 'add', ns]);
    this.created.add(ns);
    isolateNamespaceEtc(ns);
  }

  addHost(name: string, interfaces: NetnsInterface[]): void {
    const netns = namespaceName(this.id, name);
    const spawnIn = (cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess => {
      if (this.closing) throw new LabError('LAB_ERR_NETNS', `topology ${this.id} is closed: cannot run ${cmd} on ${name}`);
      const child = spawn('ip', ['netns', 'exec', netns, cmd, ...args], { stdio: 'pipe', ...opts });
      this.track(child);
      return child;
    };
    this.hosts[name] = {
      name,
      netns,
      interfaces,
      spawn: spawnIn,
      socketlab: (args, opts) => spawnIn(process.execPath, [CLI_PATH, ...args], opts),
      exec: async (cmd, args, opts = {}) => {
        if (this.closing) throw new LabError('LAB_ERR_NETNS', `topology ${this.id} is closed: cannot run ${cmd} on ${name}`);
        const r = await run(['ip', 'netns', 'exec', netns, cmd, ...args], {
          timeoutMs: opts.timeoutMs ?? 30_000,
          group: false,
          ...(opts.input !== undefined && { input: opts.input }),
          onSpawn: (child) => this.track(child),
        });
        if (r.error) throw r.error;
        return { code: r.code, stdout: r.stdout, stderr: r.stderr };
      },
    };
  }

  private track(child: ChildProcess): void {
    this.children.add(child);
    child.on('close', () => this.children.delete(child));
    child.on('error', () => this.children.delete(child));
  }

  close(): Promise<void> {
    return (this.closing ??= (async () => {
      try {
        for (const child of this.children) child.kill('SIGTERM');
        // Each namespace: its processes are stopped before it is deleted (all namespaces at once).
        const results = await Promise.allSettled([...this.created].map((ns) => deleteNamespace(ns, this.killGraceMs)));
        const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        for (const child of this.children) child.kill('SIGKILL');
        this.log.debug({ id: this.id, namespaces: this.namespaces }, 'topology removed');
        if (failed.length > 0) {
          throw new LabError('LAB_ERR_NETNS', `topology ${this.id}: could not remove every namespace (${failed.map((f) => String(f.reason)).join('; ')}); run socketlab netns clean`);
        }
      } finally {
        untrack(this);
      }
    })());
  }

  /** For process 'exit', where nothing asynchronous runs any more. */
  closeSync(): void {
    for (const child of this.children) child.kill('SIGKILL');
    for (const ns of this.created) deleteNamespaceSync(ns);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Builds a lab network out of network namespaces: one per host (`sl-<id>-<host>`), and one
 * (`sl-<id>-sw`) holding a bridge per segment, each host joined to it by a veth pair whose host end
 * is eth0, eth1, ... in segment order. Nothing is created in the host's own network namespace. If
 * any step fails, whatever was created is removed again before the error is thrown.
 */
export async function createTopology(spec: NetnsTopologySpec, opts: TopologyOptions = {}): Promise<Topology> {
  const { id, interfaces } = planTopology(spec);
  requireNetnsPrivileges('building a lab topology (network namespaces)');
  const log = opts.log ?? silentLogger();
  const topo = new TopologyImpl(id, spec.hosts.map((h) => h.name), log, opts.killGraceMs ?? 1_000);
  const existing = (await listNamespaces()).filter((n) => topo.namespaces.includes(n));
  if (existing.length > 0) {
    throw new LabError('LAB_ERR_NETNS', `topology id "${id}" is in use: namespace ${existing.join(', ')} already exists (pick another id, or run socketlab netns clean)`);
  }
  track(topo);
  const sw = switchNamespace(id);
  const inNs = (ns: string, args: string[]): Promise<string> => ip(['-n', ns, ...args]);
  const sysctl = (ns: string, key: string, value: string): Promise<string> =>
    ip(['netns', 'exec', ns, 'sysctl', '-q', '-w', `${key}=${value}`]);
  try {
    await topo.addNamespace(sw);
    // The switch is a pure layer-2 box: no IPv6 link-local chatter from its ports in captures, and
    // (mcast_snooping 0 below) multicast such as IPv6 neighbour discovery reaches every port, like a hub.
    await sysctl(sw, 'net.ipv6.conf.default.disable_ipv6', '1');
    await sysctl(sw, 'net.ipv6.conf.all.disable_ipv6', '1');
    for (const seg of spec.segments ?? []) {
      const br = bridgeName(seg.name);
      await inNs(sw, ['link', 'add', br, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0', 'mcast_snooping', '0']);
      await inNs(sw, ['link', 'set', br, 'up']);
    }
    for (const h of spec.hosts) {
      const ns = namespaceName(id, h.name);
      await topo.addNamespace(ns);
      await inNs(ns, ['link', 'set', 'lo', 'up']);
      // Set either way: a new namespace copies the machine's IPv4 settings
      // (net.core.devconf_inherit_init_net=0), and dockerd turns the machine's ip_forward on, so a
      // host meant as a plain end system would otherwise route on a laptop with Docker installed.
      const fwd = h.forwarding ? '1' : '0';
      await sysctl(ns, 'net.ipv4.ip_forward', fwd);
      await sysctl(ns, 'net.ipv6.conf.all.forwarding', fwd);
      if (h.ephemeralRange) await sysctl(ns, 'net.ipv4.ip_local_port_range', `${h.ephemeralRange[0]} ${h.ephemeralRange[1]}`);
      topo.addHost(
        h.name,
        interfaces.filter((i) => i.host === h.name).map(({ segment, ifname, address }) => ({ segment, ifname, ...(address ? { address } : {}) })),
      );
    }
    for (const i of interfaces) {
      const ns = namespaceName(id, i.host);
      // Created inside the switch namespace, peer moved straight into the host's namespace.
      await inNs(sw, ['link', 'add', i.switchPort, 'type', 'veth', 'peer', 'name', i.ifname, 'netns', ns]);
      await inNs(sw, ['link', 'set', i.switchPort, 'master', i.bridge, 'up']);
      // before the link is up, so its IPv6 link-local address and first frames already carry it
      if (i.mac) await inNs(ns, ['link', 'set', i.ifname, 'address', i.mac]);
      if (i.cidr) {
        // nodad: an IPv6 address is usable at once instead of "tentative" for a second or two.
        await inNs(ns, ['addr', 'add', `${i.cidr.address}/${i.cidr.prefix}`, 'dev', i.ifname, ...(i.cidr.family === 6 ? ['nodad'] : [])]);
      }
      await inNs(ns, ['link', 'set', i.ifname, 'up']);
    }
    for (const r of spec.routes ?? []) {
      const family = isIP(r.via) === 6 ? '-6' : '-4';
      await ip(['-n', namespaceName(id, r.host), family, 'route', 'add', r.to, 'via', r.via]);
    }
  } catch (err) {
    await topo.close().catch(() => undefined);
    throw err;
  }
  log.debug({ id, namespaces: topo.namespaces }, 'topology created');
  return topo;
}
