import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EmbeddedBroker } from "../../src/mqtt/embedded.js";
import { SqliteOutbox } from "../../src/outbox/sqlite.js";
import type { DataEvent, WatchEvent } from "../../src/watch/events.js";
import { WatchModel } from "../../src/watch/model.js";
import { startAedes, subscribe } from "../helpers/brokers.js";
import type { HeldChild } from "./rig.js";
import { builtDist, holdChild, until } from "./rig.js";

const CHILD = new URL("./fixtures/checkpoint-child.mjs", import.meta.url).pathname;
// the test runs the built device in a child process
builtDist("runtime.js");
const T0 = Date.UTC(2026, 0, 5, 7, 0, 0);

// The rig of checkpoint.test.ts, with the device on the cellular profile (docs/payloads.md "Cellular
// profile"): after a crash its recovered windows and its loss report travel as packs on …/window.

/** Run the child, on the cellular profile, until it holds its windows open. */
function hold(url: string, db: string, truth: string, startWall: number, runS: number): Promise<HeldChild> {
  return holdChild([CHILD, url, db, String(startWall), String(runS), "1m", truth, "cellular"], "checkpoint child", 60_000);
}

interface Truth {
  kind: "vehicle" | "sighting";
  detector?: string;
  wallMs?: number;
  address?: number;
}

describe("checkpoints of open windows, cellular profile", () => {
  let broker: EmbeddedBroker;
  beforeAll(async () => {
    broker = await startAedes();
  });
  afterAll(async () => {
    await broker?.close();
  });

  it("SIGKILL mid-window: the watch model reads every stream's window open at the crash as recovered or lost (cause crash) from the packs on …/window, and nothing more as lost", async () => {
    const dir = mkdtempSync(join(tmpdir(), "roadside-checkpoint-cellular-"));
    const db = join(dir, "outbox.db");
    const truthPath = join(dir, "truth.jsonl");
    const sub = await subscribe(broker.url, "roadside/ckpt-1/#");
    // run 1 starts 10 s into a minute; checkpoints every minute at :30; killed at 2 min 40 s
    const a = await hold(broker.url, db, truthPath, T0 + 10_000, 150);
    expect(a.at).toBe(T0 + 160_000);
    await a.end("SIGKILL");
    const truth1 = readFileSync(truthPath, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Truth);

    // the crash records are per stream, like the checkpoints: not under …/window
    const raw = new Database(db, { readonly: true });
    const open = (raw.prepare("SELECT key FROM meta WHERE key LIKE 'open:%' ORDER BY key").all() as { key: string }[]).map((r) => r.key);
    const cpTopics = (raw.prepare("SELECT DISTINCT topic FROM checkpoint ORDER BY topic").all() as { topic: string }[]).map((r) => r.topic);
    raw.close();
    expect(open).toEqual([
      "open:roadside/ckpt-1/bin/bin1",
      "open:roadside/ckpt-1/level/mh1",
      "open:roadside/ckpt-1/presence/ped1",
      "open:roadside/ckpt-1/traffic/lane1",
      "open:roadside/ckpt-1/traffic/lane2",
    ]);
    expect(cpTopics).toEqual([
      "roadside/ckpt-1/bin/bin1",
      "roadside/ckpt-1/level/mh1",
      "roadside/ckpt-1/traffic/lane1",
      "roadside/ckpt-1/traffic/lane2",
    ]);

    // down 7 minutes; run 2 runs 2 min 50 s and stops cleanly
    const b = await hold(broker.url, db, truthPath, T0 + 600_000, 170);
    await b.end("SIGTERM");
    const o = SqliteOutbox.open({ path: db, now: () => T0 });
    const drops = o.stats().drops;
    o.close();

    const model = new WatchModel({ prefix: "roadside" });
    const events: WatchEvent[] = [];
    const topics = new Set<string>();
    const feed = () => {
      for (const x of sub.messages.splice(0)) {
        topics.add(x.topic);
        events.push(...model.message(x.topic, x.payload, x.retain, T0 + 900_000));
      }
    };
    const data = (stream: string) => events.filter((e): e is DataEvent => e.type === "data" && e.stream === stream);
    await until(
      () => {
        feed();
        // per lane: 0:00, 1:00, 2:00 (recovered), 10:00, 11:00, 12:00 (at the stop); mh1: 0:00 (recovered), 10:00
        return data("lane1").length >= 6 && data("lane2").length >= 6 && data("mh1").length >= 2 && data("bin1").length >= 2;
      },
      "the windows of both runs at the subscriber",
      15_000,
    );
    await sub.close();
    feed();

    expect(events.filter((e) => e.type === "invalid")).toEqual([]);
    // a cellular device's stream topics stay silent: every data event came from a pack
    expect([...topics].filter((t) => /\/(traffic|level|bin|presence)\//.test(t))).toEqual([]);
    expect(topics).toContain("roadside/ckpt-1/window");
    const losses = events.filter((e) => e.type === "dropped");
    // one report, on …/window, carried by a recovered pack: the presence window open at the crash
    // (never checkpointed) is the one stream window lost; the rest of the span is the time down
    expect(losses).toHaveLength(1);
    const loss = losses[0]!;
    expect(loss).toMatchObject({
      topic: "roadside/ckpt-1/window",
      count: 1,
      cause: "crash",
      from: new Date(T0 + 120_000).toISOString(),
      to: new Date(T0 + 600_000).toISOString(),
    });
    const inLoss = (s: number) => Date.parse(loss.from) <= s && s <= Date.parse(loss.to);

    const had: Record<string, number[]> = {
      lane1: [0, 60_000, 120_000, 600_000, 660_000, 720_000],
      lane2: [0, 60_000, 120_000, 600_000, 660_000, 720_000],
      ped1: [0, 60_000, 120_000, 600_000, 660_000, 720_000],
      mh1: [0, 600_000],
      bin1: [0, 600_000],
    };
    const lost: string[] = [];
    for (const [stream, starts] of Object.entries(had)) {
      const evs = data(stream);
      for (const s of starts.map((t) => T0 + t)) {
        const at = evs.filter((e) => Date.parse(e.windowStart) === s);
        const when = `${stream}: window ${new Date(s).toISOString()}`;
        if (at.length > 0) continue;
        expect(inLoss(s), `${when} is neither in a pack nor inside the loss report`).toBe(true);
        lost.push(when);
      }
    }
    // nothing reported lost that was not: the report counts exactly the windows no pack carried
    expect(lost).toEqual([`ped1: window ${new Date(T0 + 120_000).toISOString()}`]);
    expect(lost.length).toBe(loss.count);

    // lanes: the window open at the kill comes back from its 2:30 checkpoint, 30 s observed
    for (const lane of ["lane1", "lane2"]) {
      const rec = data(lane).filter((e) => e.recovered !== undefined);
      expect(rec).toHaveLength(1);
      const r = rec[0]!;
      expect(r.topic).toBe(`roadside/ckpt-1/traffic/${lane}`);
      expect(r.windowStart).toBe(new Date(T0 + 120_000).toISOString());
      expect(r.recovered).toBe("crash");
      expect(r.observedS).toBe(30);
      const truthCount = truth1.filter(
        (t) => t.kind === "vehicle" && t.detector === lane && t.wallMs! >= T0 + 120_000 && t.wallMs! < T0 + 150_000,
      ).length;
      expect(truthCount, `${lane}: vehicles in the checkpointed 30 s`).toBeGreaterThan(0);
      expect(r.measures["volume"]?.v).toBe(truthCount);
    }
    // the manhole's and the bin's 5-minute window (observed from 0:10) come back with 2 min 20 s
    for (const s of ["mh1", "bin1"]) {
      const r = data(s).find((e) => e.recovered === "crash");
      expect(r?.windowStart, s).toBe(new Date(T0).toISOString());
      expect(r?.observedS, s).toBe(140);
      expect(r?.measures["samples"]?.v, s).toBeGreaterThan(0);
    }
    // nothing else is marked recovered (the presence window was never checkpointed)
    expect(events.filter((e) => e.type === "data" && e.recovered !== undefined)).toHaveLength(4);
    expect(drops.interrupted).toBe(1);
  }, 120_000);
});
