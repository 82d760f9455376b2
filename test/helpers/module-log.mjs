// `node --import ./module-log.mjs …` writes the URL of every ES module the process loads, one a line,
// to the file named by $MODULE_LOG: tests check what a command does NOT load (issue 15).
// bin/roadside.js runs the bundle in dist/app/ (rolldown.config.mjs): a chunk it loads is written
// followed by the modules it holds (dist/app/modules.json), as the file URLs they have in dist/ and
// node_modules/, so a test reads the same module names from a bundled run as from an unbundled one.
//
// A worker thread runs this preload too (it inherits --import) and logs its modules through its own
// hooks; each line is "THREAD URL", THREAD 0 for the main thread, so a test tells the config worker's
// modules (src/config/load-off-thread.ts: they go when it ends) from the ones the process keeps.
import { register } from "node:module";
import { threadId } from "node:worker_threads";

register(
  "data:text/javascript," +
    encodeURIComponent(`
import { appendFileSync, readFileSync } from "node:fs";
const maps = new Map();
let thread = 0;
export async function initialize(data) {
  thread = data.threadId;
}
function held(url) {
  const m = /^(file:\\/\\/.*\\/)dist\\/app\\/([^/]+\\.js)$/.exec(url);
  if (!m) return [];
  const [, root, chunk] = m;
  if (!maps.has(root)) maps.set(root, JSON.parse(readFileSync(new URL("dist/app/modules.json", root), "utf8")));
  const modules = maps.get(root)[chunk];
  if (!modules) throw new Error(url + " is not in dist/app/modules.json: rebuild (npm run build)");
  return modules.map((p) => root + p);
}
export async function load(url, context, next) {
  if (process.env.MODULE_LOG) appendFileSync(process.env.MODULE_LOG, [url, ...held(url)].map((u) => thread + " " + u).join("\\n") + "\\n");
  return next(url, context);
}`),
  { data: { threadId } },
);
