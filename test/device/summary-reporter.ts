import type { Reporter, TestModule } from "vitest/node";

/** Prints the suite's one-line count, as `npm test`'s CI line does: `N passed, N failed`. */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    for (const m of modules) {
      for (const t of m.children.allTests()) {
        const s = t.result().state;
        if (s === "passed") passed++;
        else if (s === "failed") failed++;
      }
      // a file that fails to load or whose hooks fail has failed, even with no failed test
      if (failed === 0 && m.state() === "failed") failed++;
    }
    process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
  }
}
