import type * as z from "zod";
import { show } from "./types.js";

/** One problem in a config: where, and what to do about it. */
export interface ConfigIssue {
  path: (string | number)[];
  message: string;
  /** Where in the file, for problems that have no config path (YAML syntax): "line 3, column 5". */
  location?: string;
}

/** `inputs["lane1.up"].line`: dotted where the key is a plain identifier, bracketed otherwise. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else if (typeof seg === "string" && /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out || "(top level)";
}

/** `path: message`, the one line format of every config error. */
export function formatIssue(issue: ConfigIssue): string {
  return `${issue.location ?? formatPath(issue.path)}: ${issue.message}`;
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

/** Levenshtein distance, for "did you mean" hints. */
export function distance(a: string, b: string): number {
  const d: number[] = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length]!;
}

/** The closest of `candidates` to `word`, if close enough to be a likely typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const dd = distance(word, c);
    if (dd < bestD) {
      bestD = dd;
      best = c;
    }
  }
  // a one-letter name is too short to have a typo of another name
  return best !== undefined && bestD <= Math.min(Math.max(2, Math.floor(word.length / 3)), word.length - 1) ? best : undefined;
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
            message: hint ? `unknown setting; did you mean ${hint}?` : `unknown setting; remove it (known here: ${known.join(", ") || "none"})`,
          });
        }
        break;
      }
      case "invalid_type":
        if (value === undefined) {
          out.push({ path, message: iss.message.startsWith("Invalid input") ? `is required (expected ${iss.expected})` : iss.message });
        } else {
          out.push({ path, message: iss.message.startsWith("Invalid input") ? `expected ${iss.expected}, got ${show(value)}` : iss.message });
        }
        break;
      case "invalid_value":
        out.push({ path, message: `got ${show(value)}; use one of ${iss.values.map((v) => JSON.stringify(v)).join(", ")}` });
        break;
      case "too_small":
      case "too_big": {
        const limit = iss.code === "too_small" ? iss.minimum : iss.maximum;
        const custom = !iss.message.startsWith("Too ");
        const what = iss.code === "too_small" ? "below the minimum" : "above the maximum";
        out.push({ path, message: custom ? iss.message : `${show(value)} is ${what} ${String(limit)}` });
        break;
      }
      case "invalid_format":
        out.push({ path, message: `${show(value)} is not a valid ${iss.format}` });
        break;
      default:
        out.push({ path, message: iss.message });
    }
  }
  return out;
}
