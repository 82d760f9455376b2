import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { encodePack } from "../../src/publish/envelope.js";
import { WatchModel } from "../../src/watch/model.js";
import { validate } from "../helpers/json-schema.js";

const schema = JSON.parse(readFileSync(new URL("../../docs/message.schema.json", import.meta.url), "utf8")) as Record<string, unknown>;
const T0 = Date.UTC(2026, 0, 5, 7, 0, 0);

describe("docs/message.schema.json", () => {
  it("accepts every kind of line watch makes and rejects what breaks the contract", () => {
    const m = new WatchModel({ prefix: "roadside" });
    const pack = (seq: number, kind: string, stream: string, extra: { n: string; u?: string; v?: number; vs?: string }[]) =>
      encodePack(
        [
          { bn: `p1:${kind}:${stream}:`, bt: T0 / 1000 + seq * 60, n: "seq", v: seq },
          { n: "schema", v: 1 },
          ...(kind === "alarm"
            ? []
            : [
                { n: "window", u: "s", v: 60 },
                { n: "observed", u: "s", v: 60 },
              ]),
          { n: "timeq", vs: "synced" },
          ...extra,
        ],
        "cbor",
      );
    const lines = [
      ...m.message("roadside/p1/status", Buffer.from("online"), true, T0),
      ...m.message("roadside/p1/manifest", Buffer.from('{"manifest":1}'), true, T0),
      ...m.message("roadside/p1/traffic/lane1", pack(1, "traffic", "lane1", [{ n: "volume", u: "count", v: 3 }]), false, T0 + 4 * 3600_000),
      ...m.message("roadside/p1/level/m1", pack(4, "level", "m1", [{ n: "depth", u: "m", v: 0.4 }]), false, T0 + 300_000),
      ...m.message("roadside/p1/level/m1", pack(4, "level", "m1", [{ n: "depth", u: "m", v: 0.5 }]), false, T0 + 300_000), // same window, other value
      ...m.message(
        "roadside/p1/alarm/m1",
        pack(5, "alarm", "m1", [
          { n: "alarm", vs: "overflow" },
          { n: "state", vs: "start" },
          { n: "code", v: 3 },
        ]),
        false,
        T0 + 300_000,
      ),
      ...m.message(
        "roadside/p1/level/m1",
        pack(5, "alarm", "m1", [
          { n: "alarm", vs: "overflow" },
          { n: "state", vs: "start" },
        ]),
        false,
        T0 + 300_000,
      ),
      ...m.message("roadside/p1/health", Buffer.from('{"uptime":5}'), false, T0),
      ...m.message("roadside/p1/doctor", Buffer.from('{"doctor":1}'), false, T0),
      ...m.message("roadside/p1/traffic/lane1", Buffer.from([1, 2, 3]), false, T0),
      ...m.tick(T0 + 24 * 3600_000),
      { type: "broker", receivedAt: new Date(T0).toISOString(), state: "connected", url: "mqtt://x:1883" },
    ];
    expect(new Set(lines.map((l) => l.type))).toEqual(
      new Set(["status", "manifest", "data", "catchup", "gap", "alarm", "health", "doctor", "invalid", "silent", "conflict", "broker"]),
    );
    for (const l of lines) expect(validate(schema, JSON.parse(JSON.stringify(l))), JSON.stringify(l)).toEqual([]);

    const data = lines.find((l) => l.type === "data")!;
    expect(validate(schema, { ...data, seq: -1 })).not.toEqual([]);
    expect(validate(schema, { ...data, timeq: "maybe" })).not.toEqual([]);
    expect(validate(schema, { ...data, measures: { volume: { u: "count", v: "3" } } })).not.toEqual([]);
    expect(validate(schema, { ...data, extra: 1 })).not.toEqual([]);
    const { windowStart: _omit, ...noStart } = data as unknown as Record<string, unknown>;
    expect(validate(schema, noStart)).not.toEqual([]);
    expect(validate(schema, { type: "nonsense" })).not.toEqual([]);
  });
});
