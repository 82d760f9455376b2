import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EmbeddedBroker } from "../../src/mqtt/embedded.js";
import { SqliteOutbox } from "../../src/outbox/sqlite.js";
import type { DecodedMessage } from "../../src/publish/envelope.js";
import { decodeMessage } from "../../src/publish/envelope.js";
import { identifierSeed, simProbeAddress } from "../../src/sim/identifiers.js";
import { startAedes, subscribe } from "../helpers/brokers.js";
import { NeedleIndex, needles } from "../privacy/leak-scan.js";
import type { HeldChild } from "./rig.js";
import { builtDist, holdChild, until } from "./rig.js";

const CHILD = new URL("./fixtures/checkpoint-child.mjs", import.meta.url).pathname;
// the test runs the built device in a child process
builtDist("runtime.js");
const T0 = Date.UTC(2026, 0, 5, 7, 0, 0);
const SEED = 7; // the child's sim.seed

/** Run the child until it holds its windows open. */
function hold(url: string, db: string, truth: string, startWall: number, runS: number): Promise<HeldChild> {
  return holdChild([CHILD, url, db, String(startWall), String(runS), "1m", truth], "checkpoint child", 60_000);
}

interface Truth {
  kind: "vehicle" | "sighting";
  detector?: string;
  wallMs?: number;
  address?: number;
}

describe("checkpoints of open windows", () => {
  let broker: EmbeddedBroker;
  beforeAll(async () => {
    broker = await startAedes();
  });
  afterAll(async () => {
    await broker?.close();
  });

  it("SIGKILL mid-window: the checkpointed windows come back as recovered partials with the counts up to the checkpoint; the presence window is a loss naming the crash, and never reaches the disk", async () => {
    const dir = mkdtempSync(join(tmpdir(), "roadside-checkpoint-"));
    const db = join(dir, "outbox.db");
    const truthPath = join(dir, "truth.jsonl");
    const sub = await subscribe(broker.url, "roadside/ckpt-1/#");
    // run 1 starts 10 s into a minute; checkpoints every minute at :30; killed at 2 min 40 s
    const a = await hold(broker.url, db, truthPath, T0 + 10_000, 150);
    expect(a.at).toBe(T0 + 160_000);
    await a.end("SIGKILL");

    // what the crash left on disk: the database and its write-ahead log, as bytes
    const truth1 = readFileSync(truthPath, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Truth);
    const seed = identifierSeed(SEED);
    const macs = [...new Set(truth1.filter((t) => t.kind === "sighting").map((t) => t.address!))].map((n) =>
      simProbeAddress(seed, "ped1", n),
    );
    expect(macs.length, "the scanner saw devices before the kill").toBeGreaterThan(20);
    const index = new NeedleIndex(needles(macs));
    expect(
      index.scan("control", Buffer.concat([Buffer.from("x"), macs[0]!])).length,
      "the scan finds a MAC where there is one",
    ).toBeGreaterThan(0);
    const files = readdirSync(dirname(db)).filter((f) => f.startsWith("outbox.db"));
    expect(files).toContain("outbox.db-wal");
    for (const f of files) expect(index.scan(f, readFileSync(join(dir, f))), `identifiers in ${f}`).toEqual([]);
    const raw = new Database(db, { readonly: true });
    const cps = raw.prepare("SELECT topic, window_start_ms, observed_ms, summary FROM checkpoint ORDER BY topic").all() as {
      topic: string;
      window_start_ms: number;
      observed_ms: number;
      summary: string;
    }[];
    raw.close();
    expect([...new Set(cps.map((c) => c.topic))]).toEqual([
      "roadside/ckpt-1/bin/bin1",
      "roadside/ckpt-1/level/mh1",
      "roadside/ckpt-1/traffic/lane1",
      "roadside/ckpt-1/traffic/lane2",
    ]);
    for (const c of cps) expect(index.scan(`checkpoint ${c.topic}`, Buffer.from(c.summary)), c.topic).toEqual([]);

    // down 7 minutes; run 2 runs 2 min 50 s and stops cleanly
    const b = await hold(broker.url, db, truthPath, T0 + 600_000, 170);
    await b.end("SIGTERM");
    const o = SqliteOutbox.open({ path: db, now: () => T0 });
    const drops = o.stats().drops;
    o.close();
    await until(
      // per lane: 0:00, 1:00, 2:00 (recovered), 10:00, 11:00, 12:00 (at the stop); mh1: 0:00 (recovered), 10:00
      () =>
        sub.messages.filter((m) => m.topic.includes("/traffic/")).length >= 2 * 6 &&
        sub.messages.filter((m) => m.topic.endsWith("/level/mh1")).length >= 2 &&
        sub.messages.some((m) => m.topic.endsWith("/bin/bin1")),
      "the windows of both runs at the subscriber",
      15_000,
    );
    await sub.close();

    const byTopic = new Map<string, DecodedMessage[]>();
    for (const x of sub.messages) {
      if (!/\/(traffic|level|bin|presence)\//.test(x.topic)) continue; // data only: not status, manifest, alarms
      const list = byTopic.get(x.topic) ?? [];
      list.push(decodeMessage(x.payload));
      byTopic.set(x.topic, list);
    }
    const covered = (msgs: DecodedMessage[], s: number) =>
      msgs.some((m) => m.windowStartMs === s) || msgs.some((m) => m.dropped !== undefined && m.dropped.fromMs <= s && s <= m.dropped.toMs);

    // lanes: the window open at the kill is published from its 2:30 checkpoint, 30 s observed
    for (const lane of ["lane1", "lane2"]) {
      const msgs = byTopic.get(`roadside/ckpt-1/traffic/${lane}`) ?? [];
      for (const s of [0, 60_000, 120_000, 600_000, 660_000, 720_000].map((t) => T0 + t)) {
        expect(covered(msgs, s), `${lane}: window ${new Date(s).toISOString()} is neither published nor inside a loss report`).toBe(true);
      }
      const rec = msgs.filter((m) => m.recovered !== undefined);
      expect(rec).toHaveLength(1);
      const r = rec[0]!;
      expect(r.windowStartMs).toBe(T0 + 120_000);
      expect(r.recovered).toBe("crash");
      expect(r.observedS).toBe(30);
      const truthCount = truth1.filter(
        (t) => t.kind === "vehicle" && t.detector === lane && t.wallMs! >= T0 + 120_000 && t.wallMs! < T0 + 150_000,
      ).length;
      expect(truthCount, `${lane}: vehicles in the checkpointed 30 s`).toBeGreaterThan(0);
      expect(r.measures["volume"]?.v).toBe(truthCount);
      // the time down, after the recovered window and before the restart's first: a loss naming the crash, no window counted lost
      expect(r.dropped).toEqual({ count: 0, fromMs: T0 + 180_000, toMs: T0 + 600_000 });
      expect(r.droppedCause).toBe("crash");
      expect(msgs.filter((m) => m.dropped !== undefined)).toHaveLength(1);
    }

    // the manhole's 5-minute window (observed from 0:10) comes back with 2 min 20 s
    const mh = byTopic.get("roadside/ckpt-1/level/mh1") ?? [];
    const mr = mh.find((m) => m.recovered === "crash");
    expect(mr?.windowStartMs).toBe(T0);
    expect(mr?.observedS).toBe(140);
    expect(mr?.measures["samples"]?.v).toBeGreaterThan(0);
    for (const s of [0, 300_000, 600_000].map((t) => T0 + t)) expect(covered(mh, s), `mh1 window ${new Date(s).toISOString()}`).toBe(true);

    // the bin's too (its window summary is published even when nothing changed: the crash is news)
    const bin = byTopic.get("roadside/ckpt-1/bin/bin1") ?? [];
    const br = bin.find((m) => m.recovered === "crash");
    expect(br?.windowStartMs).toBe(T0);
    expect(br?.observedS).toBe(140);
    expect(br?.measures["samples"]?.v).toBeGreaterThan(0);

    // presence: never checkpointed, so the window open at the kill is lost, the cause on its own topic
    const pres = byTopic.get("roadside/ckpt-1/presence/ped1") ?? [];
    expect(pres.some((m) => m.recovered !== undefined)).toBe(false);
    const first = pres.find((m) => m.windowStartMs === T0 + 600_000);
    expect(first?.dropped).toEqual({ count: 1, fromMs: T0 + 120_000, toMs: T0 + 600_000 });
    expect(first?.droppedCause).toBe("crash");
    for (const s of [0, 60_000, 120_000, 600_000, 660_000, 720_000].map((t) => T0 + t)) {
      expect(covered(pres, s), `ped1: window ${new Date(s).toISOString()}`).toBe(true);
    }
    expect(drops.interrupted).toBe(1);
  }, 120_000);
});
