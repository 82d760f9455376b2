import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Io } from "../../src/cli/args.js";
import { main } from "../../src/cli/main.js";
import { clockText, progressPrinter } from "../../src/cli/sim-common.js";
import type { EmbeddedBroker } from "../../src/mqtt/embedded.js";
import { parseTrace } from "../../src/sim/trace.js";
import { startAedes } from "../helpers/brokers.js";

function capture(isTTY = false): Io & { stdout: string; stderr: string } {
  const io = {
    stdout: "",
    stderr: "",
    isTTY,
    out: (t: string) => {
      io.stdout += t;
    },
    err: (t: string) => {
      io.stderr += t;
    },
  };
  return io;
}

describe("roadside run --record (a live device, real time)", () => {
  let broker: EmbeddedBroker;
  let dir: string;
  beforeAll(async () => {
    broker = await startAedes();
    dir = mkdtempSync(join(tmpdir(), "roadside-runrec-"));
  });
  afterAll(async () => {
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("records the inputs' levels and edges with real stamps, and the trace replays", async () => {
    const config = join(dir, "busy.yaml");
    writeFileSync(
      config,
      [
        "device: { id: rec-1, board: sim }",
        "inputs: { a: { line: 17 }, b: { line: 27 } }",
        "detectors: { lane: { loops: [a, b] } }",
        "windows: { default: 5s }",
        "sim: { seed: 3, traffic: { lane: { vehiclesPerHour: 2400, speedKmh: 30 } } }",
      ].join("\n"),
    );
    const trace = join(dir, "live.jsonl");
    const io = capture();
    const code = await main(
      ["run", "-c", config, "-b", broker.url, "--state-dir", join(dir, "state"), "--duration", "4s", "--record", trace, "--quiet"],
      io,
    );
    expect(code, io.stderr).toBe(0);
    const t = parseTrace(readFileSync(trace, "utf8"));
    expect(t.issues).toEqual([]);
    expect(t.header.note).toBe("roadside run --record on roadside hardware simulator, device rec-1");
    expect(Math.abs(Date.parse(t.header.start) - Date.now())).toBeLessThan(60_000);
    expect(t.lines.filter((l) => l.t === 0).map((l) => (l.kind === "input" ? `${l.input}=${l.level}` : l.kind))).toEqual(["a=0", "b=0"]);
    const end = t.lines.at(-1)!;
    expect(end.kind).toBe("end");
    expect(end.t).toBeGreaterThan(3.9);
    const ts = t.lines.map((l) => l.t);
    expect(ts).toEqual([...ts].sort((x, y) => x - y));

    const again = capture();
    expect(await main(["replay", trace, "-c", config, "-b", broker.url], again), again.stderr).toBe(0);
    expect(again.stdout).toMatch(/1 device, (\d+) messages committed, \1 delivered/);
  });
});

describe("progress on a terminal", () => {
  it("rewrites one line with simulated time, speed-up and messages, and clears it at the end", () => {
    const io = capture(true);
    const p = progressPrinter(io, true);
    p.update({ doneS: 3 * 3600 + 12 * 60 + 5, totalS: 86_400, wallMs: 500, committed: 120, delivered: 118 });
    p.done();
    expect(io.stdout).toBe("\r\u001b[Ksimulated 03:12:05 of 1d 00:00:00  ×23050  120 messages, 118 delivered\r\u001b[K");
    const pipe = capture(false);
    progressPrinter(pipe, true).update({ doneS: 1, totalS: 2, wallMs: 1, committed: 0, delivered: 0 });
    expect(pipe.stdout).toBe("");
    expect(clockText(59.6)).toBe("00:01:00");
  });
});
