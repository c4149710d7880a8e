import { describe, it } from 'vitest';
import { describePeers, hasPeer, INSTALL_PEERS, isPeer, type Peer } from './peer-table.js';

export { PEERS, hasPeer, type Peer } from './peer-table.js';

declare module 'vitest' {
  interface TaskMeta {
    /** Set on tests skipped because these peers are missing; the summary reporter lists them. */
    missingPeers?: Peer[];
  }
}

/** CI sets this so that no test needing a peer can skip silently there: a missing peer fails. */
export const peersRequired = (): boolean => process.env.SOCKETLAB_REQUIRE_PEERS === '1';

/** The peers of `needed` that are not on PATH (unknown names throw: add them to PEERS first). */
export function missingPeers(needed: readonly string[]): Peer[] {
  for (const p of needed) if (!isPeer(p)) throw new Error(`"${p}" is not in test/helpers/peer-table.ts PEERS: add it with its Debian package`);
  return [...new Set(needed as Peer[])].filter((p) => !hasPeer(p));
}

/** One line: what is missing, which Debian package has it, and the command that installs them all. */
export function skipReason(missing: readonly Peer[]): string {
  return `needs ${describePeers(missing)}; install all peers with: ${INSTALL_PEERS}`;
}

function failing(name: string, missing: Peer[]): () => void {
  return () => {
    throw new Error(`SOCKETLAB_REQUIRE_PEERS=1 but "${name}" ${skipReason(missing)}`);
  };
}

/**
 * A describe block that drives real programs (dig, tcpdump, ping ...). A peer missing: prints one
 * line naming its Debian package and skips, unless SOCKETLAB_REQUIRE_PEERS=1 (CI), where it fails.
 */
export function describeWithPeers(name: string, peers: readonly string[], fn: () => void): void {
  const missing = missingPeers(peers);
  if (missing.length === 0) return describe(name, fn);
  if (peersRequired()) return describe(name, () => it(`requires ${missing.join(', ')}`, failing(name, missing)));
  console.warn(`skipping "${name}": ${skipReason(missing)}`);
  describe.skip(name, { meta: { missingPeers: missing } }, fn);
}

/** The same for a single test. */
export function itWithPeers(name: string, peers: readonly string[], fn: () => Promise<void> | void, timeout?: number): void {
  const missing = missingPeers(peers);
  if (missing.length === 0) return it(name, { timeout }, fn);
  if (peersRequired()) return it(name, failing(name, missing));
  console.warn(`skipping "${name}": ${skipReason(missing)}`);
  it.skip(name, { meta: { missingPeers: missing }, timeout }, fn);
}
