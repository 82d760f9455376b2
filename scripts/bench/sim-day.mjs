#!/usr/bin/env node
// Benchmark: a simulated day of one site through the full pipeline (simulated board and serial bus →
// drivers → aggregation → SenML → SQLite outbox → MQTT QoS 1) to a real broker, in virtual time at
// full speed. Target (issue 3): a 24 h, 4-lane dual-loop site in under 10 s on a 2-core machine.
//
//   node scripts/bench/sim-day.mjs [CONFIG] [--broker aedes|mosquitto|URL] [--hours 24] [--runs 3] [--outbox memory|disk]
//
// CONFIG defaults to scripts/bench/configs/four-lane.yaml; any board: sim config works (add manhole
// and bin sections to measure those too). Build first: node_modules/.bin/tsc -p tsconfig.json
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { formatIssues, loadConfigFile } from "../../dist/config/load.js";
import { silentLogger } from "../../dist/log/logger.js";
import { startEmbeddedBroker } from "../../dist/mqtt/embedded.js";
import { simulate } from "../../dist/sim/session.js";
import { hasMosquitto, startMosquitto } from "./mosquitto.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    broker: { type: "string", default: "aedes" },
    hours: { type: "string", default: "24" },
    runs: { type: "string", default: "3" },
    outbox: { type: "string", default: "memory" },
  },
});
const configPath = positionals[0] ?? join(here, "configs", "four-lane.yaml");
const r = loadConfigFile(configPath);
if (!r.ok) {
  console.error(`${configPath}:\n${formatIssues(r.issues).join("\n")}`);
  process.exit(2);
}
const hours = Number(values.hours);
let broker;
if (values.broker === "aedes") broker = await startEmbeddedBroker(0);
else if (values.broker === "mosquitto") {
  if (!hasMosquitto()) {
    console.error("mosquitto is not installed: apt-get install -y mosquitto");
    process.exit(2);
  }
  broker = await startMosquitto();
} else broker = { url: values.broker, close: async () => {} };

console.log(
  `sim-day: ${configPath} (${Object.keys(r.loaded.config.detectors).length} detectors, ${r.loaded.config.windows.default} s windows), ${hours} h simulated, broker ${values.broker} ${broker.url}, outbox ${values.outbox}, node ${process.version}, ${(await import("node:os")).cpus().length} cores`,
);
const results = [];
for (let i = 0; i < Number(values.runs); i++) {
  const stateDir = values.outbox === "disk" ? mkdtempSync(join(tmpdir(), "roadside-bench-")) : undefined;
  const t0 = performance.now();
  const res = await simulate({
    loaded: r.loaded,
    brokerUrl: broker.url,
    startWallMs: Date.UTC(2026, 0, 5),
    durationS: hours * 3600,
    speed: "max",
    logger: silentLogger,
    ...(stateDir ? { stateDir } : {}),
  });
  const wall = (performance.now() - t0) / 1000;
  results.push(wall);
  console.log(
    `run ${i + 1}: ${wall.toFixed(2)} s wall for ${hours} h simulated = ×${Math.round((hours * 3600) / wall)} real time; ${res.committed} messages committed, ${res.delivered} delivered (${Math.round(res.delivered / wall)} msg/s), ${res.undelivered} left`,
  );
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
}
results.sort((a, b) => a - b);
const median = results[Math.floor(results.length / 2)];
console.log(
  `median ${median.toFixed(2)} s (×${Math.round((hours * 3600) / median)}); peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`,
);
await (broker.stop ?? broker.close)();
