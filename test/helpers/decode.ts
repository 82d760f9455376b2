import type { DecodedMessage } from "../../src/publish/envelope.js";
import { decodeMessage } from "../../src/publish/envelope.js";
import type { Received } from "./brokers.js";

/** A decoded message with its topic. */
export interface Seen {
  topic: string;
  msg: DecodedMessage;
}

/** Decode every roadside SenML message (status and manifest are skipped). */
export function decodeAll(messages: readonly Received[]): Seen[] {
  // data topics only: status, manifest, health and command replies are not SenML
  return messages
    .filter((m) => /\/(traffic|level|bin|presence|alarm)\/[^/]+$/.test(m.topic))
    .map((m) => ({ topic: m.topic, msg: decodeMessage(m.payload) }));
}

/** Alarms of one kind (and state) from one source, in time order. */
export function alarms(seen: readonly Seen[], kind: string, state?: string): DecodedMessage[] {
  return seen
    .filter(
      (s) =>
        s.msg.kind === "alarm" && s.msg.measures["alarm"]?.vs === kind && (state === undefined || s.msg.measures["state"]?.vs === state),
    )
    .map((s) => s.msg)
    .sort((a, b) => a.windowStartMs - b.windowStartMs);
}

/**
 * UK 12/24 spill count over discharge periods (hours), written independently of the device's
 * incremental SpillCounter: from each sequence's first discharge, one spill for the 12 h block, then
 * one per following 24 h block that any discharge overlaps, until a block without one.
 */
export function count1224(periods: readonly { startH: number; endH: number }[]): number {
  const ps = [...periods].sort((a, b) => a.startH - b.startH);
  let total = 0;
  let i = 0;
  while (i < ps.length) {
    total++;
    let bs = ps[i]!.startH + 12;
    for (;;) {
      const be = bs + 24;
      if (!ps.some((p) => p.startH < be && p.endH >= bs)) break;
      total++;
      bs = be;
    }
    while (i < ps.length && ps[i]!.startH < bs) i++;
  }
  return total;
}
