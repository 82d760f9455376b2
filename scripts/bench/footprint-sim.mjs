// Child of footprint.mjs: a `sim` run of many days in this process with the outbox on disk, printing
// the RSS at the end of every simulated day (no forced collection: what the OS sees) as JSON lines.
//   node [--max-old-space-size=48] scripts/bench/footprint-sim.mjs ROOT CONFIG BROKER_URL DAYS STATE_DIR
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [root, config, brokerUrl, days, stateDir] = process.argv.slice(2);
const dist = (m) => import(pathToFileURL(join(root, "dist", m)).href);
const { loadConfigFile } = await dist("config/load.js");
const { silentLogger } = await dist("log/logger.js");
const { simulate } = await dist("sim/session.js");
const r = loadConfigFile(config);
if (!r.ok) throw new Error(`${config} is not valid`);
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
        `${JSON.stringify({ day: next, rss: process.memoryUsage().rss, heapUsed: process.memoryUsage().heapUsed, wallS: (Date.now() - t0) / 1000 })}\n`,
      );
      next++;
    }
  },
});
process.stdout.write(
  `${JSON.stringify({ done: true, wallS: (Date.now() - t0) / 1000, committed: res.committed, undelivered: res.undelivered })}\n`,
);
