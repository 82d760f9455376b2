import { describe, expect, it } from "vitest";
import { laneRig, S } from "../../test/helpers/lane.js";
import { loopDetectorSchema, resolveDiagnostics } from "../config/sections/detectors.js";
import type { DetectorFault } from "./traffic-diagnostics.js";
import { LaneDiagnostics, SAMPLE_NS } from "./traffic-diagnostics.js";

function diag(loops: number, detector: Record<string, unknown> = {}, presence = true) {
  const cfg = resolveDiagnostics(loopDetectorSchema.parse({ loops: loops === 2 ? ["a", "b"] : ["a"], ...detector }));
  const events: { loop: number; kind: DetectorFault; state: string; t: number }[] = [];
  const service: { loop: number; inFault: boolean; since: number }[] = [];
  const d = new LaneDiagnostics(loops, presence, cfg, {
    fault: (loop, kind, state, t) => events.push({ loop, kind, state, t }),
    loopFault: (loop, inFault, since) => service.push({ loop, inFault, since }),
  });
  d.start(0, loops === 2 ? [0, 0] : [0]);
  let tick = SAMPLE_NS;
  const until = (t: number) => {
    while (tick <= t) {
      d.tick(tick);
      tick += SAMPLE_NS;
    }
  };
  const pulse = (loop: number, on: number, off: number) => {
    until(on);
    d.on(loop, on);
    until(off);
    d.off(loop, off);
  };
  return { d, events, service, until, pulse, cfg };
}

describe("detector diagnostics (IRIS rules, 30 s samples)", () => {
  it("defaults follow the lane type (IRIS table)", () => {
    expect(diag(1).cfg).toMatchObject({ lockedOnS: 120, noHitsS: 4 * 3600, heldPresenceS: 20, chatterVehicles: 38, noChangeS: 86400 });
    expect(diag(1, { laneType: "queue" }).cfg).toMatchObject({ lockedOnS: 1800, noHitsS: 12 * 3600, heldPresenceS: 1800 });
    expect(diag(1, { laneType: "exit", diagnostics: { noHitsS: "2h" } }).cfg.noHitsS).toBe(7200);
  });

  it("chatter: 38 vehicles in a 30 s sample, cleared after chatterClearS without", () => {
    const t = diag(1, { diagnostics: { chatterClearS: "10m" } });
    for (let i = 0; i < 38; i++) t.pulse(0, (31 + i * 0.7) * S, (31.2 + i * 0.7) * S);
    t.until(60 * S);
    expect(t.events).toEqual([{ loop: 0, kind: "chatter", state: "start", t: 60 * S }]);
    expect(t.service).toEqual([{ loop: 0, inFault: true, since: 60 * S }]);
    t.until(60 * S + 600 * S);
    expect(t.events.at(-1)).toMatchObject({ kind: "chatter", state: "end" });
  });

  it("37 vehicles in 30 s is heavy traffic, not chatter", () => {
    const t = diag(1);
    for (let i = 0; i < 37; i++) t.pulse(0, (31 + i * 0.75) * S, (31.2 + i * 0.75) * S);
    t.until(120 * S);
    expect(t.events).toEqual([]);
  });

  it("locked on: presence for 2 min on a mainline, dated from the presence start, ended by the off edge", () => {
    const t = diag(1);
    t.until(10 * S);
    t.d.on(0, 10 * S);
    t.until(120 * S);
    expect(t.events).toEqual([]);
    t.until(150 * S);
    expect(t.events).toEqual([{ loop: 0, kind: "locked-on", state: "start", t: 10 * S }]);
    t.d.off(0, 400 * S);
    expect(t.events.at(-1)).toEqual({ loop: 0, kind: "locked-on", state: "end", t: 400 * S });
    expect(t.service.map((s) => s.inFault)).toEqual([true, false]);
  });

  it("a queue lane waits 30 min before calling a presence locked on", () => {
    const t = diag(1, { laneType: "queue" });
    t.d.on(0, 10 * S);
    t.until(1500 * S);
    expect(t.events).toEqual([]);
    t.until(1900 * S);
    expect(t.events.map((e) => e.kind)).toEqual(["locked-on"]);
  });

  it("no hits: nothing for 4 h on a mainline; the next vehicle clears it", () => {
    const t = diag(1);
    t.pulse(0, 100 * S, 100.3 * S);
    t.until((100 + 4 * 3600 - 60) * S);
    expect(t.events).toEqual([]);
    t.until((100 + 4 * 3600 + 30) * S);
    expect(t.events).toEqual([{ loop: 0, kind: "no-hits", state: "start", t: 100 * S }]);
    t.pulse(0, 20000 * S, 20000.3 * S);
    expect(t.events.at(-1)).toMatchObject({ kind: "no-hits", state: "end", t: 20000 * S });
  });

  it("no change: the same non-zero occupancy, to the scan, for noChangeS", () => {
    const t = diag(1, { diagnostics: { noChangeS: "10m" } });
    // a card output repeating one pattern: 1.5 s on every 10 s, in phase with the samples
    for (let k = 0; k < 90; k++) t.pulse(0, (31 + k * 10) * S, (32.5 + k * 10) * S);
    t.until(930 * S);
    const start = t.events.find((e) => e.kind === "no-change");
    expect(start?.state).toBe("start");
    t.pulse(0, 935 * S, 940 * S); // the pattern breaks
    t.until(1000 * S);
    expect(t.events.at(-1)).toMatchObject({ kind: "no-change", state: "end" });
  });

  it("occupancy spikes out of light traffic, repeated, are a fault (NTCIP 214); a busy queue is not", () => {
    const t = diag(1);
    let time = 30;
    // light traffic (~3 %), and every 2 min a sample with 12 s of presence (40 %)
    for (let k = 0; k < 12; k++) {
      const sample = time;
      if (k % 4 === 1) t.pulse(0, (sample + 5) * S, (sample + 17) * S);
      else t.pulse(0, (sample + 5) * S, (sample + 6) * S);
      time += 30;
    }
    t.until(time * S + 1);
    expect(t.events.map((e) => [e.kind, e.state])).toEqual([["spike", "start"]]);

    const q = diag(1);
    time = 30;
    const rng = [0.5, 0.9, 0.55, 0.85, 0.4, 0.95, 0.6, 0.8, 0.45, 0.9, 0.5, 0.88];
    for (const occ of rng) {
      q.pulse(0, (time + 1) * S, (time + 1 + occ * 28) * S);
      time += 30;
    }
    q.until(time * S + 1);
    expect(q.events).toEqual([]);
  });

  it("speed trap mismatch: 20 vehicles in a row on one loop only silence the other (NTCIP 211)", () => {
    const t = diag(2);
    for (let i = 0; i < 19; i++) t.d.unpaired(1, (10 + i * 3) * S);
    expect(t.events).toEqual([]);
    t.d.unpaired(1, (10 + 19 * 3) * S);
    expect(t.events).toEqual([{ loop: 0, kind: "mismatch", state: "start", t: 10 * S }]);
    // the silent loop comes back: three vehicles of its own
    for (let i = 0; i < 3; i++) t.d.on(0, (100 + i) * S);
    expect(t.events.at(-1)).toMatchObject({ loop: 0, kind: "mismatch", state: "end" });
  });

  it("...but not when the run is faster than any traffic (chatter on the other loop)", () => {
    const t = diag(2);
    for (let i = 0; i < 40; i++) t.d.unpaired(1, (10 + i * 0.5) * S);
    expect(t.events).toEqual([]);
  });

  it("a trap loop missing more than a quarter of the other's vehicles is erratic (NTCIP 217), without taking it out", () => {
    const t = diag(2);
    for (let i = 0; i < 40; i++) {
      const at = (31 + i * 0.7) * S;
      t.until(at);
      if (i % 3 === 0) t.d.unpaired(1, at);
      else t.d.paired(at);
    }
    t.until(60 * S);
    expect(t.events).toEqual([{ loop: 0, kind: "unpaired", state: "start", t: 60 * S }]);
    expect(t.service).toEqual([]);
    for (let i = 0; i < 40; i++) {
      t.until((61 + i) * S);
      t.d.paired((61 + i) * S);
    }
    t.until(120 * S);
    expect(t.events.at(-1)).toMatchObject({ kind: "unpaired", state: "end" });
  });

  it("diagnostics can be switched off", () => {
    const t = diag(1, { diagnostics: { enabled: false } });
    t.d.on(0, 10 * S);
    t.until(3 * 3600 * S);
    expect(t.events).toEqual([]);
  });
});

describe("fault alarms on the alarm stream", () => {
  it("carry the NTCIP code, the input, the fault and how late it was noticed", () => {
    const r = laneRig({ loops: ["up", "down"] }, { windowS: 60 });
    r.edge(1, 1, 5 * S); // downstream output stuck on
    r.until(200 * S);
    const a = r.alarms.find((x) => x.kind === "detector-fault")!;
    expect(a).toMatchObject({ source: "lane", state: "start", code: 210, tNs: 5 * S });
    expect(a.measures).toEqual([
      { n: "input", vs: "down" },
      { n: "fault", vs: "locked-on" },
      { n: "delay", u: "s", v: 145 },
    ]);
    expect(a.message).toContain("down (lane): locked on");
    expect(r.agg.health()).toMatchObject({ inFault: true, faults: "down:locked-on" });
  });
});
