import { describe, it } from 'vitest';

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

// Tests that need a program (dig, tcpdump, ping ...) use describeWithPeers / itWithPeers from ./peers.ts.
