import type { Reporter, TestModule } from 'vitest/node';

/**
 * Prints one closing line, `tests: N passed, N failed, N skipped`, that CI logs and humans can
 * read at a glance (vitest's own summary spreads over several lines).
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const module of testModules) {
      let failedHere = 0;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failedHere++;
        else skipped++;
      }
      // A file that failed outside its tests (a failed import or beforeAll: its tests are
      // skipped) counts as one failure, so the line never reads "0 failed" for a red run.
      if (module.state() === 'failed' && failedHere === 0) failedHere = 1;
      failed += failedHere;
    }
    // Printed at exit so that it is the last line, after vitest's own summary.
    process.once('exit', () => {
      console.log(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
    });
  }
}
