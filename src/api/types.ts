/**
 * The public types of socketlab's library API. Declared here, not re-exported from the servers, so
 * that the published `.d.ts` (and the API report) changes only when this surface does.
 */
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import type { Logger } from 'pino';
import type { EventLog } from './events.js';

export type { Logger };

/** Where a server (or a client's socket) is bound. */
export interface Address {
  host: string;
  port: number;
  family: 'IPv4' | 'IPv6';
}

/** Options every server and client takes. */
export interface CommonOptions {
  /** Closes the server (or stops the client) when aborted. */
  signal?: AbortSignal;
  /** Receives the same records the CLI logs; default: none (silent). */
  log?: Logger;
  /**
   * Keep the network events in `events` (default true). false: records go to `log` as they are
   * and none is kept (`events` stays empty), for a long-running server whose list would only grow.
   */
  keepEvents?: boolean;
}

/** What every start*() resolves with: bound, disposable, and observable. */
export interface Service {
  readonly address: Address;
  /** The network events the CLI would log for this server (`dns.query`, `dhcp.in`, `tcp.accept` ...). */
  readonly events: EventLog;
  /** Awaitable and safe to call twice. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * One network event, exactly as the CLI writes it to its JSON log: `event` names the kind,
 * `from`/`to` are `address:port` in the direction of the message, `pair` is client first.
 */
export interface NetEvent {
  event: string;
  transport?: 'tcp' | 'udp';
  from?: string;
  to?: string;
  pair?: string;
  /** The log line's message, e.g. `DISCOVER received`. */
  msg: string;
  /** pino level number (30 = info, 40 = warn). */
  level: number;
  /** ISO 8601. */
  time: string;
  [field: string]: unknown;
}

/** Matches an event: equal fields (`{ event: 'dhcp.out', type: 'DISCOVER' }`) or a predicate. */
export type EventMatch = Partial<Record<string, unknown>> | ((e: NetEvent) => boolean);

// ---- topologies (socketlab/netns) ----

/** A lab network: hosts (one network namespace each) joined by segments (one bridge each). */
export interface TopologySpec {
  /** Short, [a-z0-9]; default random. Namespaces are named `sl-<id>-<host>`. */
  id?: string;
  hosts: { name: string; forwarding?: boolean; ephemeralRange?: [number, number] }[];
  /** `address` is a CIDR; leave it out for a host that gets its address by DHCP. */
  segments: { name: string; members: { host: string; address?: string }[] }[];
  routes?: { host: string; to: string; via: string }[];
}

export interface TopologyOptions {
  log?: Logger;
  /** Grace before SIGKILL for processes still running at close(); default 1000 ms. */
  killGraceMs?: number;
}

export interface TopologyInterface {
  segment: string;
  /** `eth0`, `eth1` ... in segment order. */
  ifname: string;
  address?: string;
}

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** One host of a topology; servers and clients given `host` run inside its namespace. */
export interface TopologyHost {
  name: string;
  netns: string;
  interfaces: TopologyInterface[];
  exec(cmd: string, args: string[], opts?: { timeoutMs?: number; input?: string }): Promise<ExecResult>;
  spawn(cmd: string, args: string[], opts?: SpawnOptions): ChildProcess;
  /** Runs the socketlab CLI inside the namespace. */
  socketlab(args: string[], opts?: SpawnOptions): ChildProcess;
}

export interface Topology {
  id: string;
  hosts: Record<string, TopologyHost>;
  namespaces: string[];
  /** Kills what runs in the namespaces and deletes them; safe to call twice. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

// ---- echo ----

export interface EchoOptions extends CommonOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: the kernel picks a free port (read it from `address.port`). */
  port?: number;
  /** Default true. */
  tcp?: boolean;
  /** Default true. */
  udp?: boolean;
  idleTimeoutMs?: number;
  maxConnections?: number;
  /** After a client's FIN, wait this long before our own (CLOSE-WAIT here, FIN-WAIT-2 there). Default 0. */
  closeDelayMs?: number;
}

export type EchoServer = Service;

// ---- DNS ----

/** A zone from a master file, or from text (relative names need `origin` or an $ORIGIN line). */
export type ZoneSource = { file: string } | { text: string; origin?: string };

export interface DnsSecondaryOptions {
  /** `host:port` or `{ host, port }` of the primary. */
  primary: string | { host: string; port: number };
  /** The zone to transfer, e.g. `example.com.` */
  zone: string;
  /** Override the SOA refresh interval (seconds). */
  refreshS?: number;
}

export interface DnsServerOptions extends CommonOptions {
  /** Zones to serve as a primary. */
  zones?: ZoneSource[];
  /** Serve as a secondary: transfer the zone from a primary (before start resolves). */
  secondary?: DnsSecondaryOptions;
  host?: string;
  /** Default 0. UDP and TCP share it. */
  port?: number;
  /** Comma-separated CIDRs allowed to AXFR; default loopback. */
  allowTransfer?: string;
  tcpIdleMs?: number;
  maxConnections?: number;
  /** Largest UDP answer, whatever EDNS size a client advertises (larger: TC=1). Default 1232. */
  maxUdpSize?: number;
  /** Default true. */
  cache?: boolean;
  /** Primary: re-read a zone file when it changes (a broken edit is logged, the old zone kept). Default false. */
  watch?: boolean;
  /** Primary: secondaries to NOTIFY (RFC 1996) about every zone at start and each grown serial later. */
  notify?: (string | { host: string; port: number })[];
}

export interface ZoneInfo {
  /** With the trailing dot: `example.com.` */
  origin: string;
  serial: number;
  records: number;
  /** The zone file it was read from, as given in `zones`. */
  file?: string;
}

export interface DnsServer extends Service {
  zones(): ZoneInfo[];
  /** Primary: replace the served zones (the response cache is emptied). */
  setZones(zones: ZoneSource[]): void;
  /**
   * Secondary: ask the primary for its serial now (and transfer when it grew). Primary: re-read
   * the zone files (a broken one keeps its previous version). `reason` goes into the log records.
   */
  refresh(reason?: string): Promise<void>;
  /** Secondary: why the last SOA check or transfer failed (undefined after a success, and on a primary). */
  transferError(): string | undefined;
}

export interface DnsQueryOptions extends CommonOptions {
  /** `host:port` or `{ host, port }`. */
  server: string | { host: string; port: number };
  /** TCP only. */
  tcp?: boolean;
  /** EDNS payload size to advertise; 0 sends no OPT (512-octet UDP limit). Default 1232. */
  edns?: number;
  timeoutMs?: number;
  retries?: number;
}

export interface DnsRecord {
  name: string;
  ttl: number;
  class: string;
  type: string;
  /** Presentation format, as in a zone file: `192.0.2.10`, `10 mail.example.com.` */
  data: string;
}

/** What `socketlab dns query --json` prints, plus the client's events. */
export interface DnsQueryResult {
  transport: 'udp' | 'tcp';
  server: string;
  local: string;
  pair: string;
  retriedOverTcp: boolean;
  /** The UDP answer that came back truncated (TC=1) before the TCP retry; null without one. */
  truncatedUdp: { pair: string; size: number } | null;
  tries: number;
  id: number;
  rcode: string;
  flags: string[];
  size: number;
  question: { name: string; type: string; class: string }[];
  answer: DnsRecord[];
  authority: DnsRecord[];
  additional: DnsRecord[];
  events: EventLog;
}

// ---- connect ----

export interface ConnectOptions extends CommonOptions {
  /** Default 127.0.0.1. */
  host?: string;
  port: number;
  /** Default tcp. */
  transport?: 'tcp' | 'udp';
  /** UDP: connect() each socket to the server first (the kernel then lists it as ESTAB; no packet is sent). */
  connected?: boolean;
  /** Conversations opened at once (each its own socket pair). Default 1. */
  count?: number;
  message?: string;
  sourcePort?: number;
  timeoutMs?: number;
}

export interface Conversation {
  index: number;
  local: string;
  remote: string;
  pair: string;
  sent: number;
  echoed: boolean;
  reply?: string;
  error?: string;
}

/** Open client sockets; `address` is the first conversation's local end. */
export interface Connection extends Service {
  transport: 'tcp' | 'udp';
  conversations: Conversation[];
}

// ---- DHCP ----

/** One scope: `subnet` CIDR, `range` FIRST-LAST inside it, optional default gateway. */
export interface DhcpScope {
  subnet: string;
  range: string;
  router?: string;
}

/** Where a DHCP program runs: a topology host, or (opted in) this process's own namespace. */
export interface DhcpPlacement {
  /** Run inside this topology host's namespace (a `socketlab` child process there). */
  host?: TopologyHost;
  /** Without `host`: refuse the host's own network namespace unless this is true, as the CLI does. */
  allowHostNetwork?: boolean;
  /** How long to wait for a child process to be ready; default 20 s. */
  readyTimeoutMs?: number;
}

export interface DhcpServerOptions extends CommonOptions, DhcpPlacement {
  /** The interface whose subnet direct requests belong to, e.g. `eth0`. */
  interface: string;
  scopes: DhcpScope[];
  dns?: string[];
  domain?: string;
  /** Seconds; default 3600. */
  leaseTime?: number;
  /** MAC -> IP. */
  reservations?: Record<string, string>;
  /** Run the lease clock N times faster (leaseTime / N seconds on the wire: watch T1/T2/expiry). Default 1. */
  timeScale?: number;
  /**
   * Kea memfile CSV: leases survive a restart (each written and fsynced before its ACK). Default:
   * in memory only (in a topology host: a temporary file, removed at close()).
   */
  leaseFile?: string;
  /** Without `host`: the lease clock, ms since the epoch; default Date.now. */
  now?: () => number;
}

export interface DhcpServer extends Service {
  readonly interfaceAddress: string;
  /** Seconds granted on the wire (leaseTime at timeScale). */
  readonly leaseTime: number;
  /** Without `host`: how many leases were read from leaseFile at start. */
  readonly leasesLoaded?: number;
}

export interface DhcpRelayOptions extends CommonOptions, DhcpPlacement {
  /** Client-side interface (giaddr = its address, option 82 circuit id = its name). */
  interface: string;
  /** The DHCP server's address. */
  server: string;
}

export interface DhcpRelay extends Service {
  readonly interfaceAddress: string;
}

export interface DhcpClientOptions extends CommonOptions, DhcpPlacement {
  interface: string;
  /** First retry timeout per message (ms); default 2000. */
  timeoutMs?: number;
}

export interface DhcpLease {
  interface: string;
  address: string;
  prefix: number;
  router?: string;
  dns?: string[];
  domain?: string;
  server: string;
  leaseTime: number;
  t1: number;
  t2: number;
  obtainedAt: number;
}

/** A DHCP client on port 68; the lease is applied to the interface (`ip addr`). */
export interface DhcpClient extends Service {
  /** DISCOVER, OFFER, REQUEST, ACK. */
  obtain(): Promise<DhcpLease>;
  /** Unicast REQUEST to the leasing server. */
  renew(): Promise<DhcpLease>;
  /** RELEASE; the address is removed. */
  release(): Promise<DhcpLease | undefined>;
}

// ---- labs (socketlab/lab) ----

export type LabBackend = 'auto' | 'local' | 'netns';

export interface RunLabOptions {
  /**
   * Where the lab's hosts run: `auto` as the lab file says; `local` or `netns` also assert that the
   * lab's hosts are all of that kind (a clear error otherwise). Default `auto`.
   */
  backend?: LabBackend;
  /** Lab variables, as `--var NAME=VALUE`. */
  vars?: Record<string, string | number>;
  /** The student's variant, as `--seed N`: the lab's `variants:` (ports, subnets, addresses, names, MACs) follow it; recorded in the result. */
  seed?: number;
  /** Tears the lab down and rejects when aborted. */
  signal?: AbortSignal;
  /** Per-service ready timeout; default 20 s. */
  readyTimeoutMs?: number;
}

export interface LabStep {
  name: string;
  host: string;
  command: string;
  show?: string;
  background: boolean;
  code: number | null;
  ok: boolean;
}

export interface LabCheck {
  kind: string;
  name: string;
  passed: boolean;
  detail: string;
  hint: string;
}

/** The result `socketlab lab run --json` prints, plus the services' network events. */
export interface LabResult {
  lab: string;
  title: string;
  topic: string;
  /** 0 all checks pass, 1 a check or step failed, 2 the lab could not run. */
  exitCode: 0 | 1 | 2;
  passed: boolean;
  error?: string;
  steps: LabStep[];
  checks: LabCheck[];
  startedAt: string;
  durationMs: number;
  seed?: number;
  /** Every service's network events, in time order, tagged with service and host. */
  events: (NetEvent & { service: string; host: string })[];
}

export interface LabInfo {
  name: string;
  title: string;
  topic: string;
  needsRoot: boolean;
  file: string;
}
