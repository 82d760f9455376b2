/**
 * The few health fields an operator scans a fleet for, read from a device's `…/health` heartbeat
 * (docs/payloads.md "Health"). Tolerant: a field a device does not send (an older version, a board
 * without a temperature sensor) is null, never an error.
 */
export interface HealthView {
  /** Messages waiting in the device's outbox. */
  outboxDepth: number | null;
  /** Age of the oldest of them, s: how long the device has been cut off. */
  oldestAgeS: number | null;
  /** Messages the device dropped since its outbox was created (every cause). */
  drops: number | null;
  /** Wall clock NTP-synchronised. */
  synced: boolean | null;
  cpuTempC: number | null;
  /** Sensors and detectors in fault, as `section:fault`. */
  faults: string[];
}

const obj = (v: unknown): Record<string, unknown> | undefined =>
  v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

export function healthView(health: unknown): HealthView {
  const h = obj(health) ?? {};
  const outbox = obj(h["outbox"]);
  const dropped = obj(outbox?.["dropped"]);
  let drops: number | null = null;
  if (dropped) {
    drops = 0;
    for (const v of Object.values(dropped)) if (typeof v === "number") drops += v;
  }
  const clock = obj(h["clock"]);
  const faults: string[] = [];
  for (const [name, sec] of Object.entries(obj(h["sections"]) ?? {})) {
    const s = obj(sec);
    if (!s) continue;
    if (typeof s["state"] === "string" && s["state"] !== "ok") faults.push(`${name}:${s["state"]}`);
    else if (s["inFault"] === true && typeof s["faults"] === "string" && s["faults"] !== "") faults.push(`${name}:${s["faults"]}`);
  }
  return {
    outboxDepth: num(outbox?.["depth"]),
    oldestAgeS: num(outbox?.["oldestAgeS"]),
    drops,
    synced: typeof clock?.["synced"] === "boolean" ? clock["synced"] : null,
    cpuTempC: num(h["cpuTempC"]),
    faults,
  };
}
