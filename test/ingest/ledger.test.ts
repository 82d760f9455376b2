import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Mosquitto } from "../helpers/brokers.js";
import { startMosquitto, subscribe } from "../helpers/brokers.js";
import type { Postgres } from "../helpers/postgres.js";
import { startPostgres } from "../helpers/postgres.js";
import { alarmMsg, cellularMsg, publisher, SETTLED, spawnIngest, stoppedCounts, summaryMsg } from "./rig.js";

// the gap ledger and bad payloads, against a real PostgreSQL and Mosquitto, through `roadside ingest`
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

const T0 = Date.UTC(2026, 2, 10, 8);
const lane = (seq: number) =>
  summaryMsg("pole-0007", seq, "traffic", "lane1", T0 + seq * 60_000, [
    { n: "volume", u: "count", v: seq },
    { n: "flow", u: "1/s", v: seq / 60 },
  ]);

describe("gap ledger", () => {
  it("opens a gap for missing numbers and closes it when the late messages arrive", async () => {
    const { url, pool, count } = await database("gaps");
    const ingest = await spawnIngest(["--broker", mosq.url, "--db", url, "--client-id", "ingest-gaps", "--report", "1s"]);
    const pub = await publisher(mosq.url);
    try {
      // 1–3 and 7–10 arrive; 4–6 are held back (a device's reconnect reordered them)
      await pub.publish([1, 2, 3, 7, 8, 9, 10].map(lane));
      for (let i = 0; i < 300 && (await count(SETTLED)) < 7; i++) await sleep(100);
      const open = await pool.query("SELECT device, seq_from, seq_to, missing, filled_at FROM roadside.gaps");
      expect(open.rows).toEqual([{ device: "pole-0007", seq_from: "4", seq_to: "6", missing: "3", filled_at: null }]);
      // one of them: the gap stays open, with two missing
      await pub.publish([lane(5)]);
      for (let i = 0; i < 300 && (await count(SETTLED)) < 8; i++) await sleep(100);
      expect((await pool.query("SELECT missing, filled_at FROM roadside.gaps")).rows).toEqual([{ missing: "2", filled_at: null }]);
      // the rest, and a redelivery of 5: the gap closes, nothing is stored twice
      await pub.publish([lane(4), lane(6), lane(5)]);
      for (let i = 0; i < 300 && (await count(SETTLED)) < 10; i++) await sleep(100);
      for (let i = 0; i < 300 && (await count("SELECT count(*) AS n FROM roadside.open_gaps")) > 0; i++) await sleep(100);
      const closed = await pool.query("SELECT missing, filled_at IS NOT NULL AS filled FROM roadside.gaps");
      expect(closed.rows).toEqual([{ missing: "0", filled: true }]);
      expect(await count("SELECT count(*) AS n FROM roadside.summaries")).toBe(10);
      expect((await pool.query("SELECT max_seq FROM roadside.devices WHERE device = 'pole-0007'")).rows[0].max_seq).toBe("10");
      // the typed view reads the measures
      const w = await pool.query("SELECT seq, volume, flow_vph FROM roadside.windows WHERE seq = 4");
      expect(w.rows).toEqual([{ seq: "4", volume: 4, flow_vph: 240 }]);
    } finally {
      await pub.close();
      expect(await ingest.stop()).toBe(0);
      await pool.end();
    }
  });
});

describe("cellular profile", () => {
  it("stores every stream of a pack once, under the pack's one seq", async () => {
    const { url, pool, count } = await database("cellular");
    const ingest = await spawnIngest(["--broker", mosq.url, "--db", url, "--client-id", "ingest-cellular"]);
    const pub = await publisher(mosq.url);
    const pack = (seq: number) =>
      cellularMsg("pole-0009", seq, T0 + seq * 60_000, [
        { kind: "traffic", stream: "lane1", measures: [{ n: "volume", u: "count", v: 10 + seq }] },
        { kind: "traffic", stream: "lane2", measures: [{ n: "volume", u: "count", v: 20 + seq }] },
      ]);
    try {
      // pack 1, its redelivery, then pack 3: one gap (seq 2)
      await pub.publish([pack(1), pack(1), pack(3)]);
      for (let i = 0; i < 300 && (await count(SETTLED)) < 4; i++) await sleep(100);
      const rows = await pool.query("SELECT seq, stream, volume FROM roadside.windows ORDER BY seq, stream");
      expect(rows.rows).toEqual([
        { seq: "1", stream: "lane1", volume: 11 },
        { seq: "1", stream: "lane2", volume: 21 },
        { seq: "3", stream: "lane1", volume: 13 },
        { seq: "3", stream: "lane2", volume: 23 },
      ]);
      expect((await pool.query("SELECT seq_from, seq_to, missing FROM roadside.gaps")).rows).toEqual([
        { seq_from: "2", seq_to: "2", missing: "1" },
      ]);
    } finally {
      await pub.close();
      expect(await ingest.stop()).toBe(0);
      await pool.end();
    }
    expect(stoppedCounts(ingest.stderr())).toMatchObject({ messages: 3, stored: 4, duplicates: 2, invalid: 0 });
  });
});

describe("bad payloads", () => {
  it("counts and skips what is not a roadside message, and keeps storing the rest", async () => {
    const { url, pool, count } = await database("garbage");
    const ingest = await spawnIngest(["--broker", mosq.url, "--db", url, "--client-id", "ingest-garbage"]);
    const pub = await publisher(mosq.url);
    const good = [lane(1), lane(2), alarmMsg("pole-0007", 3, { source: "lane1", kind: "wrong-way", state: "event" }, T0 + 90_000), lane(4)];
    const cbor = good[0]!.payload;
    const garbage: [string, Buffer][] = [
      ["roadside/pole-0007/traffic/lane1", Buffer.from([0xff, 0x00, 0x13, 0x37])], // not CBOR
      ["roadside/pole-0007/traffic/lane1", Buffer.alloc(0)], // empty
      ["roadside/pole-0007/traffic/lane1", Buffer.from('[{"n":"volume","v":3}]')], // JSON SenML without a base name
      ["roadside/pole-0007/traffic/lane1", Buffer.from("hello")], // text
      ["roadside/pole-0099/traffic/lane1", cbor], // the payload names another device than the topic
      ["roadside/pole-0007/level/mh1", cbor.subarray(0, cbor.length - 7)], // truncated CBOR
      ["roadside/pole-0007/traffic/lane1", Buffer.from('[{"bn":"pole-0007:traffic:lane1:","bt":1e300,"n":"seq","v":9}]')], // a time no calendar has
    ];
    try {
      await pub.publish([good[0]!, good[1]!]);
      for (const [topic, payload] of garbage) await pub.client.publishAsync(topic, payload, { qos: 1 });
      await pub.publish([good[2]!, good[3]!]);
      for (
        let i = 0;
        i < 300 && (await count("SELECT (SELECT count(*) FROM roadside.summaries) + (SELECT count(*) FROM roadside.alarms) AS n")) < 4;
        i++
      )
        await sleep(100);
      expect(await count("SELECT count(*) AS n FROM roadside.summaries")).toBe(3);
      expect((await pool.query("SELECT alarm, state FROM roadside.alarms")).rows).toEqual([{ alarm: "wrong-way", state: "event" }]);
      expect(ingest.child.exitCode).toBe(null);
    } finally {
      await pub.close();
      expect(await ingest.stop()).toBe(0);
      await pool.end();
    }
    const counts = stoppedCounts(ingest.stderr());
    expect(counts.invalid).toBe(garbage.length);
    expect(counts.stored).toBe(4);
    // the same figures in its own health topic, retained
    const health = await subscribe(mosq.url, "roadside/_ingest/ingest-garbage/health");
    try {
      await health.waitFor((m) => m.length > 0, 10_000);
      const h = JSON.parse(health.messages[0]!.payload.toString()) as { ingest: number; invalid: number; stored: number; clientId: string };
      expect(h).toMatchObject({ ingest: 1, clientId: "ingest-garbage", invalid: garbage.length, stored: 4 });
    } finally {
      await health.close();
    }
  });

  it("refuses bad command lines with exit 2 and a message naming the fix", async () => {
    const { spawnSync } = await import("node:child_process");
    const bin = new URL("../../bin/roadside.js", import.meta.url).pathname;
    const cases: [string[], RegExp][] = [
      [["ingest", "--broker", mosq.url], /--db is missing/],
      [["ingest", "--db", "mysql://x/y"], /not a PostgreSQL URL/],
      [["ingest", "--db", "postgres://x/y", "--group", "a/b"], /--group "a\/b"/],
      [["ingest", "--db", "postgres://x/y", "--retention", "soon"], /--retention "soon" is not a duration/],
      [["ingest", "--db", "postgres://x/y", "--batch", "0"], /--batch "0": give a whole number/],
      [["ingest", "--db", "postgres://x/y", "--broker", "localhost"], /is not a broker URL/],
    ];
    // a database that is not there: a runtime failure (1), saying what to check
    const down = spawnSync(process.execPath, [bin, "ingest", "--broker", mosq.url, "--db", "postgres://nobody@127.0.0.1:1/none"], {
      encoding: "utf8",
    });
    expect(down.status).toBe(1);
    expect(down.stderr).toMatch(/cannot use the database: .*check --db, that PostgreSQL runs/);
    for (const [args, re] of cases) {
      const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", env: { ...process.env, DATABASE_URL: "" } });
      expect(r.status, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(re);
    }
  });
});

describe("one client id, two processes", () => {
  it("says so when the broker takes the session from one to the other", async () => {
    const { url, pool } = await database("twins");
    const args = ["--broker", mosq.url, "--db", url, "--client-id", "ingest-twin"];
    const first = await spawnIngest(args);
    const second = await spawnIngest(args);
    // a broker that sends DISCONNECT 0x8E (session taken over) ends the older process (exit 1); one that
    // just closes the connection gets the warning after three closes
    const takenOver =
      /another client connected with client id ingest-twin \(session taken over\); give every ingest process its own --instance N or --client-id/;
    const warning =
      /closed this connection \d+ times in a minute; if another process uses client id ingest-twin, .* give every ingest process its own --instance N or --client-id/;
    const said = () => [first, second].some((p) => (p.child.exitCode === 1 && takenOver.test(p.stderr())) || warning.test(p.stderr()));
    try {
      const end = Date.now() + 30_000;
      while (!said() && Date.now() < end) await sleep(100);
      expect(said(), `first: ${first.stderr()}\nsecond: ${second.stderr()}`).toBe(true);
    } finally {
      await Promise.all([first.stop(), second.stop()]);
      await pool.end();
    }
  });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
