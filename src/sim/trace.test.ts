import { describe, expect, it } from "vitest";
import { clockJumpLine, dataLine, endLine, formatT, headerLine, inputLine, parseTrace, portStateLine } from "./trace.js";

describe("signal trace format (DESIGN.md)", () => {
  it("writes t in seconds with µs resolution", () => {
    expect(formatT(12_000_250)).toBe("12.000250");
    expect(formatT(0)).toBe("0.000000");
    expect(formatT(13_500_000)).toBe("13.500000");
    expect(formatT(86_400_000_001)).toBe("86400.000001");
  });

  it("writes text as data and anything else as hex", () => {
    expect(dataLine(13_500_000, "manhole1", Buffer.from("R1234\r"))).toBe('{"t":13.500000,"port":"manhole1","data":"R1234\\r"}');
    expect(dataLine(14_000_000, "rfid", Buffer.from([0x02, 0x30, 0x41, 0x03]))).toBe('{"t":14.000000,"port":"rfid","hex":"02304103"}');
    expect(dataLine(1, "p", Buffer.from([0xc3, 0xa9]))).toContain('"hex":"c3a9"');
    expect(inputLine(12_000_250, "lane1.up", 1)).toBe('{"t":12.000250,"input":"lane1.up","level":1}');
  });

  it("reads the example of DESIGN.md", () => {
    const text = [
      '{"trace":1,"start":"2026-11-22T07:00:00.000Z","note":"free text"}',
      '{"t":12.000250,"input":"lane1.up","level":1}',
      '{"t":12.252250,"input":"lane1.up","level":0}',
      '{"t":13.5,"port":"manhole1","data":"R1234\\r"}',
      '{"t":14.0,"port":"rfid","hex":"0230303132333435363738394103"}',
    ].join("\n");
    const t = parseTrace(text);
    expect(t.issues).toEqual([]);
    expect(t.header).toEqual({ trace: 1, start: "2026-11-22T07:00:00.000Z", note: "free text" });
    expect(t.startWallMs).toBe(Date.UTC(2026, 10, 22, 7, 0, 0));
    expect(t.lines).toEqual([
      { t: 12.00025, kind: "input", input: "lane1.up", level: 1 },
      { t: 12.25225, kind: "input", input: "lane1.up", level: 0 },
      { t: 13.5, kind: "data", port: "manhole1", bytes: Buffer.from("R1234\r") },
      { t: 14, kind: "data", port: "rfid", bytes: Buffer.from("0230303132333435363738394103", "hex") },
    ]);
  });

  it("round-trips every kind of line roadside writes", () => {
    const text = [
      headerLine({ trace: 1, start: "2026-01-05T00:00:00.000Z", synced: false }),
      inputLine(0, "a", 0),
      dataLine(1_000_000, "p", Buffer.from([0x00, 0xff])),
      portStateLine(2_000_000, "p", "lost"),
      portStateLine(3_000_000, "p", "open"),
      clockJumpLine(4_000_000, -1500, true),
      endLine(5_000_000),
    ].join("\n");
    const t = parseTrace(text);
    expect(t.issues).toEqual([]);
    expect(t.header.synced).toBe(false);
    expect(t.lines.map((l) => l.kind)).toEqual(["input", "data", "port-state", "port-state", "clock-jump", "end"]);
    expect(t.lines[4]).toEqual({ t: 4, kind: "clock-jump", deltaMs: -1500, synced: true });
  });

  it("ignores unknown keys and non-signal lines, names bad lines, sorts stragglers stably", () => {
    const text = [
      '{"trace":1,"start":"2026-01-05T00:00:00Z","tool":"other"}',
      '{"t":2,"input":"a","level":1,"extra":true}',
      '{"t":1,"input":"b","level":1}',
      '{"t":1,"input":"b","level":0}',
      "not json",
      '{"t":3,"input":"a","level":2}',
      '{"t":-1,"input":"a","level":1}',
      '{"t":4,"port":"p","hex":"zz"}',
      '{"t":4,"port":"p"}',
      '{"t":5,"comment":"skipped"}',
      "",
    ].join("\n");
    const t = parseTrace(text);
    expect(t.lines.map((l) => [l.t, l.kind === "input" ? `${l.input}=${l.level}` : l.kind])).toEqual([
      [1, "b=1"],
      [1, "b=0"],
      [2, "a=1"],
    ]);
    expect(t.issues).toEqual([
      "line 5: not JSON; each line must be one JSON object",
      "line 6: level of input a must be 0 or 1",
      "line 7: t must be seconds since start (a number ≥ 0)",
      "line 8: hex of port p must be pairs of hex digits",
      "line 9: port p has neither data nor hex",
      "2 line(s) were out of time order and have been sorted",
    ]);
  });

  it("needs a header, and never throws on garbage", () => {
    expect(parseTrace("").issues[0]).toMatch(/empty/);
    expect(parseTrace('{"t":1,"input":"a","level":1}').issues[0]).toMatch(/the first line must be the header/);
    // a file that is not a trace may hold a sensor's raw bytes: never echoed (issue 14)
    const leak = parseTrace('{"t":1,"port":"ped1","data":"DA:A1:19:00:00:01"}').issues.join("\n");
    expect(leak).toMatch(/line 1: the first line must be the header/);
    expect(leak).not.toMatch(/DA:A1|ped1/);
    expect(parseTrace("\u0000\u00ff{{{\n]]").lines).toEqual([]);
  });
});
