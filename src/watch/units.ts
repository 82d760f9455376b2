import type { MeasureValue } from "./events.js";

/**
 * A SenML value as a person reads it on a roadside: flows in veh/h, ratios in %, speeds in km/h,
 * temperatures in °C. The data stays in SenML units (RFC 8428 §12.1, RFC 8798) on the wire; this
 * is only for screens.
 */
export function formatValue(m: MeasureValue, kind = ""): string {
  if (m.vs !== undefined) return m.vs;
  if (m.vb !== undefined) return m.vb ? "yes" : "no";
  if (m.v === undefined) return "–";
  const v = m.v;
  switch (m.u) {
    case undefined:
    case "count":
      return num(v);
    case "1/s":
      // a rate per second is per hour on a roadside: vehicles, deposits, devices
      return `${Math.round(v * 3600)} ${kind === "traffic" ? "veh/h" : "/h"}`;
    case "1/min":
      return `${Math.round(v * 60)} /h`;
    case "/":
      return `${(v * 100).toFixed(1)} %`;
    case "%":
    case "%RH":
    case "%EL":
      return `${v.toFixed(1)} %`;
    case "m/s":
      return `${(v * 3.6).toFixed(1)} km/h`;
    case "km/h":
      return `${v.toFixed(1)} km/h`;
    case "Cel":
      return `${v.toFixed(1)} °C`;
    case "s":
      return duration(v);
    case "m":
      return `${v.toFixed(2)} m`;
    case "mm":
    case "ppm":
      return `${num(v)} ${m.u}`;
    default:
      return `${num(v)} ${m.u}`;
  }
}

function num(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/** Seconds as `0.25 s`, `42 s`, `5m 03s`, `2h 10m`, `3d 4h`. */
export function duration(s: number): string {
  if (s < 10) return `${s.toFixed(2)} s`;
  if (s < 60) return `${Math.round(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(Math.round(s % 60)).padStart(2, "0")}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** A short age for a table cell: `4s`, `12m`, `3h`, `2d`. */
export function age(s: number): string {
  if (s < 0) s = 0;
  if (s < 100) return `${Math.round(s)}s`;
  if (s < 6000) return `${Math.round(s / 60)}m`;
  if (s < 172_800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86_400)}d`;
}
