import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { EMBEDDED } from "./embedded.js";

/**
 * The page's static files. Ours are written in src/web/assets/ (plain JS and CSS: no front-end
 * build) and compiled into dist/ as strings (src/web/embedded.ts, made by gen-embedded.ts), so the
 * offline bundle, which ships dist/ only, has them; in a checkout the files themselves are served,
 * so an edit shows on reload. uPlot's come from its npm package. All are read once and kept in
 * memory (about 90 kB): the pages work offline and never name another host.
 */
export interface Asset {
  body: Buffer;
  type: string;
}

export const OWN_ASSETS = ["app.css", "common.js", "charts.js", "fleet.js", "device.js", "status.js", "icon.svg"];
const TYPES: Record<string, string> = {
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  svg: "image/svg+xml",
};

let cache: Map<string, Asset> | undefined;

/** Every asset by its URL path under /assets/. */
export function assets(): Map<string, Asset> {
  if (cache) return cache;
  const m = new Map<string, Asset>();
  // dist/web/assets.js and src/web/assets.ts both sit two levels below the package root
  const dir = fileURLToPath(new URL("../../src/web/assets/", import.meta.url));
  const onDisk = existsSync(`${dir}app.css`);
  for (const f of OWN_ASSETS) {
    const body = onDisk ? readFileSync(dir + f) : Buffer.from(EMBEDDED[f] ?? "", "utf8");
    m.set(f, { body, type: TYPES[f.split(".").pop()!]! });
  }
  const req = createRequire(import.meta.url);
  m.set("uPlot.iife.min.js", { body: readFileSync(req.resolve("uplot/dist/uPlot.iife.min.js")), type: TYPES["js"]! });
  m.set("uPlot.min.css", { body: readFileSync(req.resolve("uplot/dist/uPlot.min.css")), type: TYPES["css"]! });
  cache = m;
  return m;
}
