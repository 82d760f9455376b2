import type * as z from "zod";
import { show } from "./types.js";
import { clip } from "./issue-format.js";
import type { ConfigIssue } from "./issue-format.js";

/** `show` for messages: a hostile file's megabyte string or key is cut, not echoed. */
export function shown(v: unknown): string {
  return clip(typeof v === "string" && v.length > 200 ? JSON.stringify(v.slice(0, 200)) : show(v), 80);
}

/** The value at `path` inside `root`, or undefined. */
export function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const seg of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[seg as string];
  }
  return v;
}

/** Levenshtein distance, case-insensitive, for "did you mean" hints. */
export function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const d: number[] = Array.from({ length: y.length + 1 }, (_, i) => i);
  for (let i = 1; i <= x.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    const ci = x.charCodeAt(i - 1);
    for (let j = 1; j <= y.length; j++) {
      const tmp = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (ci === y.charCodeAt(j - 1) ? 0 : 1));
      prev = tmp;
    }
  }
  return d[y.length]!;
}

/** The closest of `candidates` to `word`, if close enough to be a likely typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  if (word.length > 64) return undefined; // no name is that long: not a typo, and distance() is quadratic
  // a one-letter name is too short to have a typo of another name
  const limit = Math.min(Math.max(2, Math.floor(word.length / 3)), word.length - 1);
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    if (Math.abs(c.length - word.length) > limit) continue; // the distance is at least the length difference
    const dd = distance(word, c);
    if (dd < bestD) {
      bestD = dd;
      best = c;
    }
  }
  return best !== undefined && bestD <= limit ? best : undefined;
}

/** Known keys of the object schema at `path`, for did-you-mean hints on unknown keys. */
export type KnownKeys = (path: readonly PropertyKey[]) => string[];

/**
 * Turn zod's issues into `path: message` issues that name the bad value and the fix. One zod issue
 * may become several (one per unknown key).
 */
export function fromZod(error: z.ZodError, input: unknown, knownKeys: KnownKeys): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const iss of error.issues) {
    const path = iss.path.map((p) => (typeof p === "symbol" ? String(p) : p));
    const value = valueAt(input, path);
    switch (iss.code) {
      case "unrecognized_keys": {
        const known = knownKeys(path);
        for (const key of iss.keys) {
          const hint = closest(key, known);
          out.push({
            path: [...path, key],
            message: hint
              ? `unknown setting; did you mean ${hint}?`
              : `unknown setting; remove it (known here: ${known.join(", ") || "none"})`,
          });
        }
        break;
      }
      case "invalid_type":
        if (value === undefined) {
          out.push({ path, message: iss.message.startsWith("Invalid input") ? `is required (expected ${iss.expected})` : iss.message });
        } else {
          out.push({
            path,
            message: iss.message.startsWith("Invalid input") ? `expected ${iss.expected}, got ${shown(value)}` : iss.message,
          });
        }
        break;
      case "invalid_value":
        out.push({ path, message: `got ${shown(value)}; use one of ${iss.values.map((v) => JSON.stringify(v)).join(", ")}` });
        break;
      case "too_small":
      case "too_big": {
        const limit = iss.code === "too_small" ? iss.minimum : iss.maximum;
        const custom = !iss.message.startsWith("Too ");
        const what = iss.code === "too_small" ? "below the minimum" : "above the maximum";
        out.push({ path, message: custom ? iss.message : `${shown(value)} is ${what} ${String(limit)}` });
        break;
      }
      case "invalid_format":
        out.push({ path, message: `${shown(value)} is not a valid ${iss.format}` });
        break;
      default:
        out.push({ path, message: iss.message });
    }
  }
  return out;
}

// zod-free, so callers print issues without loading the schema (issue 15); kept here for other importers
export { type ConfigIssue, clip, formatIssue, formatPath } from "./issue-format.js";
