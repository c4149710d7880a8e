import type { Reporter, TestModule } from 'vitest/node';
import { INSTALL_PEERS, PEERS, type Peer } from './peer-table.js';

/**
 * Ends the run with one plain line, `socketlab: N passed, N failed, N skipped`, that CI systems
 * and people can read without knowing vitest's own summary format. Tests skipped for a missing
 * peer (test/helpers/peers.ts) are counted first, with the one command that installs them all.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const missing = new Map<Peer, number>();
    for (const m of testModules) {
      for (const t of m.children.allTests()) {
        const state = t.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else {
          skipped++;
          for (const p of t.meta().missingPeers ?? []) missing.set(p, (missing.get(p) ?? 0) + 1);
        }
      }
    }
    if (missing.size > 0) {
      const peers = [...missing.keys()].sort();
      const pkgs = [...new Set(peers.map((p) => PEERS[p]))].sort();
      process.stdout.write(
        `\nsocketlab: peers missing: ${peers.map((p) => `${p} (${PEERS[p]}, ${missing.get(p)} tests)`).join(', ')}\n` +
          `socketlab: install them all with: ${INSTALL_PEERS}   (apt-get install ${pkgs.join(' ')})\n`,
      );
    }
    process.stdout.write(`\nsocketlab: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
