import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { encodePack } from "../publish/envelope.js";
import { healthView } from "./health.js";
import { WatchModel } from "./model.js";
import { renderTable } from "./table.js";

const T0 = Date.UTC(2026, 0, 5, 7, 0, 0);
/** The health example of docs/payloads.md: what the table reads must be what the docs show. */
function docHealth(): Record<string, unknown> {
  const text = readFileSync(new URL("../../docs/payloads.md", import.meta.url), "utf8");
  const start = text.indexOf('{\n  "health": 1,');
  return JSON.parse(text.slice(start, text.indexOf("\n}\n", start) + 2)) as Record<string, unknown>;
}
const pack = (device: string, seq: number, startMs: number, volume: number, observed = 60) =>
  encodePack(
    [
      { bn: `${device}:traffic:lane1:`, bt: startMs / 1000, n: "seq", v: seq },
      { n: "schema", v: 1 },
      { n: "window", u: "s", v: 60 },
      { n: "observed", u: "s", v: observed },
      { n: "timeq", vs: "synced" },
      { n: "volume", u: "count", v: volume },
    ],
    "cbor",
  );

describe("watch: health per device", () => {
  it("reads outbox depth and age, drops, clock, temperature and sensor faults from a heartbeat", () => {
    const h = docHealth();
    const outbox = h["outbox"] as Record<string, unknown>;
    outbox["depth"] = 3;
    outbox["oldestAgeS"] = 150;
    expect(healthView(h)).toEqual({
      outboxDepth: 3,
      oldestAgeS: 150,
      drops: 2210,
      synced: true,
      cpuTempC: 48.3,
      faults: ["sensor.mh1:silent"],
    });
    expect(healthView({ sections: { "traffic.lane1": { inFault: true, faults: "lane1.down:locked-on" } } }).faults).toEqual([
      "traffic.lane1:lane1.down:locked-on",
    ]);
    expect(healthView("not json")).toEqual({ outboxDepth: null, oldestAgeS: null, drops: null, synced: null, cpuTempC: null, faults: [] });
  });

  it("shows them in the table: last seen, outbox, drops, clock, temperature, faults", () => {
    const m = new WatchModel({ prefix: "roadside" });
    const h = docHealth();
    h["device"] = "pole-1";
    (h["outbox"] as Record<string, unknown>)["depth"] = 3;
    (h["outbox"] as Record<string, unknown>)["oldestAgeS"] = 150;
    m.message("roadside/pole-1/health", Buffer.from(JSON.stringify(h)), false, T0);
    m.message("roadside/pole-2/status", Buffer.from("online"), true, T0);
    const lines = renderTable(m, { nowMs: T0 + 12_000, columns: 140, rows: 30, utc: true, color: false, title: "t" });
    const text = lines.join("\n");
    expect(text).toMatch(/DEVICE +STATUS +LAST SEEN +OUTBOX +DROPS +CLOCK +TEMP +FAULTS/);
    expect(text).toMatch(/pole-1 +\? +12s ago +3, 3m old +2210 +synced +48 °C +sensor\.mh1:silent/);
    // a retained status says nothing about when the device was last heard
    expect(text).toMatch(/pole-2 +online +– +– +– +– +– +\(no health yet\)/);
    expect(text).not.toContain("\x1b[");
    expect(renderTable(m, { nowMs: T0, columns: 140, rows: 30, color: true, title: "t" }).join("\n")).toContain("\x1b[33m");
  });
});

describe("watch: conflicting payloads for one device, stream and window", () => {
  it("flags two different payloads for one window; a redelivery or a restart inside the window is no conflict", () => {
    const m = new WatchModel({ prefix: "roadside" });
    const t = "roadside/p1/traffic/lane1";
    expect(m.message(t, pack("p1", 1, T0, 20), false, T0).map((e) => e.type)).toEqual(["data"]);
    // redelivered: identical
    expect(m.message(t, pack("p1", 1, T0, 20), false, T0).map((e) => e.type)).toEqual(["data"]);
    // a second board with the same id, its own counter: another seq, other values
    const c = m.message(t, pack("p1", 7, T0, 31), false, T0);
    expect(c[0]).toMatchObject({
      type: "conflict",
      device: "p1",
      stream: "traffic/lane1",
      windowStart: "2026-01-05T07:00:00.000Z",
      seqs: [1, 7],
    });
    // one seq, two contents
    const d = m.message(t, pack("p1", 2, T0 + 60_000, 5), false, T0);
    expect(d.map((e) => e.type)).toEqual(["data"]);
    expect(m.message(t, pack("p1", 2, T0 + 60_000, 6), false, T0)[0]).toMatchObject({
      type: "conflict",
      seqs: [2, 2],
      detail: "seq 2 came twice with different values: two devices publish as p1",
    });
    // stopped at :20 and restarted at :35 inside one window: two partial pieces, not a conflict
    m.message(t, pack("p1", 3, T0 + 120_000, 4, 20), false, T0);
    expect(m.message(t, pack("p1", 4, T0 + 120_000, 7, 25), false, T0).map((e) => e.type)).toEqual(["data"]);
    expect(m.totals().conflicts).toBe(2);
    expect(renderTable(m, { nowMs: T0, columns: 160, rows: 40, utc: true, title: "t" }).join("\n")).toContain(
      "p1: conflicting payloads for traffic/lane1 window 07:00:00 UTC (seq 1 and seq 7 give different values for one window",
    );
  });
});
