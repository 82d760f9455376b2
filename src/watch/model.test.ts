import { describe, expect, it } from "vitest";
import { annotateLoss, encodePack } from "../publish/envelope.js";
import type { SenmlRecord } from "../publish/senml.js";
import { WatchModel } from "./model.js";
import { renderTable } from "./table.js";
import { formatValue } from "./units.js";

const T0 = Date.UTC(2026, 0, 5, 7, 0, 0);

function traffic(device: string, stream: string, seq: number, startMs: number, volume: number, enc: "cbor" | "json" = "cbor"): Buffer {
  const pack: SenmlRecord[] = [
    { bn: `${device}:traffic:${stream}:`, bt: startMs / 1000, n: "seq", v: seq },
    { n: "schema", v: 1 },
    { n: "window", u: "s", v: 60 },
    { n: "observed", u: "s", v: 60 },
    { n: "timeq", vs: "synced" },
    { n: "volume", u: "count", v: volume },
    { n: "flow", u: "1/s", v: volume / 60 },
    { n: "occupancy", u: "/", v: 0.087 },
    { n: "speed", u: "m/s", v: 25 },
  ];
  return encodePack(pack, enc);
}

describe("WatchModel", () => {
  it("reports the drops a device announces in its next message of the topic, once", () => {
    const m = new WatchModel({ prefix: "roadside" });
    m.message("roadside/p1/traffic/lane1", traffic("p1", "lane1", 1, T0, 3), false, T0 + 61_000);
    // seq 2-4 were dropped from a full outbox; seq 5 says so
    const annotated = annotateLoss(traffic("p1", "lane1", 5, T0 + 240_000, 4), { count: 3, fromMs: T0 + 60_000, toMs: T0 + 240_000 });
    const events = m.message("roadside/p1/traffic/lane1", annotated, false, T0 + 301_000);
    expect(events.map((e) => e.type)).toEqual(["gap", "dropped", "data"]);
    expect(events[1]).toMatchObject({
      type: "dropped",
      device: "p1",
      topic: "roadside/p1/traffic/lane1",
      count: 3,
      from: "2026-01-05T07:01:00.000Z",
      to: "2026-01-05T07:04:00.000Z",
    });
    // the data keeps only its measures; a redelivery does not report the loss again
    expect(Object.keys((events[2] as { measures: object }).measures)).not.toContain("dropped");
    expect(m.message("roadside/p1/traffic/lane1", annotated, false, T0 + 302_000).map((e) => e.type)).toEqual(["data"]);
  });

  it("decodes data of any stream kind by topic and payload, CBOR or JSON", () => {
    const m = new WatchModel({ prefix: "city/roadside" });
    const [a] = m.message("city/roadside/p1/traffic/lane1", traffic("p1", "lane1", 5, T0, 23), false, T0 + 61_000);
    expect(a).toMatchObject({
      type: "data",
      device: "p1",
      kind: "traffic",
      stream: "lane1",
      seq: 5,
      seqCheck: "first",
      windowStart: "2026-01-05T07:00:00.000Z",
      windowS: 60,
      measures: { volume: { u: "count", v: 23 }, occupancy: { u: "/", v: 0.087 } },
    });
    const level = encodePack(
      [
        { bn: "p1:level:manhole1:", bt: (T0 + 60_000) / 1000, n: "seq", v: 6 },
        { n: "schema", v: 1 },
        { n: "window", u: "s", v: 60 },
        { n: "observed", u: "s", v: 60 },
        { n: "timeq", vs: "synced" },
        { n: "depth", u: "m", v: 0.42 },
      ],
      "json",
    );
    const [b] = m.message("city/roadside/p1/level/manhole1", level, false, T0 + 121_000);
    expect(b).toMatchObject({ type: "data", kind: "level", stream: "manhole1", seqCheck: "ok", measures: { depth: { u: "m", v: 0.42 } } });
    expect(m.message("other/p1/traffic/lane1", traffic("p1", "lane1", 7, T0, 1), false, T0)).toEqual([]);
  });

  it("reports gaps and redeliveries per device across its streams", () => {
    const m = new WatchModel({ prefix: "roadside" });
    m.message("roadside/p1/traffic/lane1", traffic("p1", "lane1", 1, T0, 1), false, T0 + 61_000);
    m.message("roadside/p2/traffic/lane1", traffic("p2", "lane1", 50, T0, 1), false, T0 + 61_000);
    m.message("roadside/p1/traffic/lane2", traffic("p1", "lane2", 2, T0, 1), false, T0 + 61_000);
    const evs = m.message("roadside/p1/traffic/lane1", traffic("p1", "lane1", 5, T0 + 60_000, 1), false, T0 + 121_000);
    expect(evs.map((e) => e.type)).toEqual(["gap", "data"]);
    expect(evs[0]).toMatchObject({ device: "p1", from: 3, to: 4, missing: 2 });
    const dup = m.message("roadside/p1/traffic/lane1", traffic("p1", "lane1", 5, T0 + 60_000, 1), false, T0 + 122_000);
    expect(dup).toMatchObject([{ type: "data", seqCheck: "duplicate" }]);
    expect(m.totals()).toMatchObject({ devices: 2, gaps: 1, missing: 2, duplicates: 1 });
  });

  it("tracks status (retained or live) and alarms, and rejects what is not a roadside message", () => {
    const m = new WatchModel({ prefix: "roadside" });
    expect(m.message("roadside/p1/status", Buffer.from("offline"), true, T0)).toMatchObject([
      { type: "status", status: "offline", retained: true },
    ]);
    expect(m.devices.get("p1")!.status).toBe("offline");
    m.message("roadside/p1/status", Buffer.from("online"), false, T0 + 1000);
    expect(m.devices.get("p1")!.status).toBe("online");
    const alarm = encodePack(
      [
        { bn: "p1:alarm:manhole1:", bt: T0 / 1000, n: "seq", v: 9 },
        { n: "schema", v: 1 },
        { n: "timeq", vs: "synced" },
        { n: "alarm", vs: "overflow" },
        { n: "state", vs: "start" },
        { n: "code", v: 3 },
        { n: "depth", u: "m", v: 1.9 },
      ],
      "cbor",
    );
    expect(m.message("roadside/p1/alarm/manhole1", alarm, false, T0 + 2000)).toMatchObject([
      { type: "alarm", source: "manhole1", alarm: "overflow", state: "start", code: 3, measures: { depth: { u: "m", v: 1.9 } } },
    ]);
    expect(m.message("roadside/p1/traffic/lane1", Buffer.from([0xff, 0x00]), false, T0)).toMatchObject([{ type: "invalid", bytes: 2 }]);
    expect(m.message("roadside/p9/traffic/lane1", traffic("p1", "lane1", 1, T0, 1), false, T0)).toMatchObject([
      { type: "invalid", error: 'payload names device "p1" but the topic is device "p9"' },
    ]);
    expect(m.message("roadside/p1/cmd/ping", Buffer.from("{}"), false, T0)).toEqual([]);
  });

  it("notices a backlog being delivered and its end, and an online device gone silent", () => {
    const m = new WatchModel({ prefix: "roadside" });
    m.message("roadside/p1/status", Buffer.from("online"), false, T0);
    const now = T0 + 3 * 3600_000;
    const first = m.message("roadside/p1/traffic/lane1", traffic("p1", "lane1", 1, T0, 1), false, now);
    expect(first.map((e) => e.type)).toEqual(["data", "catchup"]);
    expect(first[1]).toMatchObject({ state: "start", behindS: 3 * 3600 - 60 });
    for (let i = 2; i <= 170; i++) m.message("roadside/p1/traffic/lane1", traffic("p1", "lane1", i, T0 + (i - 1) * 60_000, 1), false, now);
    const done = m.message("roadside/p1/traffic/lane1", traffic("p1", "lane1", 171, now - 120_000, 1), false, now);
    expect(done[1]).toMatchObject({ type: "catchup", state: "done", messages: 171 });
    expect(m.tick(now + 200_000)).toEqual([]);
    expect(m.tick(now + 300_000)).toMatchObject([{ type: "silent", device: "p1" }]);
    expect(m.tick(now + 400_000)).toEqual([]); // once per silence
  });
});

describe("the live table", () => {
  it("shows each device and stream with readable units, the totals and the latest events", () => {
    const m = new WatchModel({ prefix: "roadside" });
    m.message("roadside/pole-1/status", Buffer.from("online"), true, T0);
    m.message("roadside/pole-1/traffic/lane1", traffic("pole-1", "lane1", 1, T0, 23), false, T0 + 61_000);
    m.message("roadside/pole-1/traffic/lane1", traffic("pole-1", "lane1", 4, T0 + 60_000, 20), false, T0 + 121_000);
    m.message("roadside/pole-2/status", Buffer.from("offline"), false, T0 + 1000);
    const lines = renderTable(m, { nowMs: T0 + 241_000, columns: 140, rows: 30, utc: true, title: "roadside watch" });
    const text = lines.join("\n");
    expect(lines[1]).toBe("2 devices: 1 online, 1 offline · 4 messages · gaps 1 (2 missing) · duplicates 0");
    expect(text).toMatch(
      /pole-1 +online +traffic\/lane1 +07:01:00 1m +4 +volume 20 +flow 1200 veh\/h +occupancy 8\.7 % +speed 90\.0 km\/h/,
    );
    expect(text).toMatch(/pole-2 +OFFLINE 4m/);
    expect(text).toContain("07:02:01  pole-1: gap, seq 2–3 missing (2)");
    expect(text).toContain("07:00:01  pole-2: offline");
    const narrow = renderTable(m, { nowMs: T0, columns: 40, rows: 30, utc: true, title: "t" });
    for (const l of narrow) expect(l.length).toBeLessThanOrEqual(40);
  });

  it("formats SenML units for people", () => {
    expect(formatValue({ u: "1/s", v: 0.3833 }, "traffic")).toBe("1380 veh/h");
    expect(formatValue({ u: "/", v: 0.0871 })).toBe("8.7 %");
    expect(formatValue({ u: "m/s", v: 25 })).toBe("90.0 km/h");
    expect(formatValue({ u: "Cel", v: 57.25 })).toBe("57.3 °C");
    expect(formatValue({ u: "mm", v: 480 })).toBe("480 mm");
    expect(formatValue({ u: "s", v: 303 })).toBe("5m 03s");
    expect(formatValue({ vs: "suppressed" })).toBe("suppressed");
    expect(formatValue({ vb: true })).toBe("yes");
  });
});
