import type Docker from 'dockerode';
import { connectEngine, engineError, LAB_LABEL, statusOf } from './engine.js';
import { removeUserRules } from './firewall.js';

/** The label filter for one lab, or for every lab. */
export function labFilter(lab?: string): string {
  return lab === undefined ? LAB_LABEL : `${LAB_LABEL}=${lab}`;
}

/**
 * Removes every container (running or not, with its anonymous volumes) and then every network
 * labelled `socketlab.lab` (=LAB when given), then the DOCKER-USER rules commented `socketlab.lab=`
 * (=LAB) that let frames stay on their bridges. Needs no state file, so it also works after kill -9
 * of the runner. Returns what it removed, as `container NAME` / `network NAME` / `iptables rule ...`.
 */
export async function cleanDocker(lab?: string, docker?: Docker): Promise<string[]> {
  const engine = docker ?? (await connectEngine());
  const filters = JSON.stringify({ label: [labFilter(lab)] });
  const removed: string[] = [];
  try {
    const containers = await engine.listContainers({ all: true, filters });
    await Promise.all(
      containers.map(async (c) => {
        try {
          await engine.getContainer(c.Id).remove({ force: true, v: true });
          removed.push(`container ${c.Names[0]?.replace(/^\//, '') ?? c.Id.slice(0, 12)}`);
        } catch (err) {
          if (statusOf(err) !== 404 && statusOf(err) !== 409) throw err; // 409: already being removed
        }
      }),
    );
    // networks after their containers: an endpoint still attached would make the removal fail
    const networks = await engine.listNetworks({ filters });
    for (const n of networks) {
      try {
        await engine.getNetwork(n.Id).remove();
        removed.push(`network ${n.Name}`);
      } catch (err) {
        if (statusOf(err) !== 404) throw err;
      }
    }
  } catch (err) {
    throw engineError(err);
  }
  removed.push(...(await removeUserRules(lab)));
  return removed.sort();
}
