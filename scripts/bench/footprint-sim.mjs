// Child of footprint.mjs: a `sim` run of many days in this process with the outbox on disk, printing
// the RSS at the end of every simulated day (no forced collection: what the OS sees) as JSON lines.
//   node [--max-old-space-size=48] scripts/bench/footprint-sim.mjs ROOT CONFIG BROKER_URL DAYS STATE_DIR
// With each day also the old generation in use (old, code and large-object spaces, not collected first)
// and the new space's semi-space: V8 starts marking whenever the room left below the old generation's
// limit (at most halfway from its size to the cap) is less than one semi-space, so under a cap C the
// collector runs back to back once the live old generation passes C − 2 × semi-space (48 − 2 × 16 = 16 MB
// on Node 20 once the new space has grown to its 16 MB maximum; issue 15).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { getHeapSpaceStatistics, getHeapStatistics } from "node:v8";

const [root, config, brokerUrl, days, stateDir] = process.argv.slice(2);
const dist = (m) => import(pathToFileURL(join(root, "dist", m)).href);
// the config is validated in a worker thread, as `roadside sim` does (zod and yaml stay out of this
// heap); a build from before that loader (a before/after comparison) validates it here
const offThread = existsSync(join(root, "dist", "config", "load-off-thread.js"));
const { silentLogger } = await dist("log/logger.js");
const { simulate } = await dist("sim/session.js");
const r = offThread
  ? await (await dist("config/load-off-thread.js")).loadConfigFileOffThread(config)
  : (await dist("config/load.js")).loadConfigFile(config);
if (!r.ok) throw new Error(`${config} is not valid`);
/** Old generation in use, and the semi-space (half the new space), in bytes. */
function generations() {
  let oldGen = 0;
  let semiSpace = 0;
  for (const s of getHeapSpaceStatistics()) {
    if (s.space_name === "new_space") semiSpace = s.space_size / 2;
    else if (["old_space", "code_space", "large_object_space", "code_large_object_space"].includes(s.space_name))
      oldGen += s.space_used_size;
  }
  return { oldGen, semiSpace };
}
let next = 0;
const t0 = Date.now();
const res = await simulate({
  loaded: r.loaded,
  brokerUrl,
  startWallMs: Date.UTC(2026, 0, 5),
  durationS: Number(days) * 86400,
  speed: "max",
  logger: silentLogger,
  stateDir,
  onProgress: (p) => {
    while (p.doneS >= next * 86400) {
      process.stdout.write(
        `${JSON.stringify({ day: next, rss: process.memoryUsage().rss, heapUsed: process.memoryUsage().heapUsed, ...generations(), wallS: (Date.now() - t0) / 1000 })}\n`,
      );
      next++;
    }
  },
});
process.stdout.write(
  `${JSON.stringify({ done: true, wallS: (Date.now() - t0) / 1000, committed: res.committed, undelivered: res.undelivered, heapLimit: getHeapStatistics().heap_size_limit })}\n`,
);
