import type { Document, Node } from "yaml";
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument } from "yaml";
import type { ConfigIssue } from "./issues.js";
import { clip } from "./issues.js";

/**
 * Reading config text (YAML, or JSON, which is YAML) into a plain value, safe against hostile input:
 * a remote `config` command runs this on the device's event loop, so every step is bounded in time
 * and memory, and every problem is a `path: message` issue, never an exception.
 *
 * - size: a device config is a few KB; more than `MAX_CONFIG_BYTES` is refused before parsing;
 * - nesting: flow brackets are counted before parsing (the parser recurses per level), and the
 *   parsed value is checked again (block nesting, JSON objects given directly);
 * - aliases: an alias that names no anchor, and expansions beyond `MAX_ALIASES` (alias bombs);
 * - tags: none. `!!binary`, `!!set`, `!custom`… have no place in a config and some resolve to
 *   objects the schema would echo back in full;
 * - duplicate keys: found with one Set per mapping (the parser's own check compares every key with
 *   every other, which took minutes for 20,000 keys).
 */
export const MAX_CONFIG_BYTES = 1024 * 1024;
export const MAX_DEPTH = 64;
const MAX_ALIASES = 100;
/** Issues reported before the rest are summarised in one line (hostile files can have millions). */
export const MAX_ISSUES = 1000;

export type ReadResult = { ok: true; value: unknown } | { ok: false; issues: ConfigIssue[] };

export function readConfigText(text: string): ReadResult {
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_CONFIG_BYTES) {
    return fail(
      [],
      `the config is ${bytes} bytes; a device config is a few KB, the limit is ${MAX_CONFIG_BYTES} bytes: is this the right file?`,
    );
  }
  const lineCounter = new LineCounter();
  const deep = flowDepth(text);
  if (deep !== undefined) {
    return {
      ok: false,
      issues: [
        { path: [], location: locate(text, deep), message: `brackets nested deeper than ${MAX_DEPTH} levels; a config needs a handful` },
      ],
    };
  }
  let doc: Document.Parsed;
  try {
    // uniqueKeys off: checked below in linear time; known tags unresolved: every tag is refused below
    doc = parseDocument(text, { prettyErrors: false, uniqueKeys: false, resolveKnownTags: false, lineCounter });
  } catch (err) {
    return fail([], `cannot parse: ${clip((err as Error).message)}; fix the YAML syntax`);
  }
  if (doc.errors.length > 0) {
    return {
      ok: false,
      issues: doc.errors.slice(0, MAX_ISSUES).map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return {
          path: [],
          location: `line ${pos.line}, column ${pos.col}`,
          message: `${clip(e.message.split("\n")[0] ?? "")}; fix the YAML syntax`,
        };
      }),
    };
  }
  const issues: ConfigIssue[] = [];
  walk(doc, doc.contents, [], 0, issues, lineCounter);
  if (issues.length > 0) return { ok: false, issues: capped(issues) };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err) {
    const msg = (err as Error).message;
    if (/alias/i.test(msg)) return fail([], `aliases (*name) expand to too much data (${clip(msg)}); write the values out instead`);
    return fail([], `cannot read the YAML: ${clip(msg)}`);
  }
  const depth = valueDepthPath(value);
  if (depth) return fail(depth, `nested deeper than ${MAX_DEPTH} levels; a config needs a handful`);
  return { ok: true, value };
}

/** The path at which a plain value nests deeper than MAX_DEPTH, if it does (iterative: no stack to overflow). */
export function valueDepthPath(value: unknown): (string | number)[] | undefined {
  const stack: { v: unknown; path: (string | number)[] }[] = [{ v: value, path: [] }];
  while (stack.length > 0) {
    const { v, path } = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (path.length >= MAX_DEPTH) return path.slice(0, 8);
    if (Array.isArray(v))
      v.forEach((x, i) => {
        stack.push({ v: x, path: [...path, i] });
      });
    else for (const [k, x] of Object.entries(v as Record<string, unknown>)) stack.push({ v: x, path: [...path, k] });
  }
  return undefined;
}

function walk(doc: Document.Parsed, node: unknown, path: (string | number)[], depth: number, issues: ConfigIssue[], lc: LineCounter): void {
  if (issues.length > MAX_ISSUES || node === null || node === undefined) return;
  if (depth > MAX_DEPTH) {
    issues.push({ path: path.slice(0, 8), message: `nested deeper than ${MAX_DEPTH} levels; a config needs a handful` });
    return;
  }
  const n = node as Node;
  if (isAlias(n)) {
    if (!n.resolve(doc))
      issues.push({
        path,
        message: `the alias *${clip(n.source, 40)} names no anchor (&${clip(n.source, 40)}) defined before it; define the anchor first or write the value out`,
      });
    return;
  }
  if ((isScalar(n) || isMap(n) || isSeq(n)) && n.tag !== undefined) {
    issues.push({
      path,
      message: `the YAML tag ${clip(n.tag, 40)} is not supported in a config; write a plain value (string, number, true/false, list or mapping)`,
    });
    return;
  }
  if (isMap(n)) {
    const seen = new Set<string>();
    for (const item of n.items) {
      if (!isPair(item)) continue;
      const k = item.key as Node | null;
      if (k && (isMap(k) || isSeq(k) || isAlias(k) || (isScalar(k) && k.tag !== undefined))) {
        issues.push({ path, message: "a key must be a plain name; write it as text" });
        continue;
      }
      const key = isScalar(k) ? String(k.value) : "";
      if (seen.has(key)) {
        const line = k?.range ? ` (again on line ${lc.linePos(k.range[0]).line})` : "";
        issues.push({ path: [...path, key], message: `this key appears twice in the same mapping${line}; keep one` });
      }
      seen.add(key);
      walk(doc, item.value, [...path, key], depth + 1, issues, lc);
    }
  } else if (isSeq(n)) {
    n.items.forEach((x, i) => {
      walk(doc, x, [...path, i], depth + 1, issues, lc);
    });
  }
}

/** The offset where flow brackets first nest deeper than MAX_DEPTH, if they do (strings and comments skipped). */
function flowDepth(text: string): number | undefined {
  let depth = 0;
  let quote = "";
  let comment = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (comment) {
      if (c === "\n") comment = false;
      continue;
    }
    if (quote) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = "";
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === "#" && (i === 0 || /\s/.test(text[i - 1]!))) comment = true;
    else if (c === "[" || c === "{") {
      if (++depth > MAX_DEPTH) return i;
    } else if ((c === "]" || c === "}") && depth > 0) depth--;
  }
  return undefined;
}

function locate(text: string, offset: number): string {
  let line = 1;
  let last = -1;
  for (let i = 0; i < offset; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      last = i;
    }
  }
  return `line ${line}, column ${offset - last}`;
}

function fail(path: (string | number)[], message: string): ReadResult {
  return { ok: false, issues: [{ path, message }] };
}

/** At most MAX_ISSUES issues, then one line saying how many more. */
export function capped(issues: ConfigIssue[]): ConfigIssue[] {
  if (issues.length <= MAX_ISSUES) return issues;
  const more = issues.length - MAX_ISSUES;
  return [...issues.slice(0, MAX_ISSUES), { path: [], message: `${more} more problem(s) not shown; fix the ones above first` }];
}
