import type { DecodedMessage } from "../publish/index.js";

/** One decoded measure as a person reads it: flow in veh/h, ratios in %, speeds in km/h. */
export function formatMeasure(name: string, m: { u?: string; v?: number; vs?: string; vb?: boolean }): string {
  if (m.vs !== undefined) return `${name} ${m.vs}`;
  if (m.vb !== undefined) return `${name} ${m.vb ? "yes" : "no"}`;
  const v = m.v ?? 0;
  switch (m.u) {
    case "count":
      return `${name} ${v}`;
    case "1/s":
      return `${name} ${Math.round(v * 3600)} veh/h`;
    case "/":
      return `${name} ${(v * 100).toFixed(1)} %`;
    case "m/s":
      return `${name} ${(v * 3.6).toFixed(1)} km/h`;
    case "s":
      return `${name} ${v.toFixed(2)} s`;
    case undefined:
      return `${name} ${v}`;
    default:
      return `${name} ${Number.isInteger(v) ? v : v.toFixed(2)} ${m.u}`;
  }
}

/**
 * `12:00:00  traffic/lane1  10s  volume 3  flow 1080 veh/h  occupancy 4.1 %  seq 17`: the window's
 * start (its `bt`, as watch and the live view show it) and length; a partial window says how much of
 * it was observed.
 */
export function formatMessage(msg: DecodedMessage, opts: { utc?: boolean } = {}): string {
  const d = new Date(msg.windowStartMs);
  const time = opts.utc ? d.toISOString().slice(11, 19) : d.toTimeString().slice(0, 8);
  const flags: string[] = [];
  if (msg.timeq !== "synced") flags.push(`time ${msg.timeq}`);
  if (Math.abs(msg.observedS - msg.windowS) > 0.5) flags.push(`partial ${msg.observedS.toFixed(1)}s`);
  const measures = Object.entries(msg.measures).map(([n, m]) => formatMeasure(n, m));
  return [time, `${msg.kind}/${msg.stream}`.padEnd(16), `${msg.windowS}s`, ...measures, `seq ${msg.seq}`, ...flags].join("  ");
}
