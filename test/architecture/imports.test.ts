import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { cycles, type Edge, graph, importsOf, readTree } from "./import-graph.js";

/**
 * The layers of DESIGN.md "The flow", bottom first: a module may import its own layer and the
 * layers in rows below it, never a row above it nor a peer in its own row. docs/architecture.md
 * draws the same table; change both together.
 *
 * Where the drawing alone does not say which way an arrow goes, the rows say it:
 * - `sensors/models` is the registry of sensor model definitions (identity, framing, register maps,
 *   datasheets): data that the config schema, doctor, features and the simulator read, as they read
 *   boards/*.json, so it sits below config and imports nothing above clock.
 * - outbox and mqtt are infrastructure: they store and carry opaque bytes for a topic they are
 *   given, and know nothing of topics, SenML or summaries (publish/ builds those and hands them down).
 * - `privacy/raw.ts` is the contract between the identifier parsers and the gate (DESIGN.md
 *   "Privacy boundary"), so it sits below sensors; the gates themselves emit summaries, above aggregate.
 * - control (health, heartbeat, commands, manifest) observes the pipeline; the pipeline reports
 *   into it through interfaces it defines itself, never by importing control.
 * - features wire one feature's sensors, aggregators and gates; runtime.ts wires a device.
 * - The tools (provision, install, watch; doctor, sim, ingest; web, whose pages run doctor) sit on top; the simulator's hardware is an io
 *   backend by contract (it implements src/io/contract.ts), and the CLI injects it.
 * - The CLI is the composition root and may import anything.
 */
const LAYERS: readonly (readonly string[])[] = [
  ["types", "log"],
  ["clock"],
  ["sensors/models"],
  ["config"],
  ["io"],
  ["outbox"],
  ["mqtt"],
  ["privacy/raw.ts"],
  ["sensors"],
  ["aggregate"],
  ["privacy"],
  ["publish"],
  ["control"],
  ["features"],
  ["runtime.ts"],
  ["provision", "install", "watch"],
  ["doctor", "sim", "ingest"],
  ["web"],
  ["cli"],
];
const COMPOSITION_ROOT = "cli";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The layer of a repository path (the longest matching entry), or undefined outside src/. */
function layerOf(path: string): string | undefined {
  if (!path.startsWith("src/")) return undefined;
  const rest = path.slice("src/".length);
  let best: string | undefined;
  for (const row of LAYERS)
    for (const name of row)
      if ((rest === name || rest.startsWith(`${name}/`)) && (best === undefined || name.length > best.length)) best = name;
  return best ?? `unlisted:${rest.split("/")[0]}`;
}

function rowOf(layer: string): number {
  return LAYERS.findIndex((row) => row.includes(layer));
}

/** An edge against the flow, as a line a reader can act on; undefined when the edge is fine. */
function against(e: Edge): string | undefined {
  const a = layerOf(e.from);
  const b = e.to === undefined ? undefined : layerOf(e.to);
  if (a === undefined || b === undefined || a === b || a === COMPOSITION_ROOT) return undefined;
  const where = `${e.from}:${e.line} imports ${e.spec}`;
  if (a.startsWith("unlisted:")) return `${where}: ${a.slice(9)} is in no layer; add it to LAYERS in test/architecture/imports.test.ts`;
  if (b.startsWith("unlisted:")) return `${where}: ${b.slice(9)} is in no layer; add it to LAYERS in test/architecture/imports.test.ts`;
  const ra = rowOf(a);
  const rb = rowOf(b);
  if (rb < ra) return undefined;
  return rb === ra ? `${where}: ${a} and ${b} are peers; neither may import the other` : `${where}: ${a} reaches up into ${b}`;
}

/** Production modules: colocated tests may reach wherever their fixtures are. */
const production = (f: string) => !f.endsWith(".test.ts");

describe("import graph of src/ (DESIGN.md: nothing reaches back up)", () => {
  const files = readTree(ROOT, "src");
  const edges = graph(files);

  it("reads the real tree", () => {
    expect(files.size).toBeGreaterThan(150);
    // the composition root's lazy command table is dynamic imports: the scan must see them
    expect(edges.some((e) => e.from === "src/cli/main.ts" && e.dynamic && e.to === "src/cli/run.ts")).toBe(true);
    expect(edges.some((e) => e.from === "src/sensors/rdm6300.ts" && e.to === "src/privacy/raw.ts")).toBe(true);
  });

  it("has no import cycle", () => {
    const found = cycles(edges.filter((e) => production(e.from)));
    expect(found.map((c) => `${c.cycle.join(" → ")} (the knot: ${c.component.join(", ")})`)).toEqual([]);
  });

  it("has no import against the flow", () => {
    const bad = edges.filter((e) => production(e.from)).flatMap((e) => against(e) ?? []);
    expect(bad).toEqual([]);
  });

  it("has no dynamic import it cannot read", () => {
    const unreadable = edges.filter((e) => e.dynamic && e.spec === "").map((e) => `${e.from}:${e.line}`);
    expect(unreadable).toEqual([]);
  });

  it("docs/architecture.md draws the same layers", () => {
    const doc = readFileSync(resolve(ROOT, "docs", "architecture.md"), "utf8");
    // rows like " 3  sensors/models        model definitions…" or "16  provision · install · watch"
    const rows = [...doc.matchAll(/^\s*(\d+)\s{2}(\S+(?: · \S+)*)/gm)].map((m) => m[2]!.split(" · "));
    expect(rows).toEqual(LAYERS);
  });

  it("puts every folder of src/ in a layer", () => {
    const unlisted = [...new Set([...files.keys()].map(layerOf).filter((l) => l?.startsWith("unlisted:")))];
    expect(unlisted).toEqual([]);
  });
});

describe("the checker itself (so a green run means something)", () => {
  const tree = (entries: Record<string, string>) => new Map(Object.entries(entries));

  it("finds static, re-export, side-effect, type and dynamic imports, and skips comments", () => {
    const src = [
      'import { a } from "./a.js";',
      'import type { B } from "../b/b.js";',
      "export {",
      "  c,",
      '} from "./c.js";',
      'import "./d.js";',
      'const e = await import("./e.js");',
      'type F = import("./f.js").F;',
      '// import { z } from "./z.js";',
      ' * const y = await import("./y.js");',
      'const g = await import(name + ".js");',
      'import { readFileSync } from "node:fs";',
    ].join("\n");
    const edges = importsOf("src/x/x.ts", src, () => false);
    expect(edges.map((e) => e.spec).sort()).toEqual(["", "../b/b.js", "./a.js", "./c.js", "./d.js", "./e.js", "./f.js", "node:fs"]);
    expect(edges.find((e) => e.spec === "../b/b.js")!.to).toBe("src/b/b.ts");
    expect(edges.find((e) => e.spec === "./c.js")!.line).toBe(3);
  });

  it("prints a cycle as a path back to its start", () => {
    const edges = graph(
      tree({
        "src/a/one.ts": 'import { two } from "./two.js";',
        "src/a/two.ts": 'import { three } from "../b/three.js";',
        "src/b/three.ts": 'export { one } from "../a/one.js";',
        "src/b/four.ts": 'import { one } from "../a/one.js";',
      }),
    );
    expect(cycles(edges)).toEqual([
      {
        cycle: ["src/a/one.ts", "src/a/two.ts", "src/b/three.ts", "src/a/one.ts"],
        component: ["src/a/one.ts", "src/a/two.ts", "src/b/three.ts"],
      },
    ]);
  });

  it("flags an upward arrow and a peer arrow, lets the CLI import anything", () => {
    const edges = graph(
      tree({
        "src/io/factory.ts": 'import { SimSite } from "../sim/site.js";',
        "src/sim/site.ts": 'import type { Edge } from "../io/contract.js";',
        "src/io/contract.ts": "export interface Edge {}",
        "src/doctor/x.ts": 'import { y } from "../sim/site.js";',
        "src/cli/run.ts": 'import { SimSite } from "../sim/site.js";',
        "src/aggregate/traffic.ts": 'import { raw } from "../privacy/raw.js";',
        "src/privacy/raw.ts": "",
      }),
    );
    expect(edges.flatMap((e) => against(e) ?? [])).toEqual([
      "src/io/factory.ts:1 imports ../sim/site.js: io reaches up into sim",
      "src/doctor/x.ts:1 imports ../sim/site.js: doctor and sim are peers; neither may import the other",
    ]);
    expect(layerOf("src/privacy/raw.ts")).toBe("privacy/raw.ts");
    expect(layerOf("src/privacy/gate-base.ts")).toBe("privacy");
    expect(layerOf("src/newthing/x.ts")).toBe("unlisted:newthing");
  });
});

/**
 * DESIGN.md "Time": every timestamp comes from a Clock. Reading the wall clock directly is allowed
 * only at these edges, each with its reason; anything else takes a Clock through its constructor.
 */
const WALL_CLOCK_EDGES: Readonly<Record<string, string>> = {
  "src/clock/real.ts": "the production Clock itself",
  "src/cli/": "the composition root: starts virtual clocks at the wall time, dates its output",
  "src/log/logger.ts": "the default of the logger's `now` seam; the device passes its clock",
  "src/publish/senml.ts": "resolveSenml's default `now`, for subscribers (watch, ingest); the device encodes with its clock",
  "src/sim/runner.ts": "paces virtual time against real time (--speed)",
  "src/sim/session.ts": "reports how long a simulation took in real time",
  "src/doctor/": "an on-site tool timing real round trips to a real broker",
  "src/provision/": "writes first-boot files on the technician's laptop",
  "src/watch/": "city-side subscriber, not the device",
  "src/web/": "city-side subscriber, not the device",
  "src/ingest/": "city-side subscriber, not the device",
};
const WALL_CLOCK_READ = /\bDate\.now\b|\bnew Date\(\s*\)/g;

function wallClockReads(files: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  for (const [f, src] of files) {
    if (!production(f) || Object.keys(WALL_CLOCK_EDGES).some((edge) => f === edge || (edge.endsWith("/") && f.startsWith(edge)))) continue;
    src.split("\n").forEach((line, i) => {
      const t = line.trimStart();
      if (t.startsWith("//") || t.startsWith("*")) return;
      if (WALL_CLOCK_READ.test(line)) out.push(`${f}:${i + 1}: ${t}`);
      WALL_CLOCK_READ.lastIndex = 0;
    });
  }
  return out;
}

describe("time only from the Clock (DESIGN.md: every timestamp comes from a Clock)", () => {
  it("no module outside the listed edges reads the wall clock itself", () => {
    expect(wallClockReads(readTree(ROOT, "src"))).toEqual([]);
  });

  it("the scan sees a read, and lets the edges and comments be", () => {
    const files = new Map([
      ["src/mqtt/session.ts", "const t = Date.now();\n// Date.now in a comment\n"],
      ["src/runtime.ts", "const d = new Date();\nconst e = new Date(ms);\n"],
      ["src/clock/real.ts", "return Date.now();"],
      ["src/cli/run.ts", "const t = Date.now();"],
    ]);
    expect(wallClockReads(files)).toEqual(["src/mqtt/session.ts:1: const t = Date.now();", "src/runtime.ts:1: const d = new Date();"]);
  });
});

/**
 * docs/architecture.md "Each folder has a public face": type imports go through a folder's index.ts
 * (they are erased when compiled, so the index costs nothing at start); value imports may name a
 * module where the index would load more. Checked for the folders whose faces came last; the others'
 * importers move over as they are next edited.
 */
const FACED = ["clock", "control", "publish", "watch", "web"];
/** Folders and files still naming modules directly while their owners finish other work (the doc lists them). */
const PENDING = ["src/aggregate/", "src/mqtt/", "src/sim/", "src/cli/run.ts", "src/cli/run-steps.ts"];
const TYPE_IMPORT = /^[ \t]*import\s+type\s*\{[^}]*\}\s*from\s*"([^"]+)"/gm;
const VALUE_IMPORT = /^[ \t]*import\s*\{[^}]*\}\s*from\s*"([^"]+)"/gm;

function folderOf(path: string): string | undefined {
  const parts = path.split("/");
  return parts.length > 2 ? parts[1] : undefined;
}

/** Type imports of a faced folder's module from another folder, where the index would do. */
function typeImportsPastTheFace(files: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  for (const [f, src] of files) {
    if (!production(f) || PENDING.some((p) => f === p || (p.endsWith("/") && f.startsWith(p)))) continue;
    const resolve = (spec: string) => normalizeSpec(f, spec);
    const values = new Set([...src.matchAll(VALUE_IMPORT)].map((m) => resolve(m[1]!)));
    for (const m of src.matchAll(TYPE_IMPORT)) {
      const to = resolve(m[1]!);
      const folder = to === undefined ? undefined : folderOf(to);
      if (to === undefined || folder === undefined || !FACED.includes(folder) || folderOf(f) === folder) continue;
      if (to.endsWith("/index.ts") || values.has(to)) continue;
      out.push(`${f}: import type … from "${m[1]}" (use ../${folder}/index.js)`);
    }
  }
  return out;
}

/** The repository path a relative specifier names (".js" → ".ts"), undefined for packages. */
function normalizeSpec(from: string, spec: string): string | undefined {
  if (!spec.startsWith(".")) return undefined;
  const parts = from.split("/").slice(0, -1);
  for (const seg of spec.replace(/\.js$/, ".ts").split("/")) {
    if (seg === "..") parts.pop();
    else if (seg !== ".") parts.push(seg);
  }
  return parts.join("/");
}

describe("public faces (docs/architecture.md: each folder has an index.ts)", () => {
  const files = readTree(ROOT, "src");

  it("every folder of src/ but the root (cli) and ambient declarations (types) has an index.ts", () => {
    const folders = new Set([...files.keys()].map(folderOf).filter((d): d is string => d !== undefined));
    const without = [...folders].filter((d) => d !== "cli" && d !== "types" && !files.has(`src/${d}/index.ts`));
    expect(without).toEqual([]);
  });

  it("type imports of clock, control, publish, watch and web from other folders go through the index", () => {
    expect(typeImportsPastTheFace(files)).toEqual([]);
  });

  it("the check sees a type import past the face, and lets an index, a kept value import and the folder itself be", () => {
    const found = typeImportsPastTheFace(
      new Map([
        ["src/features/a.ts", 'import type { Clock } from "../clock/clock.js";\nimport type { Topics } from "../publish/index.js";\n'],
        ["src/io/b.ts", 'import type { Clock } from "../clock/clock.js";\nimport { NS_PER_S } from "../clock/clock.js";\n'],
        ["src/clock/c.ts", 'import type { Clock } from "./clock.js";\n'],
      ]),
    );
    expect(found).toEqual(['src/features/a.ts: import type … from "../clock/clock.js" (use ../clock/index.js)']);
  });

  it("clock/index.ts leaves out the node-cron ticker", () => {
    expect(files.get("src/clock/index.ts")).not.toMatch(/from "\.\/cron\.js"/);
  });
});
