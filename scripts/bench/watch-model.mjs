// How fast `roadside watch` decodes and checks a fleet's messages, and what it keeps per device.
// Run after a build: node scripts/bench/watch-model.mjs [devices] [messagesPerDevice]
import { encodePack } from "../../dist/publish/envelope.js";
import { WatchModel } from "../../dist/watch/model.js";
import { renderTable } from "../../dist/watch/table.js";

const devices = Number(process.argv[2] ?? 1000);
const perDevice = Number(process.argv[3] ?? 60);
const t0 = Date.UTC(2026, 0, 5, 7, 0, 0);

// real payloads: 2 lanes per device, 1-min windows, CBOR as devices send them
const payloads = [];
for (let w = 0; w < perDevice / 2; w++) {
  for (let d = 0; d < devices; d++) {
    for (const lane of ["lane1", "lane2"]) {
      const seq = w * 2 + (lane === "lane1" ? 1 : 2);
      const pack = [
        { bn: `pole-${d}:traffic:${lane}:`, bt: (t0 + w * 60_000) / 1000, n: "seq", v: seq },
        { n: "schema", v: 1 },
        { n: "window", u: "s", v: 60 },
        { n: "observed", u: "s", v: 60 },
        { n: "timeq", vs: "synced" },
        { n: "volume", u: "count", v: (d + w) % 30 },
        { n: "flow", u: "1/s", v: ((d + w) % 30) / 60 },
        { n: "occupancy", u: "/", v: 0.0871 },
      ];
      payloads.push([`roadside/pole-${d}/traffic/${lane}`, encodePack(pack, "cbor"), t0 + (w + 1) * 60_000 + 500]);
    }
  }
}

global.gc?.();
const heap0 = process.memoryUsage().heapUsed;
const model = new WatchModel({ prefix: "roadside" });
const start = process.hrtime.bigint();
let lines = 0;
for (const [topic, payload, now] of payloads) lines += model.message(topic, payload, false, now).length;
const ns = Number(process.hrtime.bigint() - start);
global.gc?.();
const heap1 = process.memoryUsage().heapUsed;

const r0 = process.hrtime.bigint();
const screen = renderTable(model, { nowMs: t0 + perDevice * 60_000, columns: 160, rows: 60, utc: true, title: "bench" });
const renderMs = Number(process.hrtime.bigint() - r0) / 1e6;

const t = model.totals();
console.log(`watch model: ${payloads.length} messages from ${devices} devices in ${(ns / 1e6).toFixed(0)} ms`);
console.log(
  `  ${Math.round(payloads.length / (ns / 1e9))} messages/s decoded, sequence-checked and tabulated (${lines} events; gaps ${t.gaps}, duplicates ${t.duplicates})`,
);
console.log(
  `  state kept: ${((heap1 - heap0) / devices / 1024).toFixed(1)} KiB per device${global.gc ? "" : " (run with --expose-gc for a steadier figure)"}`,
);
console.log(`  one table redraw of ${devices} devices: ${renderMs.toFixed(1)} ms (${screen.length} lines shown)`);
