/**
 * What of a health report a technician acts on (the cellular profile publishes the heartbeat only
 * when this changes, and every `publish.healthEvery`): every text and flag (states, faults,
 * connection state, clock sync, last loss), plus the counters of trouble (drops, reconnects, clock
 * jumps, faults). Left out: the report's time, and what grows by itself (uptime, delivered
 * messages, bytes, depth, free disk, temperature, sensor frame counters), or it would change every minute.
 */
const TROUBLE = /(^|\.)(dropped\.[a-z]+|reconnects|disconnects|jumps|faults|unreported|rejected|rateLimited|wrongWay|openFailures)$/;
const SKIP = new Set(["time", "mqtt.since"]);
/** The measured world, not the device's trouble: a manhole's level state is in its data and alarms already. */
const SKIP_KEYS = new Set(["levelState"]);

/** A stable text of the parts of `report` that matter; equal texts = nothing to publish. */
export function healthFingerprint(report: unknown): string {
  const parts: string[] = [];
  walk(report, "", parts);
  return parts.join("\n");
}

function walk(value: unknown, path: string, out: string[]): void {
  if (SKIP.has(path) || SKIP_KEYS.has(path.slice(path.lastIndexOf(".") + 1))) return;
  // null is left out: a measurement that is null until its first value (depthM, latencyDiffMs) is not news
  if (value === null) return;
  if (typeof value === "string" || typeof value === "boolean") {
    out.push(`${path}=${String(value)}`);
    return;
  }
  if (typeof value === "number") {
    if (TROUBLE.test(path)) out.push(`${path}=${value}`);
    return;
  }
  if (typeof value !== "object" || value === undefined) return;
  for (const key of Object.keys(value as Record<string, unknown>).sort()) {
    walk((value as Record<string, unknown>)[key], path ? `${path}.${key}` : key, out);
  }
}
