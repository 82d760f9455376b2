import { expect } from "vitest";
import { main } from "../../src/cli/main.js";

/** `roadside ARGV` in this process (the CLI's own entry), with what it printed. */
export async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t), isTTY: false });
  return { code, out, err };
}

export type DoctorResult = { check: string; status: string; title: string; values?: Record<string, unknown> };

/** The `serial` checks of a `doctor --json` run's output (one JSON object a line). */
export const serialChecks = (out: string): DoctorResult[] =>
  out
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as DoctorResult)
    .filter((r) => r.check === "serial");

type TestRecord = { stream: string; kind: string; windowS: number; observedS: number; measures: Record<string, { v?: number }> };

/**
 * A `roadside test --json` run's output holds level summaries of the manhole `manhole`, every full
 * window of them with samples in it, and a bin summary of `bin`: both sensors were read through their
 * models and published. (A dry run starts now, so its first window may be seconds long and empty.)
 */
export function expectLevelAndBin(out: string, manhole: string, bin: string): void {
  const msgs = out
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as TestRecord);
  const level = msgs.filter((m) => m.kind === "level" && m.stream === manhole);
  const full = level.filter((m) => m.observedS >= m.windowS);
  expect(full.length, JSON.stringify(level)).toBeGreaterThanOrEqual(1);
  for (const m of full) expect(m.measures["samples"]!.v, JSON.stringify(m)).toBeGreaterThan(0);
  expect(msgs.some((m) => m.kind === "bin" && m.stream === bin)).toBe(true);
}
