// The config hash without the schema: the simulator's session imports it, so zod loads only where
// a config is validated (issue 15).
import { createHash } from "node:crypto";
import type { DeviceConfig } from "./schema.js";

/** Canonical hash of a parsed config: keys sorted, so formatting and key order do not change it. */
export function configHash(config: DeviceConfig): string {
  const canon = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(canon);
    if (v && typeof v === "object") {
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
          .map((k) => [k, canon((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return createHash("sha256")
    .update(JSON.stringify(canon(config)))
    .digest("hex");
}
