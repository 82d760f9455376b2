import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NS_PER_MS, NS_PER_S } from "../clock/clock.js";
import { VirtualClock } from "../clock/virtual.js";
import { validateConfig } from "../config/load.js";
import type { LoadedConfig } from "../config/load.js";
import type { DigitalInputs, DigitalInputSpec, Level, SerialHandlers, SerialPortLink } from "../io/contract.js";
import { JohnnyFiveInputs } from "../io/johnny-five.js";
import { SimBoard } from "./io-plugin.js";
import { TracePlayer } from "./player.js";
import { TraceRecorder } from "./recorder.js";
import { Rng } from "./rng.js";
import { parseTrace } from "./trace.js";

const SEED = 11;

function loaded(): LoadedConfig {
  const r = validateConfig({
    device: { id: "t", board: "sim" },
    inputs: { a: { line: 17 }, b: { line: 27, activeLow: false, bias: "as-is" } },
    detectors: { lane: { loops: ["a", "b"] } },
  });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.loaded;
}

const specs = (l: LoadedConfig): DigitalInputSpec[] =>
  Object.entries(l.config.inputs).map(([name, i]) => ({
    name,
    line: l.lines.get(name)!.line,
    bias: i.bias,
    activeLow: i.activeLow,
    debounceUs: 0,
  }));

type Edge = [string, Level, number];

async function openOn(inputs: DigitalInputs, s: DigitalInputSpec[], edges: Edge[]): Promise<void> {
  await inputs.open(s, {
    edge: (i, level, t) => edges.push([s[i]!.name, level, t]),
    dropped: () => {},
    fault: () => {},
    restored: () => {},
  });
}

describe(`trace recorder and player (seed ${SEED})`, () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "roadside-rec-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("records what the inputs deliver, and the player makes the same inputs deliver it again", async () => {
    const l = loaded();
    const path = join(dir, "t.jsonl");
    // live: random pin changes on a simulated board, recorded at the inputs
    const clock = new VirtualClock({ startWallMs: Date.UTC(2026, 2, 1) });
    const board = new SimBoard();
    board.setPin(17, 0); // active-low input a starts active
    const rec = new TraceRecorder({ path, clock });
    rec.start();
    const live: Edge[] = [];
    const inputs = rec.inputs(new JohnnyFiveInputs({ io: board, clock, timestampSource: "virtual" }));
    await openOn(inputs, specs(l), live);
    const rng = new Rng(SEED);
    let t = 0;
    for (let k = 0; k < 400; k++) {
      t += Math.round((rng.exponential(0.3) * NS_PER_S) / 1000) * 1000; // µs-grid instants
      const pin = rng.pick([17, 27]);
      clock.setTimer(t, () => board.setPin(pin, rng.chance(0.5) ? 1 : 0));
    }
    await clock.runUntil(t + NS_PER_S);
    rec.close();
    await inputs.close();
    expect(live.length).toBeGreaterThan(100);

    const trace = parseTrace(readFileSync(path, "utf8"));
    expect(trace.issues).toEqual([]);
    expect(trace.lines.slice(0, 2)).toEqual([
      { t: 0, kind: "input", input: "a", level: 1 },
      { t: 0, kind: "input", input: "b", level: 0 },
    ]);

    // replay on a fresh board and clock
    const clock2 = new VirtualClock({ startWallMs: trace.startWallMs });
    const board2 = new SimBoard();
    const player = new TracePlayer({
      trace,
      loaded: l,
      clock: clock2,
      board: board2,
      port: () => undefined,
      startNs: 0,
      warn: (m) => expect.fail(m),
    });
    player.prepare();
    const again: Edge[] = [];
    const inputs2 = new JohnnyFiveInputs({ io: board2, clock: clock2, timestampSource: "virtual" });
    await openOn(inputs2, specs(l), again);
    expect([inputs2.level(0), inputs2.level(1)]).toEqual([1, 0]);
    player.start();
    await clock2.runUntil(player.endNs);
    expect(player.done).toBe(true);
    expect(again).toEqual(live);
    expect(player.endNs).toBe(clock.monoNs());
  });

  it("starts an input at the opposite of its first change when the trace has no t = 0 line for it", async () => {
    const l = loaded();
    const text = [
      '{"trace":1,"start":"2026-01-05T00:00:00Z"}',
      '{"t":5,"input":"a","level":1}',
      '{"t":6,"input":"a","level":0}',
      '{"t":7,"input":"ghost","level":1}',
    ].join("\n");
    const trace = parseTrace(text);
    const clock = new VirtualClock();
    const board = new SimBoard();
    const warnings: string[] = [];
    const player = new TracePlayer({ trace, loaded: l, clock, board, port: () => undefined, startNs: 0, warn: (m) => warnings.push(m) });
    player.prepare();
    const edges: Edge[] = [];
    const inputs = new JohnnyFiveInputs({ io: board, clock, timestampSource: "virtual" });
    await openOn(inputs, specs(l), edges);
    expect(inputs.level(0)).toBe(0);
    player.start();
    await clock.runUntil(10 * NS_PER_S);
    expect(edges).toEqual([
      ["a", 1, 5 * NS_PER_S],
      ["a", 0, 6 * NS_PER_S],
    ]);
    expect(warnings).toEqual(["the trace has input ghost, which the config does not define; its lines are skipped"]);
  });

  it("writes lines in time order when serial chunks arrive later than the edges around them", async () => {
    const path = join(dir, "hw.jsonl");
    const clock = new VirtualClock();
    const rec = new TraceRecorder({ path, clock, reorderMs: 1000 });
    rec.start();
    let handlers: SerialHandlers | undefined;
    const fakeLink: SerialPortLink = {
      open: async (_s, h) => {
        handlers = h;
      },
      write: async () => {},
      close: async () => {},
    };
    const link = rec.serial(() => fakeLink)();
    await link.open(
      { name: "p", path: "/dev/x", baudRate: 9600, dataBits: 8, parity: "none", stopBits: 1 },
      { data: () => {}, state: () => {} },
    );
    // a chunk stamped on arrival at 300 ms is delivered after a chunk stamped 500 ms (two ports in reality)
    handlers!.data(Buffer.from("b"), 500 * NS_PER_MS);
    handlers!.data(Buffer.from("a"), 300 * NS_PER_MS);
    clock.advanceTo(3 * NS_PER_S);
    handlers!.data(Buffer.from("c"), 2900 * NS_PER_MS);
    rec.close();
    const t = parseTrace(readFileSync(path, "utf8"));
    expect(t.issues).toEqual([]);
    expect(t.lines.map((x) => (x.kind === "data" ? x.bytes.toString() : x.kind))).toEqual(["a", "b", "c", "end"]);
  });
});
