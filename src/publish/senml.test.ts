import { describe, expect, it } from "vitest";
import type { Summary } from "../aggregate/summary.js";
import type { Window } from "../clock/windows.js";
import { alarmPack, decodeMessage, encodePack, summaryPack } from "./envelope.js";
import { CBOR_LABELS, decodeSenmlCbor, decodeSenmlJson, encodeSenmlCbor, encodeSenmlJson, resolveSenml } from "./senml.js";
import { Topics, TopicError } from "./topics.js";

/**
 * A minimal CBOR walker (RFC 8949 §3): returns the major types seen. Used to prove the payload is
 * plain CBOR: no tags (major type 6), definite lengths only.
 */
function majorTypes(buf: Uint8Array): number[] {
  const seen: number[] = [];
  let i = 0;
  const arg = (ai: number): number => {
    if (ai < 24) return ai;
    const n = ai === 24 ? 1 : ai === 25 ? 2 : ai === 26 ? 4 : ai === 27 ? 8 : -1;
    if (n < 0) throw new Error(`indefinite length or reserved additional info ${ai} at ${i}`);
    let v = 0;
    for (let k = 0; k < n; k++) v = v * 256 + buf[i++]!;
    return v;
  };
  const item = (): void => {
    const b = buf[i++]!;
    const mt = b >> 5;
    seen.push(mt);
    const ai = b & 31;
    if (mt === 7) {
      i += ai === 25 ? 2 : ai === 26 ? 4 : ai === 27 ? 8 : 0;
      return;
    }
    const v = arg(ai);
    if (mt === 2 || mt === 3) i += v;
    else if (mt === 4) for (let k = 0; k < v; k++) item();
    else if (mt === 5) for (let k = 0; k < 2 * v; k++) item();
    else if (mt === 6) item();
  };
  item();
  if (i !== buf.length) throw new Error(`trailing bytes after the CBOR item: ${buf.length - i}`);
  return seen;
}

const window: Window = {
  lengthS: 60,
  startNs: 0,
  endNs: 60e9,
  startWallMs: Date.UTC(2026, 10, 22, 7, 0, 0),
  endWallMs: Date.UTC(2026, 10, 22, 7, 1, 0),
  index: 3,
  partial: false,
  clockJump: false,
  synced: true,
};
const summary: Summary = {
  kind: "traffic",
  name: "lane1",
  window,
  measures: [
    { n: "volume", u: "count", v: 23 },
    { n: "flow", u: "1/s", v: 0.383333 },
    { n: "occupancy", u: "/", v: 0.0871 },
  ],
};

describe("SenML encoding (RFC 8428)", () => {
  it("uses the integer labels of RFC 8428 §6 Table 4", () => {
    expect(CBOR_LABELS).toEqual({
      bver: -1,
      bn: -2,
      bt: -3,
      bu: -4,
      bv: -5,
      bs: -6,
      n: 0,
      u: 1,
      v: 2,
      vs: 3,
      vb: 4,
      s: 5,
      t: 6,
      ut: 7,
      vd: 8,
    });
    const bytes = encodeSenmlCbor([{ bn: "d:", n: "x", v: 1 }]);
    // array(1), map(3), -2 → "d:", 0 → "x", 2 → 1
    expect(Buffer.from(bytes).toString("hex")).toBe("81a3" + "21" + "62643a" + "00" + "6178" + "02" + "01");
  });

  it("is plain CBOR: no tags, definite lengths, nothing after the pack", () => {
    const bytes = encodePack(summaryPack("pole-0042", summary, 1187), "cbor");
    const types = majorTypes(bytes);
    expect(types).not.toContain(6);
    expect(types[0]).toBe(4); // an array
  });

  it("round-trips CBOR and JSON to the same records", () => {
    const pack = summaryPack("pole-0042", summary, 7);
    expect(decodeSenmlCbor(encodeSenmlCbor(pack))).toEqual(pack);
    expect(decodeSenmlJson(encodeSenmlJson(pack))).toEqual(pack);
    expect(JSON.parse(encodeSenmlJson(pack).toString())[0]).toEqual({ bn: "pole-0042:traffic:lane1:", bt: 1795330800, n: "seq", v: 7 });
  });

  it("resolves base name and base time into every record (RFC 8428 §4.6)", () => {
    const r = resolveSenml(summaryPack("pole-0042", summary, 7));
    expect(r.find((x) => x.name === "pole-0042:traffic:lane1:volume")).toEqual({
      name: "pole-0042:traffic:lane1:volume",
      time: 1795330800,
      unit: "count",
      value: 23,
    });
    expect(r.every((x) => x.time === 1795330800)).toBe(true);
    expect(r.every((x) => /^[A-Za-z0-9][-:./_A-Za-z0-9]*$/.test(x.name))).toBe(true); // RFC 8428 §4.5.1
  });

  it("decodes a message into envelope and measures, from either encoding", () => {
    for (const enc of ["cbor", "json"] as const) {
      const m = decodeMessage(encodePack(summaryPack("pole-0042", { ...summary, window: { ...window, synced: false } }, 9), enc));
      expect(m).toEqual({
        device: "pole-0042",
        kind: "traffic",
        stream: "lane1",
        seq: 9,
        schema: 1,
        windowStartMs: window.startWallMs,
        windowS: 60,
        observedS: 60,
        timeq: "unsynced",
        measures: { volume: { u: "count", v: 23 }, flow: { u: "1/s", v: 0.383333 }, occupancy: { u: "/", v: 0.0871 } },
      });
    }
  });

  it("marks a window a clock jump closed, and its observed length", () => {
    const m = decodeMessage(
      encodePack(summaryPack("d", { ...summary, window: { ...window, endNs: 12.5e9, clockJump: true, partial: true } }, 1), "cbor"),
    );
    expect(m.timeq).toBe("jump");
    expect(m.observedS).toBe(12.5);
  });

  it("encodes alarms with kind, state and code", () => {
    const pack = alarmPack(
      "d1",
      { source: "lane1", kind: "detector-fault", state: "start", tNs: 0, code: 210, message: "locked on" },
      Date.UTC(2026, 0, 1),
      "synced",
      5,
    );
    expect(pack.slice(0, 1)).toEqual([{ bn: "d1:alarm:lane1:", bt: Date.UTC(2026, 0, 1) / 1000, n: "seq", v: 5 }]);
    expect(pack).toContainEqual({ n: "code", v: 210 });
    expect(pack).toContainEqual({ n: "state", vs: "start" });
  });

  it("rejects what is not a SenML pack with a clear error", () => {
    expect(() => decodeSenmlCbor(Buffer.from([0xa1, 0x00, 0x01]))).toThrow(/a SenML pack is a CBOR array/);
    expect(() => decodeSenmlCbor(Buffer.from([0xff]))).toThrow(/not CBOR/);
    expect(() => decodeSenmlJson(Buffer.from("{}"))).toThrow(/JSON array/);
  });
});

describe("topics", () => {
  it("builds every topic from one place, with the prefix", () => {
    const t = new Topics("city/roadside", "pole-0042");
    expect(t.status()).toBe("city/roadside/pole-0042/status");
    expect(t.stream("traffic", "lane1")).toBe("city/roadside/pole-0042/traffic/lane1");
    expect(t.alarm("manhole1")).toBe("city/roadside/pole-0042/alarm/manhole1");
    expect(t.reply("ping")).toBe("city/roadside/pole-0042/cmd/ping/reply");
    expect(t.parseCommand("city/roadside/pole-0042/cmd/ping")).toBe("ping");
    expect(t.parseCommand("city/roadside/pole-0042/cmd/ping/reply")).toBeUndefined();
  });
  it("refuses wildcards and separators in names", () => {
    const t = new Topics("roadside", "d1");
    expect(() => t.stream("traffic", "lane/1")).toThrow(TopicError);
    expect(() => t.stream("traffic", "#")).toThrow(TopicError);
    expect(() => new Topics("roadside/+", "d1")).toThrow(/not safe/);
  });
});
