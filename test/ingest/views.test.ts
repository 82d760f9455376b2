import { readFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Mosquitto } from "../helpers/brokers.js";
import { startMosquitto } from "../helpers/brokers.js";
import type { Postgres } from "../helpers/postgres.js";
import { startPostgres } from "../helpers/postgres.js";
import type { Msg } from "./rig.js";
import { alarmMsg, publisher, spawnIngest, summaryMsg, SETTLED } from "./rig.js";

// The documented views and functions answer from rows ingest wrote; dry run; retention.
let db: Postgres;
let mosq: Mosquitto;
beforeAll(async () => {
  [db, mosq] = await Promise.all([startPostgres(), startMosquitto()]);
});
afterAll(async () => {
  await Promise.all([db?.stop(), mosq?.stop()]);
});

async function database(name: string): Promise<{ url: string; pool: pg.Pool; rows<T>(sql: string): Promise<T[]> }> {
  db.psql(`CREATE DATABASE ${name}`);
  const url = db.url.replace(/\/roadside$/, `/${name}`);
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  return { url, pool, rows: async <T>(sql: string) => (await pool.query(sql)).rows as T[] };
}

async function stored(pool: pg.Pool, n: number): Promise<void> {
  const end = Date.now() + 30_000;
  for (;;) {
    const r = await pool.query<{ n: string }>(SETTLED);
    if (Number(r.rows[0]!.n) >= n) return;
    if (Date.now() > end) throw new Error(`fewer than ${n} rows after 30 s`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

const H = 3600_000;
const T0 = Date.UTC(2026, 4, 4, 0); // a Monday in May

describe("views", () => {
  it("presence keeps suppressed windows unknown, congestion and bins come out of the windows, spill periods pair", async () => {
    const { url, pool, rows } = await database("views");
    const msgs: Msg[] = [];
    let seq = 1;
    // presence: hour 0 all windows above k; hour 1 one window suppressed (fewer than k devices)
    for (let w = 0; w < 8; w++) {
      const suppressed = w === 5;
      msgs.push(
        summaryMsg(
          "pole-0042",
          seq++,
          "presence",
          "ped1",
          T0 + w * 900_000,
          suppressed
            ? [
                { n: "wifi.devices.suppressed", vb: true },
                { n: "wifi.sightings.suppressed", vb: true },
              ]
            : [
                { n: "wifi.devices", u: "count", v: 10 + w },
                { n: "wifi.sightings", u: "count", v: 100 },
              ],
          900,
        ),
      );
    }
    // traffic: occupancy 30 % for hour 0, 10 % for hour 1 (12 five-minute windows each)
    for (let w = 0; w < 24; w++)
      msgs.push(
        summaryMsg(
          "pole-0042",
          seq++,
          "traffic",
          "lane1",
          T0 + w * 300_000,
          [
            { n: "volume", u: "count", v: 50 },
            { n: "flow", u: "1/s", v: 50 / 300 },
            { n: "occupancy", u: "/", v: w < 12 ? 0.3 : 0.1 },
            { n: "quality.observed", u: "/", v: 1 },
          ],
          300,
        ),
      );
    // a bin filling, emptied once
    for (const [h, fill, pickups] of [
      [0, 40, 0],
      [6, 85, 0],
      [12, 5, 1],
      [18, 20, 0],
    ] as const)
      msgs.push(
        summaryMsg(
          "bin-0007",
          seq++,
          "bin",
          "bin1",
          T0 + h * H,
          [
            { n: "actualFillingPercentage", u: "%", v: fill },
            { n: "pickups", u: "count", v: pickups },
            { n: "containerFull", vb: fill >= 80 },
          ],
          1800,
        ),
      );
    // a spill of 2 h and one that is still running
    msgs.push(alarmMsg("mh-0001", 1, { source: "mh1", kind: "spill", state: "start" }, T0 + 2 * H));
    msgs.push(alarmMsg("mh-0001", 2, { source: "mh1", kind: "spill", state: "end" }, T0 + 4 * H));
    msgs.push(alarmMsg("mh-0001", 3, { source: "mh1", kind: "spill", state: "start" }, T0 + 20 * H));
    const ingest = await spawnIngest(["--broker", mosq.url, "--db", url, "--client-id", "ingest-views"]);
    const pub = await publisher(mosq.url);
    try {
      await pub.publish(msgs);
      await stored(pool, msgs.length);
      const presence = await rows<{ hour: Date; wifi_devices: number | null; wifi_suppressed_windows: string; windows: string }>(
        "SELECT hour, wifi_devices, wifi_suppressed_windows, windows FROM roadside.presence_hourly ORDER BY hour",
      );
      expect(presence.map((p) => [p.wifi_devices, Number(p.wifi_suppressed_windows), Number(p.windows)])).toEqual([
        [10 + 11 + 12 + 13, 0, 4],
        [null, 1, 4],
      ]);
      const congestion = await rows<{ congested_hours: string; hours_with_occupancy: string }>(
        "SELECT congested_hours, hours_with_occupancy FROM roadside.congestion_hours(0.25)",
      );
      expect(congestion).toEqual([{ congested_hours: "1", hours_with_occupancy: "2" }]);
      const hourly = await rows<{ volume: number; flow_vph: number; occupancy: number }>(
        "SELECT volume, flow_vph, occupancy FROM roadside.traffic_hourly ORDER BY hour",
      );
      expect(hourly.map((h) => [h.volume, Math.round(h.flow_vph), Math.round(h.occupancy * 100)])).toEqual([
        [600, 600, 30],
        [600, 600, 10],
      ]);
      const bins = await rows<{ max_fill_pct: number; last_fill_pct: number; pickups: number; was_full: boolean }>(
        "SELECT max_fill_pct, last_fill_pct, pickups, was_full FROM roadside.bin_daily",
      );
      expect(bins).toEqual([{ max_fill_pct: 85, last_fill_pct: 20, pickups: 1, was_full: true }]);
      const spills = await rows<{ hours: number | null }>(
        "SELECT extract(epoch FROM duration) / 3600 AS hours FROM roadside.spill_events ORDER BY started",
      );
      expect(spills.map((s) => (s.hours === null ? null : Number(s.hours)))).toEqual([2, null]);
      // 12/24: the first discharge opens a 12 h block (1); the second, at 20 h, falls in the next 24 h block (2)
      expect(
        (await rows<{ n: number }>(`SELECT roadside.spills_1224('mh-0001', 'mh1', '2026-05-04T00:00Z', '2026-05-04T22:00Z') AS n`))[0]!.n,
      ).toBe(2);
      // every query docs/ingest.md shows runs against this schema
      const doc = readFileSync(join(import.meta.dirname, "..", "..", "docs", "ingest.md"), "utf8");
      const section = doc.slice(doc.indexOf("## Questions in SQL"), doc.indexOf("## Watching ingest"));
      const queries = [...section.matchAll(/```sql\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.split(/;\s*\n/).filter((q) => q.trim()));
      expect(queries.length).toBeGreaterThanOrEqual(6);
      for (const q of queries) await pool.query(q);
    } finally {
      await pub.close();
      expect(await ingest.stop()).toBe(0);
      await pool.end();
    }
  });

  it("recomputes the 12/24 oracle of DOMAIN.md: discharges at 0, 10, 30 and 80 h are 3 spills", async () => {
    const { url, pool, rows } = await database("oracle");
    const msgs = [0, 10, 30, 80].flatMap((h, i) => [
      alarmMsg("mh-9", 2 * i + 1, { source: "mh1", kind: "spill", state: "start" }, T0 + h * H),
      alarmMsg("mh-9", 2 * i + 2, { source: "mh1", kind: "spill", state: "end" }, T0 + h * H + 360_000),
    ]);
    const ingest = await spawnIngest(["--broker", mosq.url, "--db", url, "--client-id", "ingest-oracle"]);
    const pub = await publisher(mosq.url);
    try {
      await pub.publish(msgs);
      await stored(pool, msgs.length);
    } finally {
      await pub.close();
      expect(await ingest.stop()).toBe(0);
    }
    const t = (h: number) => new Date(T0 + h * H).toISOString();
    expect((await rows<{ n: number }>(`SELECT roadside.spills_1224('mh-9', 'mh1', '${t(-1)}', '${t(200)}') AS n`))[0]!.n).toBe(3);
    await pool.end();
  });
});

describe("dry run and retention", () => {
  it("--dry-run prints the rows it would write and needs no database", async () => {
    const ingest = await spawnIngest(["--broker", mosq.url, "--dry-run", "--report", "1h"]);
    const pub = await publisher(mosq.url);
    try {
      await pub.publish([
        summaryMsg("pole-0001", 5, "traffic", "lane1", T0, [{ n: "volume", u: "count", v: 7 }]),
        alarmMsg("pole-0001", 6, { source: "lane1", kind: "wrong-way", state: "event" }, T0 + 5000),
      ]);
      const end = Date.now() + 20_000;
      while (!/would write alarms/.test(ingest.stdout()) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await pub.close();
      expect(await ingest.stop()).toBe(0);
    }
    expect(ingest.stdout()).toContain(
      'would write summaries pole-0001 seq 5 traffic/lane1 2026-05-04T00:00:00.000Z 60s {"volume":{"u":"count","v":7}}',
    );
    expect(ingest.stdout()).toContain("would write alarms pole-0001 seq 6 lane1 wrong-way event 2026-05-04T00:00:05.000Z");
  });

  it("--retention drops whole months older than the limit and keeps the rest", async () => {
    const { url, pool, rows } = await database("retention");
    const old = Date.UTC(2020, 0, 15);
    const recent = Date.now() - 86400_000;
    const first = await spawnIngest(["--broker", mosq.url, "--db", url, "--client-id", "ingest-retention"]);
    const pub = await publisher(mosq.url);
    try {
      await pub.publish([
        summaryMsg("pole-0001", 1, "traffic", "lane1", old, [{ n: "volume", u: "count", v: 1 }]),
        summaryMsg("pole-0001", 2, "traffic", "lane1", recent - (recent % 60_000), [{ n: "volume", u: "count", v: 2 }]),
      ]);
      await stored(pool, 2);
    } finally {
      await pub.close();
      expect(await first.stop()).toBe(0);
    }
    const again = await spawnIngest(["--broker", mosq.url, "--db", url, "--client-id", "ingest-retention", "--retention", "400d"]);
    await again.waitErr(/retention dropped summaries_y2020m01/);
    expect(await again.stop()).toBe(0);
    expect(await rows("SELECT seq FROM roadside.summaries")).toEqual([{ seq: "2" }]);
    await pool.end();
  });

  it("the roles and grants of docs/ingest.md: ingest creates its schema, a reader reads and cannot write", async () => {
    const doc = readFileSync(join(import.meta.dirname, "..", "..", "docs", "ingest.md"), "utf8");
    const setup = doc.slice(doc.indexOf("## Setup with a real PostgreSQL"));
    const block = /```sql\n([\s\S]*?)```/.exec(setup)![1]!;
    const [before, after] = block.split("-- after ingest's first start");
    db.psql("CREATE DATABASE city");
    db.psql("CREATE ROLE alice LOGIN; CREATE ROLE grafana LOGIN");
    const inCity = (sql: string) => {
      const pool = new pg.Pool({ connectionString: db.url.replace(/\/roadside$/, "/city"), max: 1 });
      return pool.query(sql).finally(() => pool.end());
    };
    await inCity(before!);
    const url = `postgres://roadside_ingest@127.0.0.1:${db.port}/city`;
    const ingest = await spawnIngest(["--broker", mosq.url, "--db", url, "--client-id", "ingest-roles"]);
    const pub = await publisher(mosq.url);
    const own = new pg.Pool({ connectionString: url, max: 1 });
    try {
      await pub.publish([summaryMsg("pole-0001", 1, "traffic", "lane1", T0, [{ n: "volume", u: "count", v: 9 }])]);
      await stored(own, 1);
    } finally {
      await pub.close();
      expect(await ingest.stop()).toBe(0);
      await own.end();
    }
    await inCity(after!.replace(/^[^\n]*\n/, ""));
    const alice = new pg.Pool({ connectionString: `postgres://alice@127.0.0.1:${db.port}/city`, max: 1 });
    try {
      expect((await alice.query("SELECT volume FROM roadside.windows")).rows).toEqual([{ volume: 9 }]);
      await expect(alice.query("DELETE FROM roadside.summaries")).rejects.toThrow(/permission denied/);
    } finally {
      await alice.end();
    }
  });
});
