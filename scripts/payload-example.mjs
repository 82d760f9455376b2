#!/usr/bin/env node
// Prints a real traffic message for docs/payloads.md: a 60 s window of a simulated speed-trap lane,
// as CBOR hex and as SenML JSON (seeded, so the output is the same every time).
// Build first: node_modules/.bin/tsc -p tsconfig.json
import { NS_PER_S } from "../dist/clock/clock.js";
import { VirtualClock } from "../dist/clock/virtual.js";
import { formatIssues, validateConfig } from "../dist/config/load.js";
import { silentLogger } from "../dist/log/logger.js";
import { SqliteOutbox } from "../dist/outbox/sqlite.js";
import { decodeSenmlCbor, encodeSenmlJson } from "../dist/publish/senml.js";
import { Device } from "../dist/runtime.js";
import { createSimHardware } from "../dist/sim/hardware.js";

const r = validateConfig({
  device: { id: "pole-0042", board: "sim" },
  inputs: { "lane1.up": { line: "GPIO17" }, "lane1.down": { line: "GPIO27" } },
  detectors: { lane1: { loops: ["lane1.up", "lane1.down"] } },
  windows: { default: "1m" },
  sim: { seed: 1187, traffic: { lane1: { vehiclesPerHour: 1400, speedKmh: 70 } } },
});
if (!r.ok) throw new Error(formatIssues(r.issues).join("\n"));
const clock = new VirtualClock({ startWallMs: Date.UTC(2026, 10, 22, 7, 0, 0) });
const hw = createSimHardware(r.loaded, { clock, logger: silentLogger });
const outbox = SqliteOutbox.open({ path: ":memory:", now: () => clock.wallMs() });
const device = new Device(r.loaded, {
  clock,
  logger: silentLogger,
  inputs: hw.inputs,
  serial: hw.serial,
  ioPlugin: hw.ioPlugin,
  outbox,
  brokerUrl: "mqtt://127.0.0.1:1",
});
await device.start();
hw.site.start();
await clock.runUntil(121 * NS_PER_S);
const second = outbox.pending(10, new Set()).find((m) => m.topic.endsWith("/traffic/lane1") && m.seq === 2);
hw.site.stop();
await device.stop(0);
outbox.close();
console.log(`${second.payload.length} ${second.payload.toString("hex")}`);
console.log(encodeSenmlJson(decodeSenmlCbor(second.payload)).toString());
