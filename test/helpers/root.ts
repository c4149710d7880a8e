import { describe, it } from 'vitest';
import { execFileSync } from 'node:child_process';

export const isRoot = process.getuid?.() === 0;
/** CI sets this so that root-only tests can never skip silently there. */
export const rootRequired = process.env.SOCKETLAB_REQUIRE_ROOT === '1';

/**
 * A describe block that needs root (namespaces, ports < 1024). Not root: prints why and skips,
 * unless SOCKETLAB_REQUIRE_ROOT=1, where it fails instead.
 */
export function describeRoot(name: string, fn: () => void): void {
  if (isRoot) return describe(name, fn);
  const why = `needs root (network namespaces / ports below 1024); run as root or with sudo`;
  if (rootRequired) {
    describe(name, () => it(`requires root: ${why}`, () => {
      throw new Error(`SOCKETLAB_REQUIRE_ROOT=1 but not running as root: ${why}`);
    }));
    return;
  }
  console.warn(`skipping "${name}": ${why}`);
  describe.skip(name, fn);
}

export function hasTool(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * A describe block that needs external programs (dig, dhclient, tcpdump...). Missing: prints which
 * Debian package to install and skips, unless SOCKETLAB_REQUIRE_ROOT=1 (CI), where it fails.
 */
export function describeWithTools(name: string, tools: Record<string, string>, fn: () => void): void {
  const missing = Object.entries(tools).filter(([t]) => !hasTool(t));
  if (missing.length === 0) return describe(name, fn);
  const why = `missing ${missing.map(([t, pkg]) => `${t} (apt-get install ${pkg})`).join(', ')}`;
  if (rootRequired) {
    describe(name, () => it(`requires tools: ${why}`, () => {
      throw new Error(why);
    }));
    return;
  }
  console.warn(`skipping "${name}": ${why}`);
  describe.skip(name, fn);
}
