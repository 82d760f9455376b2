import * as z from "zod";
import { dividesHour, parseDuration, SUGGESTED_WINDOWS } from "./duration.js";

/**
 * Shared field types for config sections. Error messages name the bad value and the fix: they are
 * read by a technician on a ladder.
 */

/** A duration: seconds as a number, or "500ms" / "30s" / "5m" / "1h". Parsed to seconds. */
export function duration(what = "duration") {
  return z
    .union([z.number(), z.string()], {
      error: (iss) => `${what} must be a number of seconds or a text like "30s", "5m", "1h"; got ${show(iss.input)}`,
    })
    .transform((v, ctx) => {
      const s = parseDuration(v);
      if (s === undefined) {
        ctx.addIssue({ code: "custom", message: `${show(v)} is not a ${what}; write e.g. 30s, 5m or 1h`, input: v });
        return z.NEVER;
      }
      return s;
    });
}

/** A window length: a duration that divides an hour, so windows align to wall-clock boundaries. */
export function windowLength() {
  return duration("window length").superRefine((s, ctx) => {
    if (!dividesHour(s) || s < 5) {
      ctx.addIssue({
        code: "custom",
        message: `window ${s}s does not divide an hour into whole windows; use ${SUGGESTED_WINDOWS}`,
        input: s,
      });
    }
  });
}

/** Show a value in an error message the way the user wrote it. */
export function show(v: unknown): string {
  if (v === undefined) return "nothing";
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "object" && v !== null) {
    const s = JSON.stringify(v);
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
  }
  return String(v);
}

/** Names that appear in MQTT topics and SenML names: letters, digits, `_` and `-` only. */
export const TOPIC_SAFE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** Input and port names may also use `.` (e.g. `lane1.up`); they never appear in topics. */
export const SIGNAL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** Turn any text into a topic-safe suggestion for an error message. */
export function topicSafeSuggestion(name: string): string {
  const s = name
    .replace(/[^A-Za-z0-9_-]+/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "")
    .replace(/-+$/, "")
    .slice(0, 64);
  return s.length > 0 ? s : "lane1";
}

/**
 * A serial port of a sensor. `path` is a device path (`/dev/ttyUSB0`, `/dev/serial/by-id/…`) or the
 * name of one of the board's serial ports (`uart0`, `serial0`, `sim0`; see boards/*.json).
 */
export function serialPortSchema(defaultBaud: number) {
  return z
    .strictObject({
      path: z.string().describe("Device path (/dev/ttyUSB0, /dev/serial/by-id/…) or a board serial port name (uart0, serial0, sim0)."),
      baudRate: z
        .number()
        .int()
        .positive()
        .default(defaultBaud)
        .describe(`Baud rate. Default ${defaultBaud}, the sensor's factory setting.`),
      dataBits: z
        .union([z.literal(7), z.literal(8)])
        .default(8)
        .describe("Data bits. Default 8."),
      parity: z.enum(["none", "even", "odd"]).default("none").describe("Parity. Default none."),
      stopBits: z
        .union([z.literal(1), z.literal(2)])
        .default(1)
        .describe("Stop bits. Default 1."),
    })
    .describe("Serial port settings (8N1 unless the sensor says otherwise).");
}
