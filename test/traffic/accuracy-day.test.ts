import { beforeAll, describe, expect, it } from "vitest";
import type { LaneReport } from "../../src/sim/traffic-accuracy.js";
import { evaluateTraffic, formatReport } from "../../src/sim/traffic-accuracy.js";
import type { TrafficRun } from "../../src/sim/traffic-rig.js";
import { runTrafficSite, trafficDayConfig } from "../../src/sim/traffic-rig.js";
import { mustLoad } from "../helpers/sim-device.js";

const SEED = 7;

/**
 * A simulated weekday on five lanes (src/sim/traffic-rig.ts trafficDayConfig): commuter peaks,
 * platoons, stop-and-go, lane changes, wrong-way drivers, every card fault, cards with 5–30 ms
 * latency and 0.5 ms jitter, stamps exact (virtual time, as a hardware stamp would be). The real
 * drivers and aggregators run against the simulator's board; what they publish is compared with
 * the simulator's ground truth.
 */
describe(`a simulated day against ground truth (seed ${SEED})`, () => {
  let run: TrafficRun;
  let reports: LaneReport[];
  const report = (name: string) => reports.find((r) => r.detector === name)!;
  beforeAll(() => {
    run = runTrafficSite(mustLoad(trafficDayConfig(SEED) as never), { seconds: 86400 });
    reports = evaluateTraffic(run);
    for (const r of reports) console.log(formatReport(r));
  }, 300_000); // a simulated day: ~30 s alone, several times that on a busy 2-core CI machine

  it("simulated a full day of traffic", () => {
    expect(run.vehicles.length).toBeGreaterThan(40_000);
    // one per minute of the day; a run that ends on a boundary publishes no empty window after it
    expect(run.summaries.filter((s) => s.name === "lane1")).toHaveLength(1440);
  });

  it("volume is exact in every window outside injected faults", () => {
    for (const r of reports) {
      expect(r.volume.compared, r.detector).toBeGreaterThan(r.windows * 0.75);
      expect(r.volume.mismatches, `${r.detector} seed ${SEED}`).toEqual([]);
    }
  });

  it("a speed trap counts exactly through lost edges and contact bounce too", () => {
    const r = report("lane2");
    expect(r.volumeDuringFaults.compared).toBeGreaterThan(200);
    expect(r.volumeDuringFaults.mismatches).toEqual([]);
    expect(r.glitches).toBeGreaterThan(1000);
  });

  it("occupancy is within 0.2 percentage points of the vehicles' true presence", () => {
    for (const r of reports.filter((x) => x.occupancy.compared > 0)) {
      expect(r.occupancy.maxErrPhysicalPp, r.detector).toBeLessThanOrEqual(0.2);
      // against the card output the board saw, only the published rounding (1e-6) remains
      expect(r.occupancy.maxErrPp, r.detector).toBeLessThan(0.001);
    }
  });

  it("speeds: median absolute error ≤ 1 %, 85th percentile within 1 km/h per window and over the day", () => {
    for (const name of ["lane1", "lane2"]) {
      const r = report(name);
      expect(r.speed.vehicles, name).toBeGreaterThan(8000);
      expect(r.speed.medianAbsErrPct, name).toBeLessThanOrEqual(1);
      expect(r.speed.windowsCompared, name).toBeGreaterThan(500);
      expect(r.speed.p85MaxErrKmh, name).toBeLessThanOrEqual(1);
      expect(r.speed.dayP85ErrKmh, name).toBeLessThanOrEqual(1);
    }
  });

  it("every injected detector fault is detected, and nothing else", () => {
    for (const r of reports) {
      for (const f of r.faults)
        expect(f.detected, `${r.detector}: ${f.fault} on ${f.inputs.join("+")} (expected ${f.expected.join(", ") || "no alarm"})`).toBe(
          true,
        );
      expect(
        r.unexpected.map((a) => a.message),
        r.detector,
      ).toEqual([]);
    }
    expect(report("lane2").faults.map((f) => f.fault)).toEqual([
      "stuck-on",
      "chatter",
      "drop-edges",
      "drop-edges",
      "bounce",
      "intermittent",
      "stuck-off",
    ]);
  });

  it("no fault is raised on a healthy lane", () => {
    const healthy = run.alarms.filter((a) => a.kind === "detector-fault" && (a.source === "lane1" || a.source === "lane5"));
    expect(healthy).toEqual([]);
  });

  it("every wrong-way driver is reported, and nobody else", () => {
    const r = report("lane1");
    expect(r.wrongWay.truth).toBeGreaterThan(0);
    expect(r.wrongWay.device).toBe(r.wrongWay.truth);
    expect(run.alarms.filter((a) => a.kind === "wrong-way" && a.source === "lane1")).toHaveLength(r.wrongWay.truth);
  });
});
