import * as z from "zod";
import { duration, show } from "../types.js";

const UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/** A size: bytes as a number, or a text like "64MiB", "500MB", "1GB". Returns bytes, or undefined. */
export function parseBytes(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? Math.floor(value) : undefined;
  if (typeof value !== "string") return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b|b)?\s*$/i.exec(value);
  if (!m) return undefined;
  return Math.floor(Number(m[1]) * UNITS[(m[2] ?? "b").toLowerCase()]!);
}

/** A byte size field: number of bytes or "64MiB" / "500MB". Parsed to bytes. */
export function byteSize(what: string, min: number) {
  return z
    .union([z.number(), z.string()], {
      error: (iss) => `${what} must be a number of bytes or a text like "64MiB" or "500MB"; got ${show(iss.input)}`,
    })
    .transform((v, ctx) => {
      const b = parseBytes(v);
      if (b === undefined) {
        ctx.addIssue({ code: "custom", message: `${show(v)} is not a size; write e.g. 64MiB, 500MB or 1GB`, input: v });
        return z.NEVER;
      }
      if (b < min) {
        ctx.addIssue({ code: "custom", message: `${show(v)} is too small; use at least ${min} bytes`, input: v });
        return z.NEVER;
      }
      return b;
    });
}

export const outboxSection = z
  .strictObject({
    maxBytes: byteSize("outbox.maxBytes", 64 * 1024)
      .default(64 * 1024 * 1024)
      .describe(
        "Most the waiting messages may take on disk (bytes, or e.g. 64MiB, 500MB). Default 64MiB: about two months of a four-stream device with 1-minute windows. When full, the oldest routine summaries are dropped first, alarms last, and every drop is reported.",
      ),
    minFreeDisk: byteSize("outbox.minFreeDisk", 0)
      .default(50 * 1000 * 1000)
      .describe(
        "Free space to leave on the state folder's disk. Below it the outbox stops growing (new messages replace the oldest), whatever maxBytes says. Default 50MB, so logs and the OS keep room.",
      ),
    expireAfter: duration("time to expiry")
      .optional()
      .describe(
        "Discard routine summaries not delivered within this time (e.g. 7d); they are counted as lost. MQTT 5 brokers also get it as message expiry. Default: never (summaries wait until delivered or dropped for space). Alarms never expire.",
      ),
    checkpointInterval: duration("checkpoint interval")
      .refine((v) => v === 0 || v >= 5, { message: "use 0 (no checkpoints) or at least 5s; e.g. 1m" })
      .default(60)
      .describe(
        "How often the open windows' counts are saved to the outbox, so a crash or power cut loses at most this much of them: the window is then published from its checkpoint as partial (recovered). Default 1m: about 6 MB a day more disk writes on a full site, +15–20 % (docs/delivery.md, Measured; scripts/bench/checkpoint-wear.mjs). 0: no checkpoints (a window open at a crash is reported lost). Never for identifier-derived (presence) windows.",
      ),
    onCorrupt: z
      .enum(["recover", "stop"])
      .default("recover")
      .describe(
        "A damaged outbox file (failing SD card): recover (default) moves it aside and starts a new one, numbering above the old messages; stop refuses to start so a person decides.",
      ),
  })
  .default({ maxBytes: 64 * 1024 * 1024, minFreeDisk: 50 * 1000 * 1000, checkpointInterval: 60, onCorrupt: "recover" })
  .describe("Store-and-forward: every summary is kept on disk until the broker has it.");
