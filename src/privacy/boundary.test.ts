import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * The raw-identifier boundary, enforced on the source tree: only the identifier parsers and the
 * privacy gate may import `src/privacy/raw.ts` (the RawIdentifier brand, the GATE mark and
 * mintRawIdentifier); nobody re-exports it; only parsers mint. Tests may import it for doubles.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const RAW = "src/privacy/raw.ts";
/** This file, whose bad examples below are text, not imports. */
const SELF = "src/privacy/boundary.test.ts";
const PARSERS = new Set(["src/sensors/probe-scanner.ts", "src/sensors/rdm6300.ts"]);

/** Tests and benchmarks may import raw.ts for test doubles and null sinks; they never run on a device. */
function isTest(file: string): boolean {
  return file.endsWith(".test.ts") || file.startsWith("test/") || file.startsWith("scripts/bench/");
}

function mayImportRaw(file: string): boolean {
  return PARSERS.has(file) || (file.startsWith("src/privacy/") && !file.slice("src/privacy/".length).includes("/")) || isTest(file);
}

function listTs(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory()) out.push(...listTs(p));
    else if (/\.(ts|mts|cts|js|mjs)$/.test(e.name)) out.push(p);
  }
  return out;
}

/** Resolve a relative module specifier to a repository path (`.js` → `.ts`, as NodeNext writes them). */
function target(from: string, spec: string): string | undefined {
  if (!spec.startsWith(".")) return undefined;
  // dist/ is the build of src/
  const abs = normalize(join(dirname(from), spec)).replace(/^dist\//, "src/");
  return abs.replace(/\.(js|mjs|cjs)$/, ".ts").replace(/^(?!.*\.ts$)(.*)$/, "$1.ts");
}

const SPECIFIERS = [
  /\bfrom\s*["']([^"']+)["']/g, // import … from, export … from
  /\bimport\s*["']([^"']+)["']/g, // side-effect import
  /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g, // dynamic import
  /\brequire\s*\(\s*["']([^"']+)["']\s*\)/g,
  /\bimport\s*\(\s*["']([^"']+)["']\s*\)\s*\./g, // import("…").Type in type positions
];
const REEXPORT = /\bexport\s+(?:type\s+)?(?:\*|\{[^}]*\})\s*(?:as\s+\w+\s*)?from\s*["']([^"']+)["']/g;

interface Violation {
  file: string;
  rule: string;
}

/** Every boundary violation in a set of files (path → source). */
function violations(files: ReadonlyMap<string, string>): Violation[] {
  const out: Violation[] = [];
  for (const [file, src] of files) {
    if (file === RAW || file === SELF) continue;
    const hits = new Set<string>();
    for (const re of SPECIFIERS) for (const m of src.matchAll(re)) if (target(file, m[1]!) === RAW) hits.add(m[1]!);
    if (hits.size > 0 && !mayImportRaw(file)) out.push({ file, rule: `imports ${RAW}; only the identifier parsers and src/privacy/ may` });
    for (const m of src.matchAll(REEXPORT)) if (target(file, m[1]!) === RAW) out.push({ file, rule: `re-exports ${RAW}` });
    if (/\bmintRawIdentifier\s*\(/.test(src) && !PARSERS.has(file) && !isTest(file))
      out.push({ file, rule: "mints raw identifiers; only the identifier parsers may" });
  }
  return out;
}

function tree(): Map<string, string> {
  const files = new Map<string, string>();
  for (const dir of ["src", "test", "scripts"]) {
    try {
      for (const f of listTs(dir)) files.set(f, readFileSync(join(ROOT, f), "utf8"));
    } catch {
      // a folder that does not exist has nothing to check
    }
  }
  return files;
}

describe("raw-identifier boundary (source tree scan)", () => {
  it("no module outside the parsers and the gate imports, re-exports or mints raw identifiers", () => {
    const files = tree();
    expect(files.size).toBeGreaterThan(50);
    expect(violations(files)).toEqual([]);
  });

  it("the parsers and the gate do import it (the scan sees real imports)", () => {
    const files = tree();
    const importers = [...files]
      .filter(([f, src]) => f !== RAW && SPECIFIERS.some((re) => [...src.matchAll(re)].some((m) => target(f, m[1]!) === RAW)))
      .map(([f]) => f);
    expect(importers).toEqual(
      expect.arrayContaining([
        "src/sensors/probe-scanner.ts",
        "src/sensors/rdm6300.ts",
        "src/privacy/probe-gate.ts",
        "src/privacy/tag-gate.ts",
      ]),
    );
    expect(relative(ROOT, join(ROOT, RAW))).toBe(RAW);
  });

  it("catches a feature that imports the raw type, a re-export, a dynamic import and a stray mint", () => {
    const bad = new Map([
      ["src/features/presence.ts", 'import type { RawIdentifier } from "../privacy/raw.js";\n'],
      ["src/privacy/index.ts", 'export type { RawIdentifier } from "./raw.js";\n'],
      ["src/control/manifest.ts", 'const m = await import("../privacy/raw.js");\n'],
      ["src/log/logger.ts", 'type X = import("../privacy/raw").RawIdentifier;\n'],
      ["src/privacy/probe-gate.ts", "const id = mintRawIdentifier(buf);\n"],
      ["src/sensors/maxbotix.ts", 'import { GATE } from "../privacy/raw.js";\n'],
      ["scripts/tool.mjs", 'import { mintRawIdentifier } from "../dist/privacy/raw.js";\n'],
    ]);
    expect(violations(bad).map((v) => v.file)).toEqual([
      "src/features/presence.ts",
      "src/privacy/index.ts",
      "src/control/manifest.ts",
      "src/log/logger.ts",
      "src/privacy/probe-gate.ts",
      "src/sensors/maxbotix.ts",
      "scripts/tool.mjs",
    ]);
  });
});
