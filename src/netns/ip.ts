import { execFileSync } from 'node:child_process';
import { run } from '../core/process.js';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabError } from '../errors.js';

/** Runs `ip ARGS`; rejects with LAB_ERR_NETNS carrying ip's own message. */
export async function ip(args: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<string> {
  const argv = ['ip', ...args];
  const r = await run(argv, { timeoutMs: opts.timeoutMs ?? 10_000, killSignal: 'SIGTERM', group: false, ...(opts.input !== undefined && { input: opts.input }) });
  if (r.code === 0 && !r.error) return r.stdout;
  const err = r.error ?? new Error(r.timedOut ? `${argv.join(' ')} timed out after ${opts.timeoutMs ?? 10_000} ms` : `Command failed: ${argv.join(' ')}`);
  const why = (r.stderr || err.message).trim();
  throw new LabError('LAB_ERR_NETNS', `ip ${args.join(' ')} failed: ${why}`, { args, stderr: r.stderr }, { cause: err });
}

/** Every named network namespace (`ip netns list`). */
export async function listNamespaces(): Promise<string[]> {
  const out = await ip(['-j', 'netns', 'list']).catch(() => '');
  return parseNetnsList(out);
}

/** `ip -j netns list` prints nothing at all when there is no namespace. */
export function parseNetnsList(json: string): string[] {
  if (!json.trim()) return [];
  const rows = JSON.parse(json) as { name: string }[];
  return rows.map((r) => r.name);
}

/** Pids of the processes living in namespace `ns` (`ip netns pids`). */
export async function namespacePids(ns: string): Promise<number[]> {
  const out = await ip(['netns', 'pids', ns]).catch(() => '');
  return parsePids(out);
}

function parsePids(out: string): number[] {
  return out
    .split(/\s+/)
    .filter((s) => /^\d+$/.test(s))
    .map(Number)
    .filter((p) => p !== process.pid);
}

export interface KilledProcess {
  pid: number;
  command: string;
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Stops every process in `ns`: SIGTERM so servers can flush (lease files), SIGKILL after `graceMs`.
 * Bounded: gives up waiting after graceMs + 2 s.
 */
export async function killNamespaceProcesses(ns: string, graceMs = 1_000): Promise<KilledProcess[]> {
  const first = await namespacePids(ns);
  const killed = first.map((pid) => ({ pid, command: commandOf(pid) }));
  if (first.length === 0) return killed;
  for (const pid of first) signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  let left = await namespacePids(ns);
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(50);
    left = await namespacePids(ns);
  }
  const hardDeadline = Date.now() + 2_000;
  while (left.length > 0 && Date.now() < hardDeadline) {
    for (const pid of left) {
      if (!killed.some((k) => k.pid === pid)) killed.push({ pid, command: commandOf(pid) });
      signal(pid, 'SIGKILL');
    }
    await sleep(50);
    left = await namespacePids(ns);
  }
  return killed;
}

/** Where `ip netns exec NS` finds the files it bind-mounts over /etc for that namespace. */
export const netnsEtcDir = (ns: string): string => `/etc/netns/${ns}`;

/**
 * Gives `ns` its own /etc/resolv.conf. `ip netns exec` shares the machine's /etc unless
 * /etc/netns/NS holds a file of the same name, so a DHCP client's script in a lab host (udhcpc's
 * default.script, dhclient-script) would otherwise rewrite the machine's own resolver file.
 */
export function isolateNamespaceEtc(ns: string): void {
  mkdirSync(netnsEtcDir(ns), { recursive: true });
  writeFileSync(join(netnsEtcDir(ns), 'resolv.conf'), `# socketlab lab host ${ns}: this namespace's own resolver file (ip netns exec mounts it over /etc/resolv.conf)\n`);
}

function removeNamespaceEtc(ns: string): void {
  rmSync(netnsEtcDir(ns), { recursive: true, force: true });
}

/** Kills the processes in `ns` and deletes it. Missing namespaces are fine (safe to call twice). */
export async function deleteNamespace(ns: string, graceMs?: number): Promise<KilledProcess[]> {
  if (!(await listNamespaces()).includes(ns)) {
    removeNamespaceEtc(ns);
    return [];
  }
  const killed = await killNamespaceProcesses(ns, graceMs);
  await ip(['netns', 'del', ns]).catch((err: unknown) => {
    if (!/No such file/.test(String(err))) throw err;
  });
  removeNamespaceEtc(ns);
  return killed;
}

/** The synchronous last resort for process 'exit': SIGKILL everything in `ns`, then delete it. */
export function deleteNamespaceSync(ns: string): void {
  try {
    const out = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    for (const pid of parsePids(out)) signal(pid, 'SIGKILL');
  } catch {
    // namespace already gone
  }
  try {
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  } catch {
    // already gone
  }
  removeNamespaceEtc(ns);
}

export interface LinkInfo {
  ifname: string;
  operstate: string;
  kind?: string;
  addresses: string[];
  master?: string;
}

interface IpAddrJson {
  ifname: string;
  operstate?: string;
  master?: string;
  linkinfo?: { info_kind?: string };
  addr_info?: { local: string; prefixlen: number; scope?: string }[];
}

/** Links and addresses in namespace `ns`, or in the host's own namespace when `ns` is undefined. */
export async function listLinks(ns?: string): Promise<LinkInfo[]> {
  const args = [...(ns ? ['-n', ns] : []), '-d', '-j', 'addr', 'show'];
  const out = await ip(args);
  const rows = out.trim() ? (JSON.parse(out) as IpAddrJson[]) : [];
  return rows.map((r) => ({
    ifname: r.ifname,
    operstate: r.operstate ?? 'UNKNOWN',
    kind: r.linkinfo?.info_kind,
    master: r.master,
    addresses: (r.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`),
  }));
}
