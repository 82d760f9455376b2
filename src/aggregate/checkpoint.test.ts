import { describe, expect, it } from "vitest";
import type { Checkpoint, CrashRecord } from "../outbox/outbox.js";
import { Checkpointer, planRecovery } from "./checkpoint.js";
import { VirtualClock } from "../clock/virtual.js";
import { NS_PER_S } from "../clock/clock.js";
import { silentLogger } from "../log/logger.js";
import type { Summary } from "./summary.js";

const T0 = Date.UTC(2026, 0, 5, 7, 0, 0);
const MIN = 60_000;
const LANE = "roadside/d/traffic/lane1";

function cp(topic: string, windowStartMs: number, observedMs: number, windowS = 60, observedFromMs = windowStartMs): Checkpoint {
  return {
    topic,
    windowStartMs,
    windowS,
    observedFromMs,
    observedMs,
    takenMs: observedFromMs + observedMs,
    synced: true,
    summary: JSON.stringify({ kind: "traffic", name: topic.split("/").pop(), measures: [{ n: "volume", u: "count", v: 7 }] }),
  };
}

const lanes = (): number => 60;

describe("planRecovery: which windows a crash left are recovered and which are lost", () => {
  it("no checkpoint: the open window is lost from its start to the restart (1 window)", () => {
    const rec: CrashRecord = { open: [{ topic: LANE, fromMs: T0 + 2 * MIN }], checkpoints: [] };
    const p = planRecovery(rec, T0 + 10 * MIN, lanes);
    expect(p.recovered).toEqual([]);
    expect(p.losses).toEqual([{ topic: LANE, count: 1, fromMs: T0 + 2 * MIN, toMs: T0 + 10 * MIN }]);
  });

  it("a checkpoint of the open window: recovered with observed up to it; the time down is a loss of 0 windows", () => {
    const rec: CrashRecord = { open: [{ topic: LANE, fromMs: T0 + 2 * MIN }], checkpoints: [cp(LANE, T0 + 2 * MIN, 30_000)] };
    const p = planRecovery(rec, T0 + 10 * MIN + 5000, lanes);
    expect(p.recovered).toHaveLength(1);
    const s = p.recovered[0]!;
    expect(s.recovered).toBe("crash");
    expect(s.window.endWallMs - s.window.lengthS * 1000).toBe(T0 + 2 * MIN);
    expect((s.window.endNs - s.window.startNs) / 1e9).toBe(30);
    expect(s.measures).toEqual([{ n: "volume", u: "count", v: 7 }]);
    expect(p.losses).toEqual([{ topic: LANE, count: 0, fromMs: T0 + 3 * MIN, toMs: T0 + 10 * MIN + 5000 }]);
  });

  it("a restart in the next window needs no loss report; a restart inside the same window neither", () => {
    const rec: CrashRecord = { open: [{ topic: LANE, fromMs: T0 + 2 * MIN }], checkpoints: [cp(LANE, T0 + 2 * MIN, 30_000)] };
    expect(planRecovery(rec, T0 + 3 * MIN + 20_000, lanes).losses).toEqual([]);
    expect(planRecovery(rec, T0 + 2 * MIN + 50_000, lanes).losses).toEqual([]);
  });

  it("a crash in the grace after a boundary: the closed window comes back from its own checkpoint", () => {
    // window 2:00 was recorded open; it closed at 3:00 and the kill came before its commit at 3:00.5
    const rec: CrashRecord = { open: [{ topic: LANE, fromMs: T0 + 2 * MIN }], checkpoints: [cp(LANE, T0 + 2 * MIN, 30_000)] };
    const p = planRecovery(rec, T0 + 3 * MIN + 400, lanes);
    expect(p.recovered).toHaveLength(1);
    expect(p.losses).toEqual([]);
  });

  it("a checkpoint of a later window than the one recorded open: the earlier one is lost, the later one recovered", () => {
    const rec: CrashRecord = { open: [{ topic: LANE, fromMs: T0 + 2 * MIN }], checkpoints: [cp(LANE, T0 + 3 * MIN, 30_000)] };
    const p = planRecovery(rec, T0 + 3 * MIN + 50_000, lanes);
    expect(p.recovered.map((s) => s.window.endWallMs)).toEqual([T0 + 4 * MIN]);
    expect(p.losses).toEqual([{ topic: LANE, count: 1, fromMs: T0 + 2 * MIN, toMs: T0 + 3 * MIN + 50_000 }]);
  });

  it("checkpoints of windows committed before the one recorded open are ignored", () => {
    const rec: CrashRecord = { open: [{ topic: LANE, fromMs: T0 + 2 * MIN }], checkpoints: [cp(LANE, T0 + MIN, 30_000)] };
    const p = planRecovery(rec, T0 + 10 * MIN, lanes);
    expect(p.recovered).toEqual([]);
    expect(p.losses).toEqual([{ topic: LANE, count: 1, fromMs: T0 + 2 * MIN, toMs: T0 + 10 * MIN }]);
  });

  it("the first window of a run, started inside it: observed from the start, not from the aligned boundary", () => {
    const rec: CrashRecord = {
      open: [{ topic: LANE, fromMs: T0 + 10_000 }],
      checkpoints: [cp(LANE, T0, 20_000, 60, T0 + 10_000)],
    };
    const p = planRecovery(rec, T0 + 40_000, lanes);
    expect(p.recovered[0]!.window.startWallMs).toBe(T0 + 10_000);
    expect(p.losses).toEqual([]);
  });

  it("an unreadable checkpoint (or one naming a presence stream) counts as none", () => {
    const bad = { ...cp(LANE, T0 + 2 * MIN, 30_000), summary: "{not json" };
    const presence = {
      ...cp("roadside/d/presence/ped1", T0 + 2 * MIN, 30_000),
      summary: JSON.stringify({ kind: "presence", name: "ped1", measures: [] }),
    };
    const rec: CrashRecord = {
      open: [
        { topic: LANE, fromMs: T0 + 2 * MIN },
        { topic: "roadside/d/presence/ped1", fromMs: T0 + 2 * MIN },
      ],
      checkpoints: [bad, presence],
    };
    const p = planRecovery(rec, T0 + 10 * MIN, lanes);
    expect(p.recovered).toEqual([]);
    expect(p.losses.map((l) => l.count)).toEqual([1, 1]);
  });

  it("the clock reads earlier than the window at the restart (no RTC, before NTP): the span ends at its start", () => {
    const rec: CrashRecord = { open: [{ topic: LANE, fromMs: T0 + 2 * MIN }], checkpoints: [] };
    expect(planRecovery(rec, Date.UTC(1970, 0, 1), lanes).losses).toEqual([
      { topic: LANE, count: 1, fromMs: T0 + 2 * MIN, toMs: T0 + 2 * MIN },
    ]);
  });
});

describe("Checkpointer", () => {
  it("never registers an identifier-derived stream", () => {
    const clock = new VirtualClock({ startWallMs: T0 });
    const c = new Checkpointer({ clock, intervalS: 60, store: {}, topic: (k, n) => `${k}/${n}`, logger: silentLogger });
    expect(() => c.register("presence" as "traffic", { peek: () => undefined })).toThrow(/identifiers/);
  });

  it("takes checkpoints halfway between interval boundaries, of windows that observed something", async () => {
    const clock = new VirtualClock({ startWallMs: T0 + 10_000 });
    const saved: Checkpoint[][] = [];
    const c = new Checkpointer({
      clock,
      intervalS: 60,
      store: { saveCheckpoints: (cps) => saved.push([...cps]) },
      topic: (k, n) => `${k}/${n}`,
      logger: silentLogger,
    });
    const startNs = clock.monoNs();
    const peek = (nowNs: number): Summary => ({
      kind: "traffic",
      name: "lane1",
      window: {
        lengthS: 60,
        startNs,
        endNs: nowNs,
        startWallMs: T0 + 10_000,
        endWallMs: T0 + MIN,
        index: 0,
        partial: true,
        clockJump: false,
        synced: true,
      },
      measures: [{ n: "volume", u: "count", v: 1 }],
    });
    c.register("traffic", { peek });
    c.start();
    await clock.runUntil(startNs + 100 * NS_PER_S);
    c.stop();
    // at 0:30 and 1:30 wall time
    expect(saved.map((s) => s[0]!.takenMs)).toEqual([T0 + 30_000, T0 + 90_000]);
    expect(saved[0]![0]).toMatchObject({ topic: "traffic/lane1", windowStartMs: T0, observedFromMs: T0 + 10_000, observedMs: 20_000 });
  });
});
