import { defineConfig } from "vitest/config";

// The virtual device suite (`npm run test:device`, docs/virtual-device.md): one QEMU guest at a time,
// minutes per test under TCG, so long bounds and no parallelism. The JSON report is what .ci/run counts.
export default defineConfig({
  test: {
    include: ["test/device/**/*.test.ts"],
    reporters: ["default", "json", "./test/device/summary-reporter.ts"],
    outputFile: { json: "test-results/device.json" },
    pool: "forks",
    fileParallelism: false,
    maxWorkers: 1,
    sequence: { concurrent: false },
    testTimeout: 20 * 60_000,
    hookTimeout: 45 * 60_000,
    // a hung guest must not hold CI past its limit: each wait inside the tests is bounded too
    teardownTimeout: 120_000,
  },
});
