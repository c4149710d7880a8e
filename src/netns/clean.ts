import { readdirSync } from 'node:fs';
import { ip, listNamespaces, listLinks, deleteNamespace, namespacePids, type KilledProcess, type LinkInfo } from './ip.js';
import { belongsToTopology, isSocketlabName } from './names.js';
import { requireNetnsPrivileges } from './privileges.js';

export interface CleanReport {
  namespaces: { name: string; killed: KilledProcess[] }[];
  /** `sl-` interfaces that were left in the host's own network namespace. */
  interfaces: string[];
}

/**
 * The last resort after a crash: removes every `sl-` namespace (killing its processes) and every
 * `sl-` interface in the host's own namespace, and nothing else. `id` narrows it to one topology.
 */
export async function cleanNetns(opts: { id?: string; graceMs?: number } = {}): Promise<CleanReport> {
  requireNetnsPrivileges('socketlab netns clean', 'nothing: only root can have created socketlab namespaces, so there is nothing for you to clean');
  const mine = (name: string): boolean => (opts.id === undefined ? isSocketlabName(name) : belongsToTopology(name, opts.id));
  const report: CleanReport = { namespaces: [], interfaces: [] };
  for (const name of (await listNamespaces()).filter(mine)) {
    const killed = await deleteNamespace(name, opts.graceMs ?? 500);
    report.namespaces.push({ name, killed });
  }
  // a namespace's own /etc files whose namespace is gone (a crash between `ip netns del` and rmdir)
  let etc: string[] = [];
  try {
    etc = readdirSync('/etc/netns').filter(mine);
  } catch {
    // no /etc/netns
  }
  for (const name of etc) await deleteNamespace(name);
  for (const link of (await listLinks()).filter((l) => mine(l.ifname))) {
    // Deleting one end of a veth pair removes its peer too, so the second may already be gone.
    const ok = await ip(['link', 'del', link.ifname]).then(() => true, (err: unknown) => /Cannot find device/.test(String(err)) ? false : Promise.reject(err));
    if (ok) report.interfaces.push(link.ifname);
  }
  return report;
}

export interface NamespaceInfo {
  name: string;
  pids: number[];
  links: LinkInfo[];
}

/** The socketlab namespaces present now, with their interfaces and addresses. */
export async function listSocketlabNamespaces(): Promise<NamespaceInfo[]> {
  const names = (await listNamespaces()).filter(isSocketlabName).sort();
  requireNetnsPrivileges('socketlab netns list (reading inside the namespaces)');
  const out: NamespaceInfo[] = [];
  for (const name of names) {
    const links = await listLinks(name).catch(() => []);
    out.push({ name, pids: await namespacePids(name), links });
  }
  return out;
}
