import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { LineCounter, parseDocument } from "yaml";
import type * as z from "zod";
import type { Board, BoardLine } from "./boards.js";
import { loadBoards } from "./boards.js";
import type { ConfigIssue } from "./issues.js";
import { closest, formatIssue, fromZod } from "./issues.js";
import type { DeviceConfig } from "./schema.js";
import { configSchema } from "./schema.js";
import { keysAt } from "./schema-walk.js";
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
    return { ok: false, issues: [{ path: [], message: "the config must be a mapping with at least device: { id, board }; see docs/config.md" }] };
  }
  const obj = raw as Record<string, unknown>;
  const shape = configSchema.shape;
  const issues: ConfigIssue[] = [];
  const failed = new Set<string>();
  const parsed: Record<string, unknown> = {};
  const sectionNames = Object.keys(shape);
  for (const key of Object.keys(obj)) {
    if (!(key in shape)) {
      const hint = closest(key, sectionNames);
      issues.push({ path: [key], message: hint ? `unknown section; did you mean ${hint}?` : `unknown section; known sections: ${sectionNames.filter((s) => s !== "$schema").join(", ")}` });
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
    const repaired = repair(schema, obj[key], sub.map((i) => i.path));
    if (repaired.ok) parsed[key] = repaired.data;
    else failed.add(key);
  }
  if (!failed.has("device")) {
    const config = parsed as DeviceConfig;
    const reported = issues.map((i) => i.path.join("\u0000"));
    const ctx: CheckContext = {
      touched: (path) => {
        const p = path.join("\u0000");
        return reported.some((r) => r === p || r.startsWith(`${p}\u0000`));
      },
      config: withDefaults(config, failed),
      board: boards.get(config.device.board),
      boards,
      lines: new Map(),
      failed,
    };
    for (const check of CHECKS) {
      for (const issue of check(ctx)) {
        // a semantic complaint about a value the schema already rejected (and repair removed) is noise
        const p = issue.path.join("\u0000");
        if (reported.some((r) => p === r || p.startsWith(`${r}\u0000`))) continue;
        issues.push(issue);
      }
    }
    if (issues.length === 0 && ctx.board) {
      return { ok: true, issues: [], loaded: { config: ctx.config, board: ctx.board, lines: ctx.lines, hash: configHash(ctx.config) } };
    }
  }
  issues.sort((a, b) => order(obj, a) - order(obj, b));
  return { ok: false, issues };
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
      bad = r.error.issues.flatMap((i) => (i.code === "unrecognized_keys" ? i.keys.map((k) => [...i.path.map(String), k]) : [i.path.map(String)]));
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
  for (const key of failed) c[key] = key === "sim" ? undefined : configSchema.shape[key as keyof typeof configSchema.shape].safeParse(undefined).data ?? {};
  return c as DeviceConfig;
}

/** Position of an issue's top-level section in the file, so errors print in file order. */
function order(obj: Record<string, unknown>, issue: ConfigIssue): number {
  const keys = Object.keys(obj);
  const i = keys.indexOf(String(issue.path[0]));
  return i === -1 ? keys.length : i;
}

/** Canonical hash of a parsed config: keys sorted, so formatting and key order do not change it. */
export function configHash(config: DeviceConfig): string {
  const canon = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(canon);
    if (v && typeof v === "object") {
      return Object.fromEntries(Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined).map((k) => [k, canon((v as Record<string, unknown>)[k])]));
    }
    return v;
  };
  return createHash("sha256").update(JSON.stringify(canon(config))).digest("hex");
}

/** Parse YAML or JSON text (JSON is YAML) and validate it. Syntax errors are issues too. */
export function parseConfigText(text: string, opts: ValidateOptions = {}): ValidationResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      issues: doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return { path: [], location: `line ${pos.line}, column ${pos.col}`, message: `${e.message.split("\n")[0]}; fix the YAML syntax` };
      }),
    };
  }
  return validateConfig(doc.toJS({ maxAliasCount: 100 }), opts);
}

/** Read and validate a config file. A missing or unreadable file is one issue naming the path. */
export function loadConfigFile(path: string, opts: ValidateOptions = {}): ValidationResult {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file; check the path, or write one with `roadside provision`" : code === "EACCES" ? "permission denied; run as a user who can read it" : String(err);
    return { ok: false, issues: [{ path: [], message: `cannot read ${path}: ${why}` }] };
  }
  return parseConfigText(text, opts);
}

/** All issues as printable lines. */
export function formatIssues(issues: readonly ConfigIssue[]): string[] {
  return issues.map(formatIssue);
}
