import type * as z from "zod";

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  valueType?: z.ZodType;
  element?: z.ZodType;
  in?: z.ZodType;
}

function def(s: z.ZodType): Def {
  return (s as unknown as { _zod: { def: Def } })._zod.def;
}

function unwrap(s: z.ZodType): z.ZodType {
  for (;;) {
    const d = def(s);
    if ((d.type === "optional" || d.type === "default" || d.type === "nullable" || d.type === "prefault") && d.innerType) s = d.innerType;
    else if (d.type === "pipe" && d.in) s = d.in;
    else return s;
  }
}

/** The schema at `path` inside `root` (records and arrays step over their keys), or undefined. */
export function schemaAt(root: z.ZodType, path: readonly PropertyKey[]): z.ZodType | undefined {
  let s: z.ZodType | undefined = root;
  for (const seg of path) {
    if (!s) return undefined;
    const d = def(unwrap(s));
    if (d.type === "object" && d.shape) s = d.shape[String(seg)];
    else if (d.type === "record" && d.valueType) s = d.valueType;
    else if (d.type === "array" && d.element) s = d.element;
    else return undefined;
  }
  return s;
}

/** Keys an object schema at `path` accepts (empty when it is not an object). */
export function keysAt(root: z.ZodType, path: readonly PropertyKey[]): string[] {
  const s = schemaAt(root, path);
  if (!s) return [];
  const d = def(unwrap(s));
  return d.type === "object" && d.shape ? Object.keys(d.shape).filter((k) => k !== "$schema") : [];
}

/**
 * Visit every entry of every record (`z.record`, i.e. a map of user-named things: inputs, manholes,
 * identifiers.scanners…) inside `value`, guided by `root`. `path` is where the record sits.
 */
export function forEachRecordEntry(
  root: z.ZodType,
  value: unknown,
  visit: (path: string[], key: string, entry: unknown) => void,
  path: string[] = [],
): void {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return;
  const d = def(unwrap(root));
  const v = value as Record<string, unknown>;
  if (d.type === "record" && d.valueType) {
    for (const [k, entry] of Object.entries(v)) visit(path, k, entry);
  } else if (d.type === "object" && d.shape) {
    for (const [k, child] of Object.entries(d.shape)) forEachRecordEntry(child, v[k], visit, [...path, k]);
  }
}
