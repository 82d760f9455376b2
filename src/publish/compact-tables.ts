/**
 * The two tables of the cellular profile (docs/payloads.md "Cellular profile"), shared by the encoder
 * (src/publish/compact.ts) and every decoder (src/watch/compact.ts, docs/examples/subscriber.py).
 * Append only: a bit or a unit, once published, keeps its meaning for as long as `schema` is 1.
 */

/** A measure's value at its default: exactly one of v, vs, vb. */
export interface DefaultValue {
  n: string;
  v?: number;
  vs?: string;
  vb?: boolean;
  /** Instead of a constant: the value of this other measure of the same stream (speed.n = volume). */
  same?: string;
}

/**
 * Bit i of a stream's `defaults` record set = measure DEFAULTS[i] has this value (with its unit from
 * UNITS). Chosen from a measured day of the full site: the zero counters and flags that are at their
 * default in nearly every window, so each costs one bit instead of a 15–25 byte record.
 */
export const DEFAULTS: readonly DefaultValue[] = Object.freeze([
  { n: "quality.faults", v: 0 },
  { n: "quality.glitches", v: 0 },
  { n: "quality.dropped", v: 0 },
  { n: "quality.unpaired", v: 0 },
  { n: "quality.excluded", v: 0 },
  { n: "quality.latencyApplied", v: 0 },
  { n: "wrongway", v: 0 },
  { n: "class.motorcycle", v: 0 },
  { n: "class.short", v: 0 },
  { n: "class.medium", v: 0 },
  { n: "class.long", v: 0 },
  { n: "quality.observed", v: 1 },
  { n: "spills", v: 0 },
  { n: "spillsDay", v: 0 },
  { n: "sequenceSpills", v: 0 },
  { n: "spillDuration", v: 0 },
  { n: "coverOpenings", v: 0 },
  { n: "state", vs: "normal" },
  { n: "pickups", v: 0 },
  { n: "fillingOperations", v: 0 },
  { n: "containerFull", vb: false },
  { n: "containerEmpty", vb: false },
  { n: "temperatureAlarm", vb: false },
  { n: "containerOutOfPosition", vb: false },
  { n: "coverOpen", vb: false },
  { n: "errors", v: 0 },
  { n: "distinct", vs: "exact" },
  // every vehicle of the window measured: the common case on a healthy trap
  { n: "speed.n", same: "volume" },
  { n: "sampleInterval", v: 60 },
]);

/**
 * The unit each measure has in the standard profile's tables; the cellular profile leaves `u` out
 * when it is this one. Speeds are listed in km/h (the default `speedUnit`): a detector in m/s sends
 * its unit. A measure not listed here always carries its unit.
 */
export const UNITS: Readonly<Record<string, string>> = Object.freeze({
  window: "s",
  observed: "s",
  volume: "count",
  flow: "1/s",
  occupancy: "/",
  "speed.n": "count",
  "speed.tms": "km/h",
  "speed.sms": "km/h",
  "speed.p85": "km/h",
  "speed.est": "km/h",
  "length.mean": "m",
  "class.motorcycle": "count",
  "class.short": "count",
  "class.medium": "count",
  "class.long": "count",
  wrongway: "count",
  "headway.mean": "s",
  "headway.min": "s",
  "gap.mean": "s",
  "gap.min": "s",
  "quality.observed": "/",
  "quality.faults": "count",
  "quality.excluded": "s",
  "quality.glitches": "count",
  "quality.dropped": "count",
  "quality.unpaired": "count",
  "quality.latencyDiff": "s",
  "quality.latencySe": "s",
  "quality.latencyApplied": "s",
  samples: "count",
  depthMin: "m",
  depthMean: "m",
  depthMax: "m",
  spillDuration: "s",
  spills: "count",
  spillsDay: "count",
  sequenceSpills: "count",
  coverOpenings: "count",
  sampleInterval: "s",
  actualFillingPercentage: "%",
  actualFillingLevel: "m",
  pickups: "count",
  fillingOperations: "count",
  temperature: "Cel",
  temperatureMax: "Cel",
  "wifi.devices": "count",
  "wifi.sightings": "count",
  "wifi.random": "/",
  "ble.devices": "count",
  "ble.sightings": "count",
  "ble.random": "/",
  rse: "/",
  deposits: "count",
  users: "count",
  errors: "count",
});

/**
 * Short names: in a stream of a cellular pack, a record named by upper-case base-36 digits (`0`–`9`,
 * `A`–`Z`) is the measure NAMES[parseInt(n, 36)]; any other name is the measure's own. Measure names
 * start with a lower-case letter, so the two never meet. Ordered by how often a window carries them
 * (a speed-trap lane's measures take the one-character names); the name was 75 % of a trap lane's
 * bytes once units and zero counters were gone.
 */
export const NAMES: readonly string[] = Object.freeze([
  "volume",
  "flow",
  "occupancy",
  "speed.n",
  "speed.tms",
  "speed.sms",
  "speed.p85",
  "length.mean",
  "class.motorcycle",
  "class.short",
  "class.medium",
  "class.long",
  "headway.mean",
  "headway.min",
  "gap.mean",
  "gap.min",
  "quality.latencyDiff",
  "quality.latencySe",
  "quality.observed",
  "quality.faults",
  "quality.excluded",
  "quality.glitches",
  "quality.dropped",
  "quality.unpaired",
  "quality.latencyApplied",
  "wrongway",
  "speed.est",
  "occupancy.loop",
  "samples",
  "depthMin",
  "depthMean",
  "depthMax",
  "state",
  "spillDuration",
  "spills",
  "spillsDay",
  "sequenceSpills",
  "coverOpenings",
  "sampleInterval",
  "actualFillingPercentage",
  "actualFillingLevel",
  "containerFull",
  "containerEmpty",
  "averageFillingSpeed",
  "forecastFullDate",
  "pickups",
  "fillingOperations",
  "temperature",
  "temperatureMax",
  "temperatureAlarm",
  "containerOutOfPosition",
  "coverOpen",
  "wifi.devices",
  "wifi.sightings",
  "wifi.random",
  "ble.devices",
  "ble.sightings",
  "ble.random",
  "distinct",
  "rse",
  "keys",
  "deposits",
  "users",
  "errors",
]);

const SHORT = new Map(NAMES.map((n, i) => [n, i.toString(36).toUpperCase()]));
const ALIAS = /^[0-9A-Z]+$/;

/** The name a cellular pack sends for a measure. */
export function shortName(n: string): string {
  return SHORT.get(n) ?? n;
}

/** The measure a cellular pack's record name stands for (undefined: an unknown short name, from a newer table). */
export function longName(n: string): string | undefined {
  return ALIAS.test(n) ? NAMES[Number.parseInt(n, 36)] : n;
}

/** Significant digits of a short-named record's value (float32 holds 6 exactly; see compact-cbor.ts). */
export const SHORT_DIGITS = 6;

/** The value a reader takes from a short-named record: rounded to SHORT_DIGITS significant digits. */
export function readShort(v: number): number {
  return Number.isInteger(v) ? v : Number(v.toPrecision(SHORT_DIGITS));
}

/** Name of the record that carries a stream's default bits. */
export const DEFAULTS_RECORD = "_";
/** Topic leaf and base-name kind of a cellular-profile message: `{prefix}/{device}/window`. */
export const COMPACT_KIND = "window";
