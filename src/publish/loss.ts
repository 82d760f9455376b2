import type { LossReport } from "../outbox/outbox.js";
import type { SenmlRecord } from "./senml.js";

/**
 * The loss records of a data message (docs/payloads.md "Drop accounting"), after `timeq`:
 *
 *   { n: "dropped",       u: "count", v: N }   windows of this topic lost right before this message
 *   { n: "dropped.from",  u: "s", v: epoch s } the span they covered (for a crash: to the restart)
 *   { n: "dropped.to",    u: "s", v: epoch s }
 *   { n: "dropped.cause", vs: "crash" }        only when part of the loss was a crash or power cut:
 *                                              every cause of the report, comma-separated
 *   { n: "recovered",     vs: "crash" }        a summary rebuilt from its window's last checkpoint
 *                                              after a crash (`observed` ends at the checkpoint)
 */
export const LOSS_NAMES: ReadonlySet<string> = new Set(["dropped", "dropped.from", "dropped.to", "dropped.cause"]);

export function pushLoss(pack: SenmlRecord[], lost: LossReport): void {
  pack.push(
    { n: "dropped", u: "count", v: lost.count },
    { n: "dropped.from", u: "s", v: lost.fromMs / 1000 },
    { n: "dropped.to", u: "s", v: lost.toMs / 1000 },
  );
  if (lost.causes !== undefined && lost.causes.length > 0) pack.push({ n: "dropped.cause", vs: lost.causes.join(",") });
}

/** The record of a recovered summary. */
export function recoveredRecord(why: "crash"): SenmlRecord {
  return { n: "recovered", vs: why };
}
