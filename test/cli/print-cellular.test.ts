import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Io } from "../../src/cli/args.js";
import { main } from "../../src/cli/main.js";
import type { EmbeddedBroker } from "../../src/mqtt/embedded.js";
import { startAedes, subscribe } from "../helpers/brokers.js";

// A cellular device sends one pack per window (docs/payloads.md "Cellular profile"); the tools that
// print what it sent show a line per stream, as for a standard device.
function capture(): Io & { stdout: string; stderr: string } {
  const io = {
    stdout: "",
    stderr: "",
    isTTY: false,
    out: (t: string) => {
      io.stdout += t;
    },
    err: (t: string) => {
      io.stderr += t;
    },
  };
  return io;
}

const SEED = 11;
const CONFIG = `
device: { id: cell-1, board: sim }
inputs:
  a.up: { line: GPIO17 }
  b.up: { line: GPIO22 }
detectors:
  lane-a: { loops: [a.up] }
  lane-b: { loops: [b.up] }
windows: { default: 5m }
publish: { profile: cellular }
sim:
  seed: ${SEED}
  traffic:
    lane-a: { vehiclesPerHour: 700, speedKmh: 55 }
    lane-b: { vehiclesPerHour: 300, speedKmh: 40 }
`;

describe(`printing a cellular device's packs (seed ${SEED})`, () => {
  let broker: EmbeddedBroker;
  let dir: string;
  let config: string;
  beforeAll(async () => {
    broker = await startAedes();
    dir = mkdtempSync(join(tmpdir(), "roadside-print-cellular-"));
    config = join(dir, "site.yaml");
    writeFileSync(config, CONFIG);
  });
  afterAll(async () => {
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("sim --print: a line per stream of each pack, and one pack per window on the broker", async () => {
    const sub = await subscribe(broker.url, "roadside/cell-1/#");
    const io = capture();
    const code = await main(["sim", "-c", config, "-d", "30m", "--start", "2026-03-02T06:00:00Z", "-b", broker.url, "--print"], io);
    expect(code, io.stderr).toBe(0);
    await sub.waitFor((m) => m.filter((x) => x.topic === "roadside/cell-1/window").length >= 6);
    await sub.close();
    expect(sub.messages.filter((x) => /\/traffic\//.test(x.topic))).toEqual([]);
    const lines = (lane: string) =>
      io.stdout.split("\n").filter((l) => new RegExp(`traffic/${lane}\\s+300s\\s.*\\bvolume \\d+.*\\sseq \\d+$`).test(l));
    // 06:00 … 06:25: six windows, six packs, each lane in every one, under the pack's seq
    expect(io.stdout).toMatch(/1 device, 6 messages committed, 6 delivered/);
    expect(lines("lane-a").length, io.stdout).toBe(6);
    expect(lines("lane-b").length).toBe(6);
    const seqs = (lane: string) => lines(lane).map((l) => /seq (\d+)$/.exec(l)?.[1]);
    expect(seqs("lane-b")).toEqual(seqs("lane-a"));
    expect(io.stdout).not.toMatch(/window\s+\d+s/);
  });

  it("roadside test --json: one decoded message per stream, with the topic it travels on", async () => {
    const io = capture();
    const code = await main(["test", "-c", config, "--for", "15m", "--json"], io);
    expect(code, io.stderr).toBe(0);
    const msgs = io.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { topic: string; kind: string; stream: string; seq: number });
    const a = msgs.filter((m) => m.stream === "lane-a");
    const b = msgs.filter((m) => m.stream === "lane-b");
    expect(a.length, io.stdout).toBeGreaterThanOrEqual(3);
    expect(b.length).toBe(a.length);
    expect(msgs.every((m) => m.kind === "traffic" && m.topic === "roadside/cell-1/window")).toBe(true);
    // the two lanes of a window share the pack's sequence number
    expect(b.map((m) => m.seq)).toEqual(a.map((m) => m.seq));
  });
});
