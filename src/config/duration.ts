/**
 * Durations in config files: a number of seconds, or a string with a unit — `500ms`, `30s`, `5m`,
 * `5min`, `1h`, `2d`. Returns seconds, or undefined when the text is not a duration.
 */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== "string") return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h|d)?\s*$/i.exec(value);
  if (!m) return undefined;
  const n = Number(m[1]);
  switch ((m[2] ?? "s").toLowerCase()) {
    case "ms":
      return n / 1000;
    case "s":
    case "sec":
      return n;
    case "m":
    case "min":
      return n * 60;
    case "h":
      return n * 3600;
    case "d":
      return n * 86400;
    default:
      return undefined;
  }
}

/** Seconds as the shortest readable duration: 10 → "10s", 300 → "5m", 3600 → "1h". */
export function formatDuration(seconds: number): string {
  if (seconds >= 86400 && seconds % 86400 === 0) return `${seconds / 86400}d`;
  if (seconds >= 3600 && seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds >= 60 && seconds % 60 === 0) return `${seconds / 60}m`;
  if (seconds < 1) return `${Math.round(seconds * 1000)}ms`;
  return `${seconds}s`;
}

/** Window lengths that divide an hour, from 5 s up, as a readable list for error messages. */
export const SUGGESTED_WINDOWS = "10s, 20s, 30s, 1m, 5m, 15m or 1h";

/** True when `seconds` is a whole number of seconds that divides an hour (so windows align to :00). */
export function dividesHour(seconds: number): boolean {
  return Number.isInteger(seconds) && seconds > 0 && 3600 % seconds === 0;
}
