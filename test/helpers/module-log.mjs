// `node --import ./module-log.mjs …` writes the URL of every ES module the process loads, one a line,
// to the file named by $MODULE_LOG: tests check what a command does NOT load (issue 15).
import { register } from "node:module";

register(
  "data:text/javascript," +
    encodeURIComponent(`
import { appendFileSync } from "node:fs";
export async function load(url, context, next) {
  if (process.env.MODULE_LOG) appendFileSync(process.env.MODULE_LOG, url + "\\n");
  return next(url, context);
}`),
);
