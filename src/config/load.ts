import { readFileSync } from "node:fs";
import type * as z from "zod";
import type { Board, BoardLine } from "./boards.js";
import { loadBoards } from "./boards.js";
import type { ConfigIssue } from "./issues.js";
import { configHash } from "./config-hash.js";
import { closest, fromZod } from "./issues.js";
import type { DeviceConfig } from "./schema.js";
import { configSchema } from "./schema.js";
import { keysAt } from "./schema-walk.js";
import { capped, MAX_DEPTH, readConfigText, valueDepthPath } from "./yaml-input.js";
import type { CheckContext } from "./semantic.js";
import { CHECKS } from "./semantic.js";

/** A config that passed every check, with its board and resolved lines. */
export interface LoadedConfig {
  config: DeviceConfig;
  board: Board;
  /** Input name → board line. */
  lines: Map<string, BoardLine>;
  /** sha256 of the parsed config (defaults applied), hex; published in the manifest. */
  hash: string;
}

export type ValidationResult = { ok: true; loaded: LoadedConfig; issues: [] } | { ok: false; issues: ConfigIssue[] };

export interface ValidateOptions {
  boards?: ReadonlyMap<string, Board>;
}

/**
 * Validate a config object: the schema first, section by section, then the semantic checks on every
 * section that parsed. Reports every problem found, in file order.
 */
export function validateConfig(raw: unknown, opts: ValidateOptions = {}): ValidationResult {
  const boards = opts.boards ?? loadBoards();
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    return {
      ok: false,
      issues: [{ path: [], message: "the config must be a mapping with at least device: { id, board }; see docs/config.md" }],
    };
  }
  // a config given as an object (a remote command's JSON) gets the same bound as text
  const deep = valueDepthPath(raw);
  if (deep) return { ok: false, issues: [{ path: deep, message: `nested deeper than ${MAX_DEPTH} levels; a config needs a handful` }] };
  const obj = raw as Record<string, unknown>;
  const shape = configSchema.shape;
  const issues: ConfigIssue[] = [];
  const failed = new Set<string>();
  const parsed: Record<string, unknown> = {};
  const sectionNames = Object.keys(shape);
  for (const key of Object.keys(obj)) {
    if (!(key in shape)) {
      const hint = closest(key, sectionNames);
      issues.push({
        path: [key],
        message: hint
          ? `unknown section; did you mean ${hint}?`
          : `unknown section; known sections: ${sectionNames.filter((s) => s !== "$schema").join(", ")}`,
      });
    }
  }
  for (const [key, schema] of Object.entries(shape)) {
    const r = schema.safeParse(obj[key]);
    if (r.success) {
      parsed[key] = r.data;
      continue;
    }
    const sub = fromZod(r.error, obj[key], (p) => keysAt(configSchema, [key, ...p]));
    for (const i of sub) issues.push({ path: [key, ...i.path], message: i.message });
    // Parse a repaired copy (bad values removed) so the semantic checks still see the rest.
    const repaired = repair(
      schema,
      obj[key],
      sub.map((i) => i.path),
    );
    if (repaired.ok) parsed[key] = repaired.data;
    else failed.add(key);
  }
  if (!failed.has("device")) {
    const config = parsed as DeviceConfig;
    // every reported path, and every prefix of one: "is this path or something under it reported"
    // and "is this path under a reported one" become set lookups, linear in the number of issues
    const reported = new Set(issues.map((i) => i.path.join("\u0000")));
    const underReported = new Set<string>();
    for (const i of issues) for (let n = 0; n <= i.path.length; n++) underReported.add(i.path.slice(0, n).join("\u0000"));
    const ctx: CheckContext = {
      touched: (path) => underReported.has(path.join("\u0000")),
      config: withDefaults(config, failed),
      board: boards.get(config.device.board),
      boards,
      lines: new Map(),
      failed,
    };
    for (const check of CHECKS) {
      for (const issue of check(ctx)) {
        // a semantic complaint about a value the schema already rejected (and repair removed) is noise
        const self = issue.path.length === 0 && reported.has("");
        if (self || issue.path.some((_, n) => reported.has(issue.path.slice(0, n + 1).join("\u0000")))) continue;
        issues.push(issue);
      }
    }
    if (issues.length === 0 && ctx.board) {
      return { ok: true, issues: [], loaded: { config: ctx.config, board: ctx.board, lines: ctx.lines, hash: configHash(ctx.config) } };
    }
  }
  // file order of the top-level sections; a stable sort keeps each section's own order (O(n log n))
  const rank = new Map(Object.keys(obj).map((k, i) => [k, i]));
  const last = rank.size;
  const keyed = issues.map((issue) => ({ issue, r: rank.get(String(issue.path[0])) ?? last }));
  keyed.sort((a, b) => a.r - b.r);
  return { ok: false, issues: capped(keyed.map((k) => k.issue)) };
}

/** Remove the values at `paths` (relative to the section) and parse again, a few rounds at most. */
function repair(schema: z.ZodType, value: unknown, paths: (string | number)[][]): { ok: true; data: unknown } | { ok: false } {
  let v: unknown = structuredClone(value);
  let bad = paths;
  for (let round = 0; round < 4; round++) {
    if (bad.some((p) => p.length === 0)) return { ok: false };
    for (const p of bad) v = without(v, p);
    const r = schema.safeParse(v);
    if (r.success) return { ok: true, data: r.data };
    bad = r.error.issues.map((i) => i.path.map((x) => (typeof x === "symbol" ? String(x) : x)));
    if (r.error.issues.some((i) => i.code === "unrecognized_keys")) {
      bad = r.error.issues.flatMap((i) =>
        i.code === "unrecognized_keys" ? i.keys.map((k) => [...i.path.map(String), k]) : [i.path.map(String)],
      );
    }
  }
  return { ok: false };
}

function without(v: unknown, path: (string | number)[]): unknown {
  if (path.length === 0 || v === null || typeof v !== "object") return v;
  const [head, ...rest] = path;
  const o = v as Record<string, unknown>;
  if (rest.length === 0) {
    if (Array.isArray(o)) o.splice(Number(head), 1);
    else delete o[String(head)];
  } else {
    o[String(head)] = without(o[String(head)], rest);
  }
  return v;
}

/** Sections that failed to parse are replaced by empty ones, so checks of other sections still run. */
function withDefaults(config: DeviceConfig, failed: ReadonlySet<string>): DeviceConfig {
  const c = { ...config } as Record<string, unknown>;
  for (const key of failed)
    c[key] = key === "sim" ? undefined : (configSchema.shape[key as keyof typeof configSchema.shape].safeParse(undefined).data ?? {});
  return c as DeviceConfig;
}

/** Parse YAML or JSON text (JSON is YAML) and validate it. Syntax errors are issues too. */
export function parseConfigText(text: string, opts: ValidateOptions = {}): ValidationResult {
  const read = readConfigText(text);
  if (!read.ok) return read;
  return validateConfig(read.value, opts);
}

/** Read and validate a config file. A missing or unreadable file is one issue naming the path. */
export function loadConfigFile(path: string, opts: ValidateOptions = {}): ValidationResult {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "no such file; check the path, or write one with `roadside provision`"
        : code === "EACCES"
          ? "permission denied; run as a user who can read it"
          : String(err);
    return { ok: false, issues: [{ path: [], message: `cannot read ${path}: ${why}` }] };
  }
  return parseConfigText(text, opts);
}

// zod-free, so the runtime and the off-thread loader use them without loading the schema (issue 15)
export { configHash } from "./config-hash.js";
export { formatIssues } from "./issue-format.js";
