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
