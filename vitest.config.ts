import { defineConfig } from "vitest/config";

// One test command for people and CI: `npm test`. The JSON report is what .ci/run counts.
export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // the virtual device suite boots QEMU guests for half an hour: `npm run test:device` (vitest.device.config.ts)
    exclude: ["test/device/**", "**/node_modules/**"],
    reporters: ["default", "json"],
    outputFile: { json: "test-results/vitest.json" },
    // native addons (better-sqlite3, serialport) are safest in child processes
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
