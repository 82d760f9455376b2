import type { LoadedConfig } from "../config/load.js";
import { createLogger } from "../log/logger.js";
import type { Logger, LogLevel } from "../log/logger.js";
import type { EmbeddedBroker } from "../mqtt/embedded.js";
import { startEmbeddedBroker } from "../mqtt/embedded.js";
import type { OutboxMessage } from "../outbox/outbox.js";
import { decodeMessages } from "../watch/compact.js";
import type { Speed } from "../sim/runner.js";
import { parseSpeed } from "../sim/runner.js";
import type { Progress, RunResult } from "../sim/session.js";
import type { Io } from "./args.js";
import { UsageError } from "./args.js";
import { formatMessage } from "./printer.js";

/** Shared by `sim` and `replay`: speed, logging, the broker, progress and the closing lines. */

export function speedOption(text: string | undefined): Speed {
  if (text === undefined) return "max";
  const s = parseSpeed(text);
  if (s === undefined) throw new UsageError(`--speed ${JSON.stringify(text)}: write max, or a multiple of real time such as 1, 10 or 3600`);
  return s;
}

export function logLevelOption(text: string | undefined, fallback: LogLevel): LogLevel {
  if (text === undefined) return fallback;
  if (!["debug", "info", "warn", "error"].includes(text))
    throw new UsageError(`--log-level ${JSON.stringify(text)}: use debug, info, warn or error`);
  return text as LogLevel;
}

export function cliLogger(loaded: LoadedConfig, level: LogLevel): Logger {
  return createLogger({
    level,
    format: loaded.config.log.format === "auto" ? (process.stderr.isTTY ? "text" : "json") : loaded.config.log.format,
  });
}

/** The broker to publish to: the flag, the config's, or an embedded one (closed by the caller). */
export async function brokerFor(loaded: LoadedConfig, flag: string | undefined): Promise<{ url: string; embedded?: EmbeddedBroker }> {
  const url = flag ?? loaded.config.mqtt.url;
  if (url) return { url };
  const embedded = await startEmbeddedBroker(loaded.config.mqtt.embeddedPort);
  return { url: embedded.url, embedded };
}

/** `03:12:05` (or `1d 03:12:05`) from seconds. */
export function clockText(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const d = Math.floor(s / 86400);
  const hms = [Math.floor((s % 86400) / 3600), Math.floor((s % 3600) / 60), s % 60].map((n) => String(n).padStart(2, "0")).join(":");
  return d > 0 ? `${d}d ${hms}` : hms;
}

/** A progress line that rewrites itself on a terminal, and prints nothing elsewhere. */
export function progressPrinter(io: Io, enabled: boolean): { update: (p: Progress) => void; done: () => void } {
  let shown = false;
  return {
    update: (p) => {
      if (!enabled || !io.isTTY) return;
      const factor = p.wallMs > 0 ? Math.round((p.doneS * 1000) / p.wallMs) : 0;
      io.out(
        `\r\u001b[Ksimulated ${clockText(p.doneS)} of ${clockText(p.totalS)}  ×${factor}  ${p.committed} messages, ${p.delivered} delivered`,
      );
      shown = true;
    },
    done: () => {
      if (shown) io.out("\r\u001b[K");
    },
  };
}

/** Print each delivered data message as a line (UTC: virtual time has no local zone). */
export function deliveredPrinter(io: Io, enabled: boolean, multi: boolean): ((device: string, m: OutboxMessage) => void) | undefined {
  if (!enabled) return undefined;
  return (device, m) => {
    try {
      // a line per stream, also for a cellular pack (one message, every stream of a window)
      const lines = decodeMessages(m.payload).map((d) => `${multi ? `${device}  ` : ""}${formatMessage(d, { utc: true })}\n`);
      io.out(lines.join(""));
    } catch {
      io.out(`${m.topic}  seq ${m.seq}  (${m.payload.length} bytes)\n`);
    }
  };
}

/** The closing summary line(s). */
export function resultText(r: RunResult): string {
  const secs = r.wallMs / 1000;
  const factor = secs > 0 ? Math.round(r.simulatedS / secs) : 0;
  return `simulated ${clockText(r.simulatedS)} in ${secs.toFixed(1)} s (×${factor}): ${r.devices} device${r.devices === 1 ? "" : "s"}, ${r.committed} messages committed, ${r.delivered} delivered${r.undelivered > 0 ? `, ${r.undelivered} NOT delivered` : ""}\n`;
}
