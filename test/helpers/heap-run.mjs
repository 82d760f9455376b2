// Child process of test/sim/window-state.test.ts (run with --expose-gc): simulates a site in
// virtual time through the full pipeline (dist/) and, once warmed up (a quarter of the way) and near
// the end, takes a heap snapshot after a forced collection and counts the live objects of each
// constructor; prints how many more of each there are at the end, with the windows closed in
// between, as JSON. Counts, not bytes: compiled code keeps growing for a while and would hide or fake
// a leak. `--leak BYTES` adds a feature that keeps an object of BYTES per window forever, the fault
// the test exists to catch. Also prints `stateBytes`: the live heap late in the run less the live heap
// before it, with every module the run loads already loaded, so that state built ahead for the whole
// run (events generated far ahead of virtual time, truth kept for the run) shows even when it does
// not grow between the two counts. `--ahead BYTES` adds a feature that builds that much at its start.
import { createRequire } from "node:module";
import { getHeapSnapshot } from "node:v8";
import { parseArgs } from "node:util";
import { formatIssues, loadConfigFile } from "../../dist/config/load.js";
import { FEATURES } from "../../dist/features/index.js";
import { silentLogger } from "../../dist/log/logger.js";
import { simulate } from "../../dist/sim/session.js";

const { values } = parseArgs({
  options: {
    config: { type: "string" },
    broker: { type: "string" },
    hours: { type: "string" },
    leak: { type: "string", default: "0" },
    ahead: { type: "string", default: "0" },
  },
});
const r = loadConfigFile(values.config);
if (!r.ok) {
  process.stderr.write(formatIssues(r.issues).join("\n"));
  process.exit(2);
}
const leakBytes = Number(values.leak);
const kept = [];
class KeptWindow {
  constructor(w) {
    this.w = w;
    this.pad = "x".repeat(leakBytes);
  }
}
const leaky = (ctx) => {
  if (leakBytes === 0) return undefined;
  ctx.windows(ctx.loaded.config.windows.default).add({ rotate: () => {}, finalize: (w) => kept.push(new KeptWindow(w)) });
  return { name: "leaky" };
};
const aheadBytes = Number(values.ahead);
class PlannedAhead {
  constructor(i) {
    this.atS = i;
    // 125 small integers: 1 KB of heap of its own (a repeated string would be shared)
    this.plan = Array.from({ length: 125 }, (_, k) => i + k);
  }
}
const planned = [];
const ahead = () => {
  for (let i = 0; i < aheadBytes / 1000; i++) planned.push(new PlannedAhead(i));
  return aheadBytes === 0 ? undefined : { name: "ahead" };
};
const durationS = Number(values.hours) * 3600;
/** Live objects by constructor (and closures by name), after a full collection. */
function census() {
  globalThis.gc();
  globalThis.gc();
  const heapUsed = process.memoryUsage().heapUsed;
  const fd = getHeapSnapshot();
  const chunks = [];
  for (let c = fd.read(); c !== null; c = fd.read()) chunks.push(c);
  const snap = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  const {
    node_fields: f,
    node_types: [types],
  } = snap.snapshot.meta;
  const N = f.length;
  const iType = f.indexOf("type");
  const iName = f.indexOf("name");
  const counts = new Map();
  for (let i = 0; i < snap.nodes.length; i += N) {
    const t = types[snap.nodes[i + iType]];
    // not strings: this census's own keys are strings made between the two counts; a kept string is
    // held by an object or closure, which is counted
    if (t !== "object" && t !== "closure") continue;
    const key = `${t}:${snap.strings[snap.nodes[i + iName]]}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return { heapUsed, counts };
}
/** Live heap after a full collection. */
function liveHeap() {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed;
}
// the modules a run loads on its way (the Firmata path's johnny-five when the inputs open, mqtt.js's
// transports at the first connect), loaded now so that the base holds all the code the run holds
const require = createRequire(import.meta.url);
await import("johnny-five/lib/board.js");
for (const t of ["ws", "tcp", "tls"]) require(`mqtt/lib/connect/${t}`);
const base = liveHeap();
let warm;
let late;
const res = await simulate({
  loaded: r.loaded,
  brokerUrl: values.broker,
  startWallMs: Date.UTC(2026, 0, 5),
  durationS,
  speed: "max",
  logger: silentLogger,
  features: [...FEATURES, leaky, ahead],
  // at every yield to the event loop (every 2,000 timers), so the two counts fall at the same virtual
  // instants however fast the machine is
  progressEveryMs: 0,
  // measured while the device runs: state a stopped device drops would hide a leak
  onProgress: (p) => {
    if (warm === undefined && p.doneS >= durationS / 4) warm = { atS: p.doneS, ...census() };
    else if (warm !== undefined && late === undefined && p.doneS >= durationS * 0.9 && p.doneS < durationS)
      late = { atS: p.doneS, ...census() };
  },
});
if (!warm || !late) throw new Error("the run ended before both measurements; run longer");
const grown = [...late.counts]
  .map(([name, n]) => ({ name, more: n - (warm.counts.get(name) ?? 0) }))
  .filter((g) => g.more > 0)
  .sort((a, b) => b.more - a.more)
  .slice(0, 15);
const windows = Math.floor(late.atS / r.loaded.config.windows.default) - Math.floor(warm.atS / r.loaded.config.windows.default);
process.stdout.write(
  `${JSON.stringify({
    windows,
    heapGrowth: late.heapUsed - warm.heapUsed,
    stateBytes: warm.heapUsed - base,
    grown,
    committed: res.committed,
    undelivered: res.undelivered,
    windowsKept: kept.length,
    plannedAhead: planned.length,
  })}\n`,
);
