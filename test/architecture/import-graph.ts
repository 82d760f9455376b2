import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";

/**
 * The import graph of src/, read from the source text (no compiler API: TypeScript 7 ships none we
 * could rely on). Imports after `biome format` start a line (`import …`/`export … from`), so
 * statement-start patterns find them without a tokenizer; comment lines are dropped first so a doc
 * comment quoting `import("x")` is not an edge.
 */

/** One import: from a file, the specifier as written, the repository path it resolves to (relative ones only). */
export interface Edge {
  from: string;
  spec: string;
  to: string | undefined;
  line: number;
  dynamic: boolean;
}

const STATIC = /^[ \t]*(?:import|export)\b(?:[^;"'`]|\n)*?\bfrom\s*["']([^"']+)["']/gm;
const SIDE_EFFECT = /^[ \t]*import\s*["']([^"']+)["']/gm;
const DYNAMIC = /\bimport\s*\(\s*(["'`]?)([^"'`)]*)\1/g;

/** Blank out comment lines and trailing `//` comments, keeping line numbers and offsets. */
function withoutComments(src: string): string {
  return src
    .split("\n")
    .map((l) => {
      const t = l.trimStart();
      if (t.startsWith("//") || t.startsWith("*") || t.startsWith("/*")) return " ".repeat(l.length);
      return l;
    })
    .join("\n");
}

function lineOf(src: string, index: number): number {
  let n = 1;
  for (let i = 0; i < index; i++) if (src.charCodeAt(i) === 10) n++;
  return n;
}

/** Resolve a relative specifier to a repository path: NodeNext writes `./x.js` for `./x.ts`. */
export function resolveSpec(from: string, spec: string, exists: (path: string) => boolean): string | undefined {
  if (!spec.startsWith(".")) return undefined;
  const base = normalize(join(dirname(from), spec));
  const candidates = [base.replace(/\.(m|c)?js$/, ".ts"), `${base}.ts`, join(base, "index.ts"), base];
  return candidates.find(exists) ?? candidates[0];
}

/** Every import of one file. A dynamic `import()` whose argument is not a literal is reported with spec "". */
export function importsOf(file: string, source: string, exists: (path: string) => boolean): Edge[] {
  const src = withoutComments(source);
  const out: Edge[] = [];
  const add = (spec: string, index: number, dynamic: boolean) =>
    out.push({ from: file, spec, to: resolveSpec(file, spec, exists), line: lineOf(src, index), dynamic });
  for (const m of src.matchAll(STATIC)) add(m[1]!, m.index, false);
  for (const m of src.matchAll(SIDE_EFFECT)) add(m[1]!, m.index, false);
  for (const m of src.matchAll(DYNAMIC)) add(m[1] === "" ? "" : m[2]!, m.index, true);
  return out;
}

/** Every .ts file under a folder, as repository paths. */
export function listTs(root: string, dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory()) out.push(...listTs(root, p));
    else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) out.push(p);
  }
  return out.sort();
}

export function readTree(root: string, dir: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const f of listTs(root, dir)) files.set(f, readFileSync(join(root, f), "utf8"));
  return files;
}

/** The import edges of a set of files (path → source), each resolved against the set. */
export function graph(files: ReadonlyMap<string, string>): Edge[] {
  const exists = (p: string) => files.has(p);
  return [...files].flatMap(([f, src]) => importsOf(f, src, exists));
}

/**
 * Every elementary cycle would be exponential; one cycle per strongly connected component (Tarjan),
 * printed as a path that returns to its start with the whole component beside it, names the knot to cut.
 */
export function cycles(edges: readonly Edge[]): { cycle: string[]; component: string[] }[] {
  const next = new Map<string, Set<string>>();
  for (const e of edges) {
    if (e.to === undefined || e.to === e.from) continue;
    const s = next.get(e.from) ?? new Set<string>();
    next.set(e.from, s);
    s.add(e.to);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const c: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        c.push(w);
      } while (w !== v);
      if (c.length > 1) components.push(c);
    }
  };
  for (const v of [...next.keys()].sort()) if (!index.has(v)) visit(v);
  return components.map((c) => ({ cycle: shortestCycle(c, next), component: c.sort() }));
}

/** The shortest cycle through the component's first file (breadth-first), as file → … → same file. */
function shortestCycle(component: string[], next: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const inside = new Set(component);
  const start = [...component].sort()[0]!;
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of next.get(v) ?? []) {
      if (!inside.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u = v; u !== start; u = prev.get(u)!) path.unshift(u);
        path.unshift(start);
        return path;
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return component;
}
