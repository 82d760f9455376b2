import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/**
 * The page's static files. Ours live in src/web/assets/ (plain JS and CSS: no front-end build), read
 * from the package at runtime, from dist/web/ or src/web/ alike; uPlot's from its npm package. All
 * are read once and kept in memory (about 90 kB): the pages work offline and never name another host.
 */
export interface Asset {
  body: Buffer;
  type: string;
}

const OWN = ["app.css", "common.js", "charts.js", "fleet.js", "device.js", "status.js", "icon.svg"];
const TYPES: Record<string, string> = {
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  svg: "image/svg+xml",
};

function ownDir(): string {
  // dist/web/assets.js and src/web/assets.ts both sit two levels below the package root
  return fileURLToPath(new URL("../../src/web/assets/", import.meta.url));
}

let cache: Map<string, Asset> | undefined;

/** Every asset by its URL path under /assets/. */
export function assets(): Map<string, Asset> {
  if (cache) return cache;
  const m = new Map<string, Asset>();
  const dir = ownDir();
  for (const f of OWN) m.set(f, { body: readFileSync(dir + f), type: TYPES[f.split(".").pop()!]! });
  const req = createRequire(import.meta.url);
  m.set("uPlot.iife.min.js", { body: readFileSync(req.resolve("uplot/dist/uPlot.iife.min.js")), type: TYPES["js"]! });
  m.set("uPlot.min.css", { body: readFileSync(req.resolve("uplot/dist/uPlot.min.css")), type: TYPES["css"]! });
  cache = m;
  return m;
}
