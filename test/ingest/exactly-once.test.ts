import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Rng } from "../../src/sim/rng.js";
import type { Mosquitto } from "../helpers/brokers.js";
import { startMosquitto } from "../helpers/brokers.js";
import type { Postgres } from "../helpers/postgres.js";
import { startPostgres } from "../helpers/postgres.js";
import type { IngestChild } from "./rig.js";
import { publisher, spawnIngest, stoppedCounts, trafficFleet, SETTLED } from "./rig.js";

// Exactly once through `roadside ingest` as real child processes, a real Mosquitto 2 (MQTT 5 shared
// subscriptions, persistent sessions) and a real PostgreSQL. SEED=N replays a run.
const SEED = Number(process.env["SEED"] ?? 18);

let db: Postgres;
let mosq: Mosquitto;

beforeAll(async () => {
  [db, mosq] = await Promise.all([startPostgres(), startMosquitto()]);
});
afterAll(async () => {
  await Promise.all([db?.stop(), mosq?.stop()]);
});

async function database(name: string): Promise<{ url: string; pool: pg.Pool; count(sql: string): Promise<number> }> {
  db.psql(`CREATE DATABASE ${name}`);
  const url = db.url.replace(/\/roadside$/, `/${name}`);
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  return { url, pool, count: async (sql) => Number((await pool.query<{ n: string }>(sql)).rows[0]!.n) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitRows(count: (sql: string) => Promise<number>, n: number, what: string): Promise<void> {
  const end = Date.now() + 30_000;
  while ((await count(SETTLED)) < n) {
    if (Date.now() > end) throw new Error(`seed ${SEED}: ${what}: fewer than ${n} rows after 30 s`);
    await sleep(100);
  }
}

describe("exactly once", () => {
  it(`loses and doubles nothing when the ingest process is SIGKILLed at random moments (seed ${SEED})`, async () => {
    const rng = new Rng(SEED);
    const { url, pool, count } = await database("kills");
    const msgs = trafficFleet({ devices: 20, windows: 50, seed: SEED }); // 2,000 messages
    const args = ["--broker", mosq.url, "--db", url, "--client-id", "ingest-kill", "--batch", "1000", "--batch-ms", "300"];
    let ingest: IngestChild = await spawnIngest(args);
    const pub = await publisher(mosq.url);
    let published = false;
    const publishing = (async () => {
      for (let i = 0; i < msgs.length; i += 40) {
        await pub.publish(msgs.slice(i, i + 40));
        await sleep(100);
      }
      published = true;
    })();
    const kills: number[] = [];
    const rowsAtKill: number[] = [];
    try {
      while (!published || kills.length < 5) {
        const wait = rng.int(100, 700);
        await sleep(wait);
        kills.push(wait);
        rowsAtKill.push(await count("SELECT count(*) AS n FROM roadside.summaries"));
        await ingest.kill();
        ingest = await spawnIngest(args);
      }
      await publishing;
      await waitRows(count, msgs.length, `after ${kills.length} kills at ${kills.join(", ")} ms`);
      await sleep(500); // anything doubled would arrive now
      const why = `seed ${SEED}, kills after ${kills.join(", ")} ms`;
      expect(await count("SELECT count(*) AS n FROM roadside.summaries"), why).toBe(msgs.length);
      expect(await count("SELECT count(*) AS n FROM (SELECT DISTINCT device, seq FROM roadside.summaries) x"), why).toBe(msgs.length);
      expect(await count("SELECT count(*) AS n FROM roadside.devices WHERE max_seq = 100"), why).toBe(20);
      expect(await count("SELECT count(*) AS n FROM roadside.open_gaps"), why).toBe(0);
      // the rows are the messages: every value as published
      const sum = msgs.reduce((a, m) => a + m.seq, 0);
      expect(await count("SELECT sum(seq) AS n FROM roadside.summaries"), why).toBe(sum);
    } finally {
      await pub.close();
      expect(await ingest.stop()).toBe(0);
      await pool.end();
    }
    console.log(
      `seed ${SEED}: ${kills.length} SIGKILLs with ${rowsAtKill.join(", ")} of ${msgs.length} rows stored; last process: ${ingest.stderr().split("\n").at(-2)}`,
    );
  });

  it("two processes in one share group split the stream and together store each message once", async () => {
    const { url, pool, count } = await database("share");
    // a device's retained manifest and status from before the group started: shared subscriptions
    // never get retained messages, so ingest takes them through plain ones
    const pub = await publisher(mosq.url);
    await pub.client.publishAsync("roadside/pole-0001/manifest", JSON.stringify({ manifest: 1, device: "pole-0001" }), {
      qos: 1,
      retain: true,
    });
    await pub.client.publishAsync("roadside/pole-0001/status", "online", { qos: 1, retain: true });
    const base = ["--broker", mosq.url, "--db", url, "--group", "city", "--batch", "100", "--batch-ms", "50"];
    const [a, b] = await Promise.all([spawnIngest([...base, "--instance", "0"]), spawnIngest([...base, "--instance", "1"])]);
    const msgs = trafficFleet({ devices: 10, windows: 100, seed: SEED + 1 }); // 2,000 messages
    try {
      for (let i = 0; i < msgs.length; i += 100) await pub.publish(msgs.slice(i, i + 100));
      await waitRows(count, msgs.length, "share group");
      await sleep(500);
      expect(await count("SELECT count(*) AS n FROM roadside.summaries")).toBe(msgs.length);
      expect(await count("SELECT count(*) AS n FROM (SELECT DISTINCT device, seq FROM roadside.summaries) x")).toBe(msgs.length);
      expect(await count("SELECT count(*) AS n FROM roadside.open_gaps")).toBe(0);
      expect((await pool.query("SELECT device, manifest->>'device' AS d FROM roadside.manifests")).rows).toEqual([
        { device: "pole-0001", d: "pole-0001" },
      ]);
      expect((await pool.query("SELECT status FROM roadside.devices WHERE device = 'pole-0001'")).rows).toEqual([{ status: "online" }]);
    } finally {
      await pub.client.publishAsync("roadside/pole-0001/manifest", "", { qos: 1, retain: true });
      await pub.client.publishAsync("roadside/pole-0001/status", "", { qos: 1, retain: true });
      await pub.close();
      expect(await a.stop()).toBe(0);
      expect(await b.stop()).toBe(0);
      await pool.end();
    }
    const ca = stoppedCounts(a.stderr());
    const cb = stoppedCounts(b.stderr());
    console.log(`share group: instance 0 stored ${ca.stored}, instance 1 stored ${cb.stored}`);
    expect(ca.stored).toBeGreaterThan(0);
    expect(cb.stored).toBeGreaterThan(0);
    expect(ca.stored + cb.stored).toBe(msgs.length);
    expect(ca.duplicates + cb.duplicates).toBe(0);
  });
});
