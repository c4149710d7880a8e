import type { Reporter, TestModule } from 'vitest/node';

/**
 * Ends the run with one plain line, `socketlab: N passed, N failed, N skipped`, that CI systems
 * and people can read without knowing vitest's own summary format.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const m of testModules) {
      for (const t of m.children.allTests()) {
        const state = t.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
      }
    }
    process.stdout.write(`\nsocketlab: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
