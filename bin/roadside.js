#!/usr/bin/env node
// Entry point of the `roadside` command. The TypeScript sources are compiled to dist/ and bundled into
// dist/app/ (rolldown.config.mjs: a device starts ~200 ms sooner) by `npm install` (the "prepare"
// script) or `npm run build`.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const main = new URL("../dist/app/main.js", import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write("roadside: dist/app/ is missing; run `npm install` (or `npm run build`) in the roadside folder first\n");
  process.exit(1);
}
const { main: run } = await import(main.href);
process.exitCode = await run(process.argv.slice(2));
