import { describe, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { buildImage, DEFAULT_TAG } from '../../src/hosts/docker/image.js';
import { LAB_LABEL } from '../../src/hosts/docker/engine.js';

/** CI sets this so that Docker tests can never skip silently there. */
export const dockerRequired = process.env.SOCKETLAB_REQUIRE_DOCKER === '1';

/** True when an engine answers at DOCKER_HOST / the default socket (asked from a child: describe must decide synchronously). */
function engineReachable(): boolean {
  const probe = "import('dockerode').then((m) => new m.default().ping()).then(() => process.exit(0), () => process.exit(1))";
  return spawnSync(process.execPath, ['-e', probe], { cwd: new URL('../..', import.meta.url), timeout: 10_000 }).status === 0;
}

/**
 * A describe block that needs a Docker engine. None reachable: prints why and skips, unless
 * SOCKETLAB_REQUIRE_DOCKER=1 (CI), where it fails instead.
 */
export function describeDocker(name: string, fn: () => void): void {
  if (engineReachable()) return describe(name, fn);
  const why = 'no Docker engine reachable: install the Debian package docker.io and start dockerd (or set DOCKER_HOST)';
  if (dockerRequired) {
    describe(name, () => it(`requires Docker: ${why}`, () => {
      throw new Error(`SOCKETLAB_REQUIRE_DOCKER=1 but ${why}`);
    }));
    return;
  }
  console.warn(`skipping "${name}": ${why}`);
  describe.skip(name, fn);
}

/** The newest modification time under DIR (ms). */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * The lab image, (re)built when it is missing or older than dist/ (on SOCKETLAB_DOCKER_BASE, else
 * the default base choice): the first test file of a run builds it, the others find it current.
 */
export async function ensureImage(tag = DEFAULT_TAG): Promise<string> {
  const dist = fileURLToPath(new URL('../../dist', import.meta.url));
  let created = 0;
  try {
    created = Date.parse((await new Docker().getImage(tag).inspect()).Created);
  } catch {
    // not there: build it
  }
  if (created < newestMtime(dist)) await buildImage({ tag, ...(process.env.SOCKETLAB_DOCKER_BASE && { base: process.env.SOCKETLAB_DOCKER_BASE }) });
  return tag;
}

/** Names of containers and networks labelled socketlab.lab=LAB. */
export async function labelled(lab: string): Promise<string[]> {
  const docker = new Docker();
  const filters = JSON.stringify({ label: [`${LAB_LABEL}=${lab}`] });
  const containers = await docker.listContainers({ all: true, filters });
  const networks = await docker.listNetworks({ filters });
  return [...containers.map((c) => `container ${c.Names[0]}`), ...networks.map((n) => `network ${n.Name}`)];
}

/** `iptables -S DOCKER-USER`, or undefined where that chain is absent (engine with --iptables=false) or not readable (not root). */
export function dockerUserChain(family: 'iptables' | 'ip6tables' = 'iptables'): string | undefined {
  const r = spawnSync(family, ['-w', '-S', 'DOCKER-USER'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout : undefined;
}
