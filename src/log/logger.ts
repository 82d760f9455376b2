/**
 * Structured logging. On a terminal: one readable line per event. Under systemd (no TTY): one JSON
 * object per line, which journald stores and `journalctl -o cat` shows. Every component gets a
 * `Logger` through its constructor; there is no global logger.
 *
 * A line a technician reads at 3 a.m. says what happened, to which input or sensor, and what to check.
 */
import { isJournalStream, SYSLOG_PRIORITY, withPriority } from "./journal.js";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  debug(msg: string | (() => string), fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line (e.g. { component: "mqtt" }). */
  child(fields: LogFields): Logger;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LoggerOptions {
  level?: LogLevel;
  format?: "text" | "json";
  /** Where lines go. Default process.stderr. */
  write?: (line: string) => void;
  /** Wall clock, ms. Default Date.now. */
  now?: () => number;
  /**
   * Start each line with its syslog priority (`<4>` for warn…) for journald. Default: when stderr
   * is the journal stream systemd gave the service (src/log/journal.ts).
   */
  priorityPrefix?: boolean;
}

export function createLogger(opts: LoggerOptions = {}, base: LogFields = {}): Logger {
  const min = RANK[opts.level ?? "info"];
  const format = opts.format ?? (process.stderr.isTTY ? "text" : "json");
  const write = opts.write ?? ((line: string) => process.stderr.write(line));
  const now = opts.now ?? Date.now;
  const prefix = opts.priorityPrefix ?? (opts.write === undefined && isJournalStream(2));
  const emit = (level: LogLevel, msg: string | (() => string), fields?: LogFields): void => {
    if (RANK[level] < min) return;
    const text = typeof msg === "function" ? msg() : msg;
    const all = { ...base, ...fields };
    const tag = prefix ? `<${SYSLOG_PRIORITY[level]}>` : "";
    if (format === "json") {
      // one line whatever the message holds: JSON escapes newlines, so the priority covers all of it
      write(`${tag}${JSON.stringify({ time: new Date(now()).toISOString(), level, msg: text, ...all })}\n`);
    } else {
      const t = new Date(now()).toISOString().slice(11, 19);
      const kv = Object.entries(all)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}=${typeof v === "string" && /\s/.test(v) ? JSON.stringify(v) : String(v)}`)
        .join(" ");
      const line = `${t} ${level.toUpperCase().padEnd(5)} ${text}${kv ? `  ${kv}` : ""}\n`;
      write(prefix ? withPriority(line, SYSLOG_PRIORITY[level]) : line);
    }
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (fields) => createLogger(opts, { ...base, ...fields }),
  };
}

/** A logger that drops everything (tests that do not look at logs). */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
};
