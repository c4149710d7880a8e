import type { Readable } from 'node:stream';
import type { ExecResult } from '../core/process.js';
import type { ListSocketsOptions, SocketRecord } from '../netstat/types.js';

/**
 * The one interface the lab runner, the checks, step mode and reports use to reach a lab's hosts,
 * whatever they are: this process's own machine (`local`), network namespaces (`netns`) or
 * containers (`docker`). A backend builds the topology; everything after that goes through the
 * hosts' exec / spawn / readFile, so no `if docker` spreads through the lab code.
 *
 * Wiring (for the runner): `const topo = await backend.build(spec, { lab, mounts: [runDir] })`;
 * services and background steps: `host.spawn(host.cli([...]), { stdoutFile, stderrFile })`
 * (files in the run dir, which every backend makes visible at the same path, so `lab check` in
 * another process reads them as today); steps and command checks: `host.exec(argv)`; the socket
 * table: `host.exec(['ss', ...])`; ephemeral range: `host.readFile('/proc/sys/net/ipv4/ip_local_port_range')`;
 * `lab down` after a crash: `backend.clean(lab)`.
 */
export type BackendName = 'local' | 'netns' | 'docker';

/** The same description every backend takes (the netns TopologySpec, plus per-host IPv6 RA). */
export interface TopologySpec {
  /** Short, [a-z0-9]; default random. Names namespaces, containers and networks. */
  id?: string;
  hosts: { name: string; forwarding?: boolean; ephemeralRange?: [number, number] }[];
  /**
   * One broadcast domain each; a member without `address` (CIDR) is a DHCP or SLAAC client and starts with none.
   * `mac`: a fixed unicast MAC for that interface (else the kernel's or the engine's random one).
   */
  segments: { name: string; members: { host: string; address?: string; mac?: string }[] }[];
  routes?: { host: string; to: string /* 'default' or CIDR */; via: string }[];
}

export interface BuildOptions {
  /** The lab's name: every container and network is labelled `socketlab.lab=<lab>`. */
  lab: string;
  /** Host directories made visible inside every host at the same path (the run dir). */
  mounts?: string[];
  /** Docker: the image (default socketlab:lab). */
  image?: string;
}

export interface HostInterface {
  segment: string;
  /** eth0, eth1 ... in the order of the host's segments in the lab file. */
  ifname: string;
  /** CIDR, absent for DHCP / SLAAC clients. */
  address?: string;
}

/** A network namespace of a lab, as reached from this machine (the live view's captures, `ip link` and `ss`). */
export interface LocalNetns {
  /** The argv prefix that runs a program of this machine in it: `ip netns exec NS`, `nsenter --net=/proc/PID/ns/net`; [] for this machine's own. */
  prefix: string[];
  /** What to call it: the namespace, the container. */
  label: string;
}

/** Where one segment's frames can be captured on this machine: `tcpdump -i ifname`, run behind netns.prefix. */
export interface SegmentTap {
  ifname: string;
  netns: LocalNetns;
}

/** What a command run on a host left (any backend): the core runner's result, less what only a local process has. */
export type HostExecResult = Pick<ExecResult, 'code' | 'stdout' | 'stderr' | 'timedOut'>;

export interface HostSpawnOptions {
  /** Append the process's output to these files (paths inside a mount): it outlives this process's pipes. */
  stdoutFile?: string;
  stderrFile?: string;
  env?: Record<string, string>;
}

/** A long-running process on a lab host. */
export interface HostProcess {
  readonly host: string;
  /** Its output when no stdoutFile/stderrFile was given (else already-ended streams). */
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Resolves with the exit code (null: killed by a signal or its host went away). */
  readonly exited: Promise<number | null>;
  /** Signals its process group (default SIGTERM). */
  kill(signal?: NodeJS.Signals): Promise<void>;
  alive(): Promise<boolean>;
}

export interface LabHost {
  readonly name: string;
  readonly interfaces: readonly HostInterface[];
  /** Runs ARGV on the host to completion (SIGKILL after timeoutMs, default 30 s). */
  exec(argv: string[], opts?: { timeoutMs?: number; input?: string; env?: Record<string, string> }): Promise<HostExecResult>;
  spawn(argv: string[], opts?: HostSpawnOptions): Promise<HostProcess>;
  /** A file of the host's own filesystem (/proc/sys/..., a lease file). */
  readFile(path: string): Promise<Buffer>;
  /** The argv that runs `socketlab ARGS` on this host (this build locally, the image's in Docker). */
  cli(args: string[]): string[];
  /** The host's socket table, when the backend reads it its own way (else the runner runs ss through exec). */
  sockets?(opts: ListSocketsOptions): Promise<SocketRecord[]>;
  /** Its network namespace, when that is on this machine and reachable (root): not for localhost hosts or a remote engine. */
  readonly localNetns?: LocalNetns;
}

export interface HostTopology {
  readonly backend: BackendName;
  readonly id: string;
  readonly hosts: Readonly<Record<string, LabHost>>;
  /** Per segment, where its frames pass on this machine (netns: the switch namespace's bridge; Docker: the network's bridge); absent when they do not. */
  readonly taps?: Readonly<Record<string, SegmentTap>>;
  /** Stops every process and removes every host and segment. Safe to call twice. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface HostBackend {
  readonly name: BackendName;
  build(spec: TopologySpec, opts: BuildOptions): Promise<HostTopology>;
  /** The hosts of a topology another process built (`lab check` after `lab up`); its close() removes nothing. spec.id is required. */
  attach(spec: TopologySpec, opts: BuildOptions): Promise<HostTopology>;
  /** Removes what runs of LAB (all labs when omitted) or topology ID left behind, also after kill -9; returns what it removed. */
  clean(lab?: string, id?: string): Promise<string[]>;
}
