import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { OWN_ASSETS } from "../../src/web/assets.js";
import { readToken } from "../../src/web/device-start.js";
import { encodeSenmlCbor } from "../../src/publish/senml.js";
import { FleetWeb } from "../../src/web/fleet-web.js";
import { EMBEDDED } from "../../src/web/embedded.js";
import type { HistoryRow } from "../../src/web/history.js";
import { HistoryStore } from "../../src/web/history.js";
import { isLocalOnly, parseListen } from "../../src/config/listen.js";
import { deviceSeries } from "../../src/web/series.js";

const T0 = Date.UTC(2026, 0, 5, 7, 0, 0);
const row = (seq: number, i: number, measures: HistoryRow["measures"], stream = "lane1", kind = "traffic"): HistoryRow => ({
  device: "pole-1",
  seq,
  kind,
  stream,
  tMs: T0 + i * 60_000,
  windowS: 60,
  observedS: 60,
  measures,
});

describe("web building blocks", () => {
  it("the assets compiled into dist are the files in src/web/assets (else: node dist/web/gen-embedded.js)", () => {
    for (const f of OWN_ASSETS) expect(EMBEDDED[f], f).toBe(readFileSync(new URL(`../../src/web/assets/${f}`, import.meta.url), "utf8"));
  });

  it("history: a redelivery is stored once, a restarted counter replaces, retention prunes", () => {
    const h = new HistoryStore({ path: ":memory:", retentionS: 3600 });
    expect(h.add(row(1, 0, { volume: { u: "count", v: 3 } }))).toBe(true);
    expect(h.add(row(1, 0, { volume: { u: "count", v: 3 } }))).toBe(false);
    // the same number for another window: the device's state was wiped, this is new data
    expect(h.add(row(1, 90, { volume: { u: "count", v: 9 } }))).toBe(true);
    expect(h.count()).toBe(1);
    expect(h.range("pole-1", 0, Number.MAX_SAFE_INTEGER)[0]?.measures["volume"]?.v).toBe(9);
    h.add(row(2, 0, { volume: { u: "count", v: 1 } }));
    expect(h.prune(T0 + 30 * 60_000 + 3600_000)).toBe(1);
    expect(h.count()).toBe(1);
    h.close();
  });

  it("series: a missing window is a null point, a suppressed count is null with a band, never 0", () => {
    const rows = [
      row(1, 0, { "wifi.devices": { u: "count", v: 12 } }, "ped1", "presence"),
      row(2, 1, { "wifi.devices.suppressed": { vb: true } }, "ped1", "presence"),
      row(3, 2, { "wifi.devices": { u: "count", v: 7 } }, "ped1", "presence"),
      row(4, 5, { "wifi.devices": { u: "count", v: 0 + 8 } }, "ped1", "presence"),
    ];
    const s = deviceSeries(rows, T0, T0 + 3600_000);
    const c = s.streams[0]!.charts[0]!;
    expect(c.x).toEqual([T0 / 1000, T0 / 1000 + 60, T0 / 1000 + 120, T0 / 1000 + 180, T0 / 1000 + 300]);
    expect(c.series[0]!.values).toEqual([12, null, 7, null, 8]);
    expect(c.bands).toEqual([
      { from: T0 / 1000 + 60, to: T0 / 1000 + 120, kind: "suppressed", label: "wifi.devices suppressed (fewer than k)" },
    ]);
  });

  it("series: detector faults and spills are shaded from their alarms", () => {
    const alarm = (seq: number, i: number, alarm: string, state: string, stream: string): HistoryRow => ({
      ...row(seq, i, { alarm: { vs: alarm }, state: { vs: state } }, stream, "alarm"),
      windowS: 0,
    });
    const rows = [
      row(1, 0, { volume: { u: "count", v: 5 }, flow: { u: "1/s", v: 5 / 60 } }),
      alarm(2, 1, "detector-fault", "start", "lane1"),
      row(3, 1, { volume: { u: "count", v: 1 }, "quality.faults": { u: "count", v: 1 } }),
      alarm(4, 2, "detector-fault", "end", "lane1"),
      row(5, 0, { depthMax: { u: "m", v: 1.6 } }, "mh1", "level"),
      alarm(6, 0, "spill", "start", "mh1"),
    ];
    // as the history returns them: by time, then seq
    rows.sort((a, b) => a.tMs - b.tMs || a.seq - b.seq);
    const s = deviceSeries(rows, T0, T0 + 3600_000, { mh1: 1.5 });
    const traffic = s.streams.find((x) => x.kind === "traffic")!;
    // flow absent from the second window (the data could not support it): a hole, not a zero
    expect(traffic.charts[0]!.series[1]!.values).toEqual([300, null]);
    expect(traffic.charts[0]!.bands.map((b) => [b.kind, b.from - T0 / 1000, b.to - T0 / 1000])).toEqual([
      ["fault", 60, 120],
      ["fault", 60, 120],
    ]);
    const level = s.streams.find((x) => x.kind === "level")!.charts[0]!;
    expect(level.lines).toEqual([{ y: 1.5, label: "overflow" }]);
    expect(level.bands[0]).toMatchObject({ kind: "spill", from: T0 / 1000, to: T0 / 1000 + 3600 });
    expect(s.alarms.map((a) => `${a.source}:${a.alarm}:${a.state}`)).toEqual([
      "mh1:spill:start",
      "lane1:detector-fault:start",
      "lane1:detector-fault:end",
    ]);
  });

  it("a device whose heartbeats stop turns offline after three of its intervals plus 30 s", async () => {
    let now = T0;
    const web = new FleetWeb({
      prefix: "roadside",
      host: "127.0.0.1",
      port: 0,
      historyPath: ":memory:",
      retentionS: 86400,
      title: "t",
      now: () => now,
    });
    // the device's clock is what tells the interval (1 min here), not when the heartbeats arrive
    const beat = (): void =>
      void web.message("roadside/p1/health", Buffer.from(JSON.stringify({ health: 1, time: new Date(now).toISOString() })), false);
    web.message("roadside/p1/status", Buffer.from("online"), true);
    beat();
    now += 60_000;
    beat();
    now += 3 * 60_000 + 30_000;
    web.tick();
    expect(web.rows()[0]).toMatchObject({ status: "online" });
    now += 1000;
    web.tick();
    expect(web.rows()[0]).toMatchObject({ status: "offline", why: "heartbeat" });
    beat();
    web.tick();
    expect(web.rows()[0]).toMatchObject({ status: "online" });
    await web.stop();
  });

  it("a device delivering a backlog is behind, then online once caught up", async () => {
    const now = T0;
    const web = new FleetWeb({
      prefix: "roadside",
      host: "127.0.0.1",
      port: 0,
      historyPath: ":memory:",
      retentionS: 86400,
      title: "t",
      now: () => now,
    });
    const data = (seq: number, bt: number): void =>
      void web.message(
        "roadside/p2/traffic/lane1",
        encodeSenmlCbor([
          { bn: "p2:traffic:lane1:", bt: bt / 1000, n: "seq", v: seq },
          { n: "schema", v: 1 },
          { n: "window", u: "s", v: 60 },
          { n: "observed", u: "s", v: 60 },
          { n: "timeq", vs: "synced" },
          { n: "volume", u: "count", v: 3 },
        ]),
        false,
      );
    web.message("roadside/p2/status", Buffer.from("online"), false);
    data(1, now - 3600_000);
    expect(web.rows()[0]).toMatchObject({ status: "behind" });
    expect(web.rows()[0]!.behindS).toBeGreaterThan(3000);
    data(2, now - 60_000);
    expect(web.rows()[0]).toMatchObject({ status: "online", behindS: 0 });
    await web.stop();
  });

  it("listen addresses: loopback and link-local need no token, anything else does", () => {
    expect(parseListen("127.0.0.1:8080")).toEqual({ host: "127.0.0.1", port: 8080 });
    expect(parseListen("[fe80::1]:80")).toEqual({ host: "fe80::1", port: 80 });
    expect(parseListen(":9000")).toEqual({ host: "127.0.0.1", port: 9000 });
    expect(parseListen("8080")).toContain("is not HOST:PORT");
    expect(parseListen("example.com:80")).toContain("is not an IP address");
    for (const h of ["127.0.0.1", "127.8.9.1", "::1", "169.254.10.1", "fe80::1", "localhost"]) expect(isLocalOnly(h), h).toBe(true);
    for (const h of ["0.0.0.0", "10.0.0.5", "192.168.1.2", "::", "2001:db8::1", "169.255.0.1"]) expect(isLocalOnly(h), h).toBe(false);
  });

  it("the token file must be the user's own and unreadable by others", () => {
    const dir = mkdtempSync(join(tmpdir(), "roadside-token-"));
    const f = join(dir, "t");
    writeFileSync(f, "0123456789abcdef0123\n");
    chmodSync(f, 0o640);
    expect(() => readToken(f)).toThrow(/chmod 600/);
    chmodSync(f, 0o600);
    expect(readToken(f)).toBe("0123456789abcdef0123");
    expect(() => readToken(f, 12345)).toThrow(/belongs to uid/);
    writeFileSync(f, "short\n");
    expect(() => readToken(f)).toThrow(/shorter than 16/);
    expect(() => readToken(join(dir, "missing"))).toThrow(/no such file/);
  });
});
