import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EmbeddedBroker } from "../../src/mqtt/embedded.js";
import { SqliteOutbox } from "../../src/outbox/sqlite.js";
import type { DecodedMessage } from "../../src/publish/envelope.js";
import { decodeMessage } from "../../src/publish/envelope.js";
import { startAedes, subscribe } from "../helpers/brokers.js";
import type { HeldChild } from "./rig.js";
import { builtDist, holdChild, until } from "./rig.js";

const CHILD = new URL("./fixtures/window-child.mjs", import.meta.url).pathname;
// the test runs the built device in a child process
builtDist("runtime.js");
const T0 = Date.UTC(2026, 0, 5, 7, 0, 0);

/** Run the window child until it holds its window open. */
function hold(url: string, db: string, startWall: number, runS: number): Promise<HeldChild> {
  // checkpoints off: this is the path of a window with nothing to recover (checkpoint.test.ts has the other)
  return holdChild([CHILD, url, db, String(startWall), String(runS), "0"], "window child", 30_000);
}

describe("a crash mid-window", () => {
  let broker: EmbeddedBroker;
  beforeAll(async () => {
    broker = await startAedes();
  });
  afterAll(async () => {
    await broker?.close();
  });

  it("SIGKILL with a window open and no checkpoint: after the restart every window start is a pack or inside a loss report of its stream, naming the crash", async () => {
    const db = join(mkdtempSync(join(tmpdir(), "roadside-midwindow-")), "outbox.db");
    const sub = await subscribe(broker.url, "roadside/window-1/traffic/#");
    // run 1 starts 10 s into a minute and is killed 40 s into its third window
    const a = await hold(broker.url, db, T0 + 10_000, 150);
    expect(a.at).toBe(T0 + 160_000);
    await a.end("SIGKILL");
    // the device is down for 7 minutes, then runs 2 min 50 s and stops cleanly
    const b = await hold(broker.url, db, T0 + 600_000, 170);
    await b.end("SIGTERM");
    const o = SqliteOutbox.open({ path: db, now: () => T0 });
    const drops = o.stats().drops;
    o.close();
    await until(
      () => sub.messages.length >= 2 * 5,
      `the windows of both runs at the subscriber (got ${sub.messages.map((x) => `${x.topic.slice(-5)}@${(decodeMessage(x.payload).windowStartMs - T0) / 1000}`).join(" ")})`,
      10_000,
    );
    await sub.close();

    const byTopic = new Map<string, DecodedMessage[]>();
    for (const x of sub.messages) {
      const list = byTopic.get(x.topic) ?? [];
      list.push(decodeMessage(x.payload));
      byTopic.set(x.topic, list);
    }
    expect([...byTopic.keys()].sort()).toEqual(["roadside/window-1/traffic/lane1", "roadside/window-1/traffic/lane2"]);
    // the windows the device opened, by their published start (bt is the aligned boundary, also for
    // a partial window): 0 (started 10 s in), 1 min, 2 min (open at the kill), then 10, 11 and 12 min
    const starts = [0, 60_000, 120_000, 600_000, 660_000, 720_000].map((t) => T0 + t);
    for (const [topic, msgs] of byTopic) {
      for (const s of starts) {
        const pack = msgs.some((m) => m.windowStartMs === s);
        const lost = msgs.some((m) => m.dropped !== undefined && m.dropped.fromMs <= s && s <= m.dropped.toMs);
        expect(pack || lost, `${topic}: window ${new Date(s).toISOString()} is neither published nor inside a loss report`).toBe(true);
      }
      // the interrupted window is reported once, by the first window after the restart
      const first = msgs.find((m) => m.windowStartMs === T0 + 600_000)!;
      expect(first.dropped).toEqual({ count: 1, fromMs: T0 + 120_000, toMs: T0 + 600_000 });
      expect(first.droppedCause).toBe("crash");
      expect(msgs.filter((m) => m.dropped !== undefined)).toHaveLength(1);
    }
    expect(drops.interrupted).toBe(2);
  }, 90_000);
});
