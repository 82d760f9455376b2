#!/usr/bin/env node
// Benchmark: fleet mode, N simulated devices with 1-minute windows in one process against Mosquitto on
// loopback (the city side's view of a deployment). Prints messages per second sustained (acknowledged
// by the broker over the run) and the process's peak RSS.
//
//   node scripts/bench/fleet.mjs [CONFIG] [--devices 1000] [--minutes 30] [--speed max|N]
//
// CONFIG defaults to scripts/bench/configs/fleet-site.yaml (two lanes). Build first.
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { formatIssues, loadConfigFile } from "../../dist/config/load.js";
import { silentLogger } from "../../dist/log/logger.js";
import { parseSpeed } from "../../dist/sim/runner.js";
import { simulate } from "../../dist/sim/session.js";
import { hasMosquitto, startMosquitto } from "./mosquitto.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    devices: { type: "string", default: "1000" },
    minutes: { type: "string", default: "30" },
    speed: { type: "string", default: "max" },
    broker: { type: "string" },
  },
});
const configPath = positionals[0] ?? join(here, "configs", "fleet-site.yaml");
const r = loadConfigFile(configPath);
if (!r.ok) {
  console.error(`${configPath}:\n${formatIssues(r.issues).join("\n")}`);
  process.exit(2);
}
if (!values.broker && !hasMosquitto()) {
  console.error("mosquitto is not installed: apt-get install -y mosquitto (or pass --broker URL)");
  process.exit(2);
}
const broker = values.broker ? { url: values.broker, stop: async () => {} } : await startMosquitto();
const devices = Number(values.devices);
const minutes = Number(values.minutes);
const speed = parseSpeed(values.speed);
console.log(
  `fleet: ${devices} devices × ${Object.keys(r.loaded.config.detectors).length} streams, ${r.loaded.config.windows.default} s windows, ${minutes} min simulated at speed ${speed}, broker ${broker.url}, node ${process.version}, ${cpus().length} cores`,
);

// acknowledged messages per wall-clock second, for the peak rate
const perSecond = new Map();
const t0 = performance.now();
const res = await simulate({
  loaded: r.loaded,
  brokerUrl: broker.url,
  startWallMs: Date.UTC(2026, 0, 5),
  durationS: minutes * 60,
  speed,
  devices,
  logger: silentLogger,
  drainTimeoutMs: 300_000,
  onDelivered: () => {
    const s = Math.floor((performance.now() - t0) / 1000);
    perSecond.set(s, (perSecond.get(s) ?? 0) + 1);
  },
});
const wall = (performance.now() - t0) / 1000;
const mem = process.memoryUsage();
console.log(
  `${res.devices} devices: ${res.committed} messages committed, ${res.delivered} delivered, ${res.undelivered} left, in ${wall.toFixed(1)} s wall (×${Math.round((minutes * 60) / wall)} real time)`,
);
console.log(
  `sustained ${Math.round(res.delivered / wall)} msg/s acknowledged by Mosquitto over the whole run (peak 1-s ${Math.max(0, ...perSecond.values())} msg/s)`,
);
console.log(
  `peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB (${((process.resourceUsage().maxRSS / 1024 / devices) * 1024).toFixed(0)} KB per device); at exit RSS ${(mem.rss / 1048576).toFixed(0)} MB, heap used ${(mem.heapUsed / 1048576).toFixed(0)} MB`,
);
await broker.stop();
