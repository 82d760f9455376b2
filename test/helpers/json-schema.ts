/**
 * A small JSON Schema (2020-12) validator for the keywords docs/message.schema.json uses: type,
 * const, enum, properties, required, additionalProperties, items, oneOf, anyOf, $ref (local),
 * minimum, pattern. Enough to hold real messages against the published schema without a package.
 */
type Schema = Record<string, unknown>;

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

export function validate(root: Schema, value: unknown): string[] {
  return validateAt(root, root, value, "$");
}

function validateAt(root: Schema, schema: Schema, value: unknown, path: string): string[] {
  const errors: string[] = [];
  const check = (s: Schema | boolean, v: unknown, at: string): void => {
    if (s === true) return;
    if (s === false) {
      errors.push(`${at}: not allowed`);
      return;
    }
    if (typeof s["$ref"] === "string") {
      const ref = s["$ref"];
      if (!ref.startsWith("#/")) throw new Error(`only local $ref: ${ref}`);
      const target = ref
        .slice(2)
        .split("/")
        .reduce<unknown>((n, k) => (n as Record<string, unknown>)[k], root) as Schema;
      check(target, v, at);
    }
    const t = s["type"];
    if (t !== undefined) {
      const types = Array.isArray(t) ? (t as string[]) : [t as string];
      const actual = typeOf(v);
      if (!types.includes(actual) && !(actual === "integer" && types.includes("number")))
        errors.push(`${at}: expected ${types.join("|")}, got ${actual}`);
    }
    if ("const" in s && JSON.stringify(s["const"]) !== JSON.stringify(v)) errors.push(`${at}: expected ${JSON.stringify(s["const"])}`);
    if (Array.isArray(s["enum"]) && !(s["enum"] as unknown[]).some((e) => JSON.stringify(e) === JSON.stringify(v)))
      errors.push(`${at}: ${JSON.stringify(v)} not one of ${JSON.stringify(s["enum"])}`);
    if (typeof s["minimum"] === "number" && typeof v === "number" && v < s["minimum"]) errors.push(`${at}: ${v} < ${s["minimum"]}`);
    if (typeof s["pattern"] === "string" && typeof v === "string" && !new RegExp(s["pattern"], "u").test(v))
      errors.push(`${at}: ${JSON.stringify(v)} does not match ${s["pattern"]}`);
    if (typeOf(v) === "object") {
      const o = v as Record<string, unknown>;
      const props = (s["properties"] ?? {}) as Record<string, Schema>;
      for (const r of (s["required"] ?? []) as string[]) if (!(r in o)) errors.push(`${at}: missing ${r}`);
      for (const [k, val] of Object.entries(o)) {
        if (k in props) check(props[k]!, val, `${at}.${k}`);
        else if (s["additionalProperties"] !== undefined) check(s["additionalProperties"] as Schema | boolean, val, `${at}.${k}`);
      }
    }
    if (typeOf(v) === "array" && s["items"] !== undefined)
      (v as unknown[]).forEach((x, i) => {
        check(s["items"] as Schema, x, `${at}[${i}]`);
      });
    for (const key of ["oneOf", "anyOf"] as const) {
      const alts = s[key] as Schema[] | undefined;
      if (!alts) continue;
      const passing = alts.filter((a) => validateAt(root, a, v, at).length === 0).length;
      if (key === "oneOf" ? passing !== 1 : passing === 0)
        errors.push(`${at}: matches ${passing} of ${key} (want ${key === "oneOf" ? "exactly 1" : "at least 1"})`);
    }
  };
  check(schema, value, path);
  return errors;
}
