// Disk writes per day of a full site (4 lanes at 1 min, a manhole at 15 min, a bin at 30 min),
// online for one simulated day, for several `outbox.checkpointInterval` values: the figure that sets
// its default (docs/delivery.md "Measured"; SD cards wear by what is written). Each run is the
// device in its own process (test/delivery/fixtures/wear-child.mjs) with a real outbox file on disk,
// counted by the kernel (/proc/self/io write_bytes: SQLite's WAL and its checkpoints, the sequence
// mark file). Built from dist/ (npm run build).
//
//   node scripts/bench/checkpoint-wear.mjs [--intervals 0,5m,1m,30s] [--repeat 3] [--dir /var/tmp]
//
// Each interval runs --repeat times and the median is reported: on a shared machine a day's total
// varies by a few MB from run to run (when SQLite's WAL checkpoints happen to fall).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startEmbeddedBroker } from "../../dist/mqtt/embedded.js";

const { values } = parseArgs({
  options: {
    intervals: { type: "string", default: "0,5m,1m,30s" },
    repeat: { type: "string", default: "3" },
    dir: { type: "string", default: "/var/tmp" },
  },
});
const CHILD = new URL("../../test/delivery/fixtures/wear-child.mjs", import.meta.url).pathname;
const broker = await startEmbeddedBroker(0);
const rows = [];

/** One simulated day with this checkpoint interval, in its own process. */
async function day(interval) {
  // on disk, not tmpfs: the kernel must count real writes
  const dir = mkdtempSync(join(values.dir, "roadside-wear-"));
  const child = spawn(process.execPath, [CHILD, broker.url, join(dir, "outbox.db"), interval], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d.toString()));
  child.stderr.on("data", (d) => (err += d.toString()));
  const code = await new Promise((resolve) => child.once("exit", resolve));
  rmSync(dir, { recursive: true, force: true });
  const m = /wear (\d+) (\d+) (\d+)/.exec(out);
  if (!m) throw new Error(`wear child (checkpointInterval ${interval}) exited ${code}: ${err}`);
  return { bytes: Number(m[1]), summaries: Number(m[2]), checkpoints: Number(m[3]) };
}
try {
  for (const interval of values.intervals.split(",")) {
    const runs = [];
    for (let i = 0; i < Number(values.repeat); i++) runs.push(await day(interval));
    runs.sort((a, b) => a.bytes - b.bytes);
    const r = runs[Math.floor(runs.length / 2)];
    rows.push({ interval, ...r });
    console.log(
      `checkpointInterval ${interval.padEnd(4)} ${(r.bytes / 1e6).toFixed(1).padStart(6)} MB written per day, median of ${runs.length} (${runs.map((x) => (x.bytes / 1e6).toFixed(1)).join(", ")}); ${r.summaries} summaries, ${r.checkpoints} checkpoint rows`,
    );
  }
} finally {
  await broker.close();
}
const base = rows.find((r) => r.interval === "0");
if (base) {
  for (const r of rows) {
    if (r === base) continue;
    console.log(`checkpointInterval ${r.interval}: +${((r.bytes - base.bytes) / 1e6).toFixed(1)} MB/day over no checkpoints`);
  }
}
