import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfigFile } from "../../src/config/load.js";
import { silentLogger } from "../../src/log/logger.js";
import { decodeMessage } from "../../src/publish/envelope.js";
import { simulate } from "../../src/sim/session.js";
import type { Mosquitto } from "../helpers/brokers.js";
import { startMosquitto, subscribe } from "../helpers/brokers.js";
import type { Postgres } from "../helpers/postgres.js";
import { startPostgres } from "../helpers/postgres.js";
import { spawnIngest, stoppedCounts, SETTLED } from "./rig.js";

// A simulated fleet (the real simulator and device pipeline: traffic poles and a CSO manhole with a
// storm) publishes a shortened day to Mosquitto; `roadside ingest` stores it. Every (device, seq) a
// plain subscriber saw is in PostgreSQL exactly once, and the views answer the city's questions.
const ROOT = join(import.meta.dirname, "..", "..");
const SEED = Number(process.env["SEED"] ?? 7);

let db: Postgres;
let mosq: Mosquitto;
beforeAll(async () => {
  [db, mosq] = await Promise.all([startPostgres(), startMosquitto()]);
});
afterAll(async () => {
  await Promise.all([db?.stop(), mosq?.stop()]);
});

function load(path: string) {
  const r = loadConfigFile(path);
  if (!r.ok) throw new Error(`${path}: ${JSON.stringify(r.issues)}`);
  return r.loaded;
}

describe("a simulated fleet's day", () => {
  it(`arrives in PostgreSQL with every seq exactly once (seed ${SEED})`, async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    const count = async (sql: string): Promise<number> => Number((await pool.query<{ n: string }>(sql)).rows[0]!.n);
    const watcher = await subscribe(mosq.url, "roadside/+/#");
    const ingest = await spawnIngest(["--broker", mosq.url, "--db", db.url, "--client-id", "ingest-day", "--retention", "3650d"]);
    try {
      const start = Date.UTC(2026, 0, 5);
      const common = { brokerUrl: mosq.url, startWallMs: start, speed: "max" as const, logger: silentLogger, seed: SEED };
      const traffic = await simulate({
        ...common,
        loaded: load(join(ROOT, "scripts/bench/configs/fleet-site.yaml")),
        durationS: 4 * 3600,
        devices: 3,
      });
      const sewer = await simulate({ ...common, loaded: load(join(ROOT, "examples/manhole.yaml")), durationS: 8 * 3600 });
      expect(traffic.undelivered + sewer.undelivered).toBe(0);
      const sent = traffic.delivered + sewer.delivered;
      // what a plain subscriber saw: the data and alarm messages, by (device, seq)
      await watcher.waitFor((m) => m.filter((x) => /\/(traffic|level|alarm)\//.test(x.topic)).length >= sent, 30_000);
      const seen = new Set<string>();
      for (const m of watcher.messages) {
        if (!/\/(traffic|level|alarm)\//.test(m.topic)) continue;
        const d = decodeMessage(m.payload);
        seen.add(`${d.device}/${d.seq}`);
      }
      expect(seen.size).toBe(sent);
      const stored = SETTLED;
      const end = Date.now() + 60_000;
      while ((await count(stored)) < sent && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
      expect(await count(stored)).toBe(sent);
      const rows = await pool.query<{ k: string }>(
        "SELECT device || '/' || seq AS k FROM roadside.summaries UNION ALL SELECT device || '/' || seq FROM roadside.alarms",
      );
      expect(new Set(rows.rows.map((r) => r.k))).toEqual(seen);
      expect(await count("SELECT count(*) AS n FROM roadside.open_gaps")).toBe(0);
      expect(await count("SELECT count(*) AS n FROM roadside.manifests")).toBe(4);
      expect(await count("SELECT count(*) AS n FROM roadside.health")).toBeGreaterThan(0);

      // the views: hourly volumes add up to the windows' volumes; flows are per hour of counting
      const volume = await count("SELECT sum(volume) AS n FROM roadside.windows WHERE kind = 'traffic'");
      expect(await count("SELECT sum(volume) AS n FROM roadside.traffic_hourly")).toBe(volume);
      expect(await count("SELECT count(*) AS n FROM roadside.traffic_hourly")).toBe(3 * 2 * 4);
      const flows = await pool.query<{ flow_vph: number; volume: number; coverage: number }>(
        "SELECT flow_vph, volume, coverage FROM roadside.traffic_hourly WHERE coverage = 1",
      );
      expect(flows.rows.length).toBeGreaterThan(0);
      for (const f of flows.rows) expect(f.flow_vph).toBeCloseTo(f.volume, 6);
      // the storm overflows the manhole: spill events, and the device's 12/24 count equals the one
      // recomputed in SQL from its spill alarms
      const spills = await pool.query<{ spills_1224: number; recomputed: number }>(
        `SELECT s.spills_1224, roadside.spills_1224(s.device, s.manhole, s.year, s.year + interval '1 year') AS recomputed
         FROM roadside.spills_yearly s`,
      );
      expect(spills.rows.length).toBe(1);
      expect(spills.rows[0]!.spills_1224).toBeGreaterThan(0);
      expect(spills.rows[0]!.recomputed).toBe(spills.rows[0]!.spills_1224);
      expect(await count("SELECT count(*) AS n FROM roadside.spill_events")).toBeGreaterThan(0);
      console.log(`seed ${SEED}: ${sent} messages stored once each; ${volume} vehicles; spills (12/24) ${spills.rows[0]!.spills_1224}`);
    } finally {
      await watcher.close();
      expect(await ingest.stop()).toBe(0);
      await pool.end();
    }
    expect(stoppedCounts(ingest.stderr()).invalid).toBe(0);
  });
});
