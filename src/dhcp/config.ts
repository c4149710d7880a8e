import fs from 'node:fs';
import { LabError, invalidArgument } from '../errors.js';
import { inCidr, intToIp, ipToInt, parseCidr } from './ip.js';
import { MessageType, Opt, encode, parseMac, replyTo, type DhcpMessage } from './codec.js';
import type { Scope } from './policy.js';
import { MAX_TIMEOUT_MS } from '../core/timers.js';

// Turns `dhcp serve` flags into scopes and reservations, with errors that name the flag.

export interface ServeFlags {
  subnet: string[];
  range: string[];
  router?: string[];
  reserve?: string[];
}

/** `--subnet`/`--range`/`--router` (each repeatable): every range and router belongs to the subnet containing it. */
export function buildScopes(f: ServeFlags): Scope[] {
  if (f.subnet.length === 0) throw invalidArgument('--subnet is required (e.g. --subnet 10.0.1.0/24)');
  const scopes: Scope[] = f.subnet.map((s, i) => {
    const subnet = parseCidr(s);
    return { id: i + 1, subnet, first: 0, last: -1 };
  });
  for (const r of f.range) {
    const m = /^\s*([\d.]+)\s*-\s*([\d.]+)\s*$/.exec(r);
    if (!m) throw invalidArgument(`--range "${r}" must be FIRST-LAST, e.g. 10.0.1.100-10.0.1.199`);
    const first = ipToInt(m[1]!);
    const last = ipToInt(m[2]!);
    if (first > last) throw invalidArgument(`--range "${r}": the first address is above the last`);
    const scope = scopes.find((s) => inCidr(first, s.subnet) && inCidr(last, s.subnet));
    if (!scope) throw invalidArgument(`--range "${r}" is not inside any --subnet (${f.subnet.join(', ')})`);
    if (scope.last >= scope.first) throw invalidArgument(`--range "${r}": subnet ${scope.subnet.text} already has a range`);
    if (first === scope.subnet.network || last === scope.subnet.broadcast)
      throw invalidArgument(`--range "${r}" includes the network or broadcast address of ${scope.subnet.text}`);
    scope.first = first;
    scope.last = last;
  }
  for (const r of f.router ?? []) {
    const a = ipToInt(r);
    const scope = scopes.find((s) => inCidr(a, s.subnet));
    if (!scope) throw invalidArgument(`--router ${r} is not inside any --subnet (${f.subnet.join(', ')})`);
    scope.router = intToIp(a);
  }
  for (const s of scopes) if (s.last < s.first) throw invalidArgument(`--subnet ${s.subnet.text} has no --range inside it`);
  return scopes;
}

/** `--reserve MAC=IP` -> map of normalised MAC to address; the address must be in a subnet. */
export function buildReservations(list: string[], scopes: Scope[]): Map<string, string> {
  const out = new Map<string, string>();
  const taken = new Map<string, string>();
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq < 0) throw invalidArgument(`--reserve "${item}" must be MAC=IP, e.g. aa:bb:cc:dd:ee:ff=10.0.1.50`);
    const mac = parseMac(item.slice(0, eq));
    const ip = intToIp(ipToInt(item.slice(eq + 1)));
    if (!scopes.some((s) => inCidr(ipToInt(ip), s.subnet))) throw invalidArgument(`--reserve ${item}: ${ip} is not inside any --subnet`);
    if (taken.has(ip) && taken.get(ip) !== mac) throw invalidArgument(`--reserve ${item}: ${ip} is already reserved for ${taken.get(ip)}`);
    out.set(mac, ip);
    taken.set(ip, mac);
  }
  return out;
}

/**
 * True when this process runs in the host's own network namespace: its /proc/self/ns/net inode equals
 * PID 1's. Where PID 1 cannot be inspected (containers), a namespace created with `ip netns add`
 * (a file under /run/netns with the same inode) counts as a lab namespace; anything else as the host.
 * A container started by socketlab's docker backend (SOCKETLAB_LAB_HOST=<host>) is a lab host.
 */
export function inHostNetns(): boolean {
  // a socketlab Docker lab host (set by the docker backend): a container on internal bridges only
  if (process.env.SOCKETLAB_LAB_HOST) return false;
  let self: number;
  try {
    self = fs.statSync('/proc/self/ns/net').ino;
  } catch {
    return true;
  }
  try {
    return self === fs.statSync('/proc/1/ns/net').ino;
  } catch {
    // PID 1 hidden from us: fall back to the named namespaces
  }
  try {
    for (const name of fs.readdirSync('/run/netns')) {
      try {
        if (fs.statSync(`/run/netns/${name}`).ino === self) return false;
      } catch {
        // a stale mount point; skip it
      }
    }
  } catch {
    // no named namespaces at all
  }
  return true;
}

/** Refuses to run a DHCP server/relay/client on the host's own network unless allowed. */
export function guardHostNetwork(what: string, allow: boolean | undefined): void {
  if (allow || !inHostNetns()) return;
  throw new LabError(
    'LAB_ERR_HOST_NETWORK',
    `refusing to run ${what} in the host's own network namespace: on a real LAN it would hand out or take addresses for other people's machines. ` +
      `Run it inside a lab host (socketlab netns exec HOST -- socketlab dhcp ..., or ip netns exec NS ...), or add --allow-host-network if you are sure.`,
  );
}

/** The namespace's identity (inode of /proc/self/ns/net), used for per-namespace default paths. */
export function netnsId(): string {
  try {
    return String(fs.statSync('/proc/self/ns/net').ino);
  } catch {
    return 'host';
  }
}

/**
 * Default lease file: one per network namespace, so lab hosts never share one; on disk under
 * /var/lib (not the tmpfs /run), since an ACK promises the lease is durable.
 */
export function defaultLeaseFile(): string {
  return `/var/lib/socketlab/dhcp4-leases-${netnsId()}.csv`;
}

/** Largest value of a DHCP option: its length is one octet (RFC 2132 section 2). */
const MAX_OPTION_BYTES = 255;

/**
 * Refuses, at start, reply options that cannot be encoded: otherwise the server would run and drop
 * every OFFER. Long options are not split (RFC 3396), so each must fit in 255 bytes, and option 51
 * is 32 bits (RFC 2132 9.2), also after --time-scale.
 */
export function checkReplyOptions(o: { dns: string[]; domain?: string; leaseTime: number; timeScale: number; leaseFlag: number }): void {
  if (o.dns.length * 4 > MAX_OPTION_BYTES) {
    throw invalidArgument(
      `--dns: ${o.dns.length} servers take ${o.dns.length * 4} bytes, but option 6 (DNS servers) holds at most ${MAX_OPTION_BYTES} (${Math.floor(MAX_OPTION_BYTES / 4)} servers): an option's length is one octet (RFC 2132 section 2), and splitting long options (RFC 3396) is not supported`,
    );
  }
  if (o.domain !== undefined) {
    const n = Buffer.byteLength(o.domain);
    if (n === 0 || n > MAX_OPTION_BYTES) throw invalidArgument(`--domain: option 15 (domain name) must hold 1..${MAX_OPTION_BYTES} bytes, "${o.domain.slice(0, 40)}${n > 40 ? '...' : ''}" has ${n} (RFC 2132 3.17)`);
  }
  if (!Number.isInteger(o.leaseTime) || o.leaseTime < 1 || o.leaseTime > 0xffffffff) {
    throw invalidArgument(
      `--lease-time ${o.leaseFlag} at --time-scale ${o.timeScale} is ${o.leaseTime} s on the wire, but option 51 (lease time) holds 1..4294967295 s (32 bits, RFC 2132 9.2): use a larger --time-scale or a shorter --lease-time`,
    );
  }
}

/** Encodes a sample OFFER per scope with the options the server will send; names the option that fails. */
export function checkRepliesEncode(scopes: Scope[], optionsFor: (s: Scope) => Record<number, unknown>): void {
  const req: DhcpMessage = {
    op: 1, htype: 1, hlen: 6, hops: 0, xid: 1, secs: 0, flags: 0,
    ciaddr: '0.0.0.0', yiaddr: '0.0.0.0', siaddr: '0.0.0.0', giaddr: '0.0.0.0', chaddr: '02:00:00:00:00:01', sname: '', file: '', options: {},
  };
  for (const s of scopes) {
    const options = optionsFor(s);
    const reply = replyTo(req, MessageType.OFFER);
    for (const [code, value] of Object.entries(options)) {
      reply.options = { [Opt.MESSAGE_TYPE]: MessageType.OFFER, [code]: value };
      try {
        encode(reply);
      } catch (err) {
        throw invalidArgument(`option ${code} for subnet ${s.subnet.text} cannot be encoded (${(err as Error).message}); the server would drop every reply`);
      }
    }
    reply.options = { [Opt.MESSAGE_TYPE]: MessageType.OFFER, ...options };
    try {
      encode(reply);
    } catch (err) {
      throw invalidArgument(`the replies for subnet ${s.subnet.text} cannot be encoded (${(err as Error).message}); the server would drop every reply`);
    }
  }
}

/** The lease time on the wire at `timeScale` (the lease clock runs that many times faster); at least 1 s. */
export function scaledLeaseTime(leaseTime: number, timeScale: number): number {
  return Math.max(1, Math.round(leaseTime / timeScale));
}

/** A millisecond count from the environment (test and lab knobs); 0 when unset. */
function envMs(name: string): number {
  const t = process.env[name];
  if (t === undefined || t === '') return 0;
  const n = Number(t);
  if (!Number.isInteger(n) || n < 0 || n > MAX_TIMEOUT_MS) throw invalidArgument(`${name}="${t}" must be a whole number of ms, 0..${MAX_TIMEOUT_MS}`);
  return n;
}

/**
 * The lease store's test and lab knobs from the environment: SOCKETLAB_DHCP_SLOW_DISK_MS (each
 * fsync takes that much longer: a slow disk), SOCKETLAB_DHCP_COMMIT_MS, SOCKETLAB_DHCP_COMPACT_ROWS
 * (compact in the background after this many appended rows; tests use a few hundred).
 */
export function leaseStoreKnobs(): { syncDelayMs: number; commitDelayMs: number; compactRows?: number } {
  const syncDelayMs = envMs('SOCKETLAB_DHCP_SLOW_DISK_MS');
  const commitDelayMs = envMs('SOCKETLAB_DHCP_COMMIT_MS');
  const compactRows = envMs('SOCKETLAB_DHCP_COMPACT_ROWS');
  return { syncDelayMs, commitDelayMs, ...(compactRows > 0 && { compactRows }) };
}
