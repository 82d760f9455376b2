import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DecodedMessage } from "../../src/publish/envelope.js";
import { decodeMessage } from "../../src/publish/envelope.js";
import type { EmbeddedBroker } from "../../src/mqtt/embedded.js";
import type { Mosquitto } from "../helpers/brokers.js";
import { hasMosquitto, startAedes, startMosquitto, subscribe } from "../helpers/brokers.js";
import type { Link } from "./link.js";
import { startLink } from "./link.js";
import { alarmEvery, siteConfig, startRig, until } from "./rig.js";

const MIN = 60_000;

describe("outbox full: drop policy and accounting (sim seed 7)", () => {
  let broker: EmbeddedBroker;
  let link: Link;
  beforeAll(async () => {
    broker = await startAedes();
    link = await startLink(broker.port);
  });
  afterAll(async () => {
    await link?.close();
    await broker?.close();
  });

  it("drops the oldest summaries first, keeps every alarm, and reports each lane's loss in the first message after the gap", async () => {
    const sub = await subscribe(broker.url, "roadside/full-1/#");
    const rig = await startRig(siteConfig("full-1", { outbox: { maxBytes: "64KiB" } }), {
      brokerUrl: link.url,
      alarms: [alarmEvery(1800)],
    });
    await rig.waitConnected();
    await rig.run(10 * 60);
    await until(() => rig.outbox.stats().depth === 0, "the first ten minutes to be delivered");
    const outageFirstSeq = rig.outbox.stats().nextSeq;
    link.cut();
    await until(() => rig.device.session.state !== "connected", "the device to notice the cut");
    await rig.run(12 * 3600);
    const st = rig.outbox.stats();
    expect(st.bytes).toBeLessThanOrEqual(64 * 1024);
    expect(st.drops.routine).toBeGreaterThan(500);
    expect(st.drops.alarms).toBe(0);
    const health = rig.device.healthReport();
    expect(health.outbox.dropped).toEqual({ routine: st.drops.routine, alarms: 0, expired: 0, damaged: 0, interrupted: 0 });
    expect(health.outbox.lastLoss?.count).toBeGreaterThan(0);
    link.restore();
    await rig.waitConnected();
    await until(() => rig.outbox.stats().depth === 0, "the backlog to drain");
    await rig.run(120);
    await rig.stop();
    await new Promise((r) => setTimeout(r, 200));
    await sub.close();

    const msgs = new Map<number, { topic: string; m: DecodedMessage }>();
    for (const x of sub.messages) {
      if (!x.topic.includes("/traffic/") && !x.topic.includes("/alarm/")) continue;
      const m = decodeMessage(x.payload);
      msgs.set(m.seq, { topic: x.topic, m });
    }
    const maxSeq = Math.max(...msgs.keys());
    const missing: number[] = [];
    for (let s = 1; s <= maxSeq; s++) if (!msgs.has(s)) missing.push(s);
    // exactly the dropped messages are missing, and only from the outage
    expect(missing.length).toBe(st.drops.routine);
    expect(Math.min(...missing)).toBeGreaterThanOrEqual(outageFirstSeq);
    // every alarm arrived: one per half hour of device time, numbered 1, 2, 3…
    const alarmCodes = [...msgs.values()].filter((x) => x.m.kind === "alarm").map((x) => x.m.measures["code"]?.v ?? -1);
    expect(alarmCodes.sort((a, b) => a - b)).toEqual(Array.from({ length: alarmCodes.length }, (_, i) => i + 1));
    expect(alarmCodes.length).toBeGreaterThanOrEqual(24);
    // the oldest went first: every routine message of the outage that survived is newer than every dropped one
    const survivors = [...msgs.entries()].filter(([s, x]) => s >= outageFirstSeq && x.m.kind === "traffic").map(([s]) => s);
    expect(Math.min(...survivors)).toBeGreaterThan(Math.max(...missing));

    // per lane: the first message after the gap says how many windows were lost and which span
    let reported = 0;
    for (const lane of ["lane1", "lane2"]) {
      const wins = [...msgs.values()]
        .filter((x) => x.m.stream === lane && x.m.kind === "traffic")
        .map((x) => x.m)
        .sort((a, b) => a.seq - b.seq);
      const gapAt = wins.findIndex((w, i) => i > 0 && w.windowStartMs - wins[i - 1]!.windowStartMs > MIN);
      expect(gapAt, `${lane} has a gap`).toBeGreaterThan(0);
      const before = wins[gapAt - 1]!;
      const after = wins[gapAt]!;
      const lostWindows = (after.windowStartMs - before.windowStartMs) / MIN - 1;
      expect(after.dropped, `${lane}: seq ${after.seq} reports the loss`).toEqual({
        count: lostWindows,
        fromMs: before.windowStartMs + MIN,
        toMs: after.windowStartMs,
      });
      reported += after.dropped!.count;
      // no other message of the lane reports anything
      expect(wins.filter((w) => w.dropped).length).toBe(1);
    }
    // every drop is reported exactly once
    expect(reported).toBe(st.drops.routine);
  }, 120_000);
});

describe.skipIf(!hasMosquitto())("message expiry and MQTT 5 properties (Mosquitto, sim seed 7)", () => {
  let mosq: Mosquitto;
  let link: Link;
  beforeAll(async () => {
    mosq = await startMosquitto();
    link = await startLink(mosq.port);
  });
  afterAll(async () => {
    await link?.close();
    await mosq?.stop();
  });

  it("discards summaries older than outbox.expireAfter, reports them, and sends content type, seq and expiry", async () => {
    const sub = await subscribe(mosq.url, "roadside/exp-1/#", { protocolVersion: 5 });
    const rig = await startRig(siteConfig("exp-1", { outbox: { expireAfter: "1h" } }), { brokerUrl: link.url });
    await rig.waitConnected();
    await rig.run(5 * 60);
    await until(() => rig.outbox.stats().depth === 0, "the first minutes to be delivered");
    link.cut();
    await until(() => rig.device.session.state !== "connected", "the device to notice the cut");
    await rig.run(3 * 3600);
    const st = rig.outbox.stats();
    // about two hours of the three (two lanes, a window a minute) outlived the hour
    expect(st.drops.expired).toBeGreaterThanOrEqual(2 * 115);
    expect(st.drops.expired).toBeLessThanOrEqual(2 * 125);
    expect(st.depth).toBeLessThanOrEqual(2 * 62);
    link.restore();
    await rig.waitConnected();
    await until(() => rig.outbox.stats().depth === 0, "the last hour to drain");
    await rig.stop();
    await new Promise((r) => setTimeout(r, 200));
    await sub.close();
    const data = sub.messages.filter((x) => x.topic.includes("/traffic/"));
    for (const x of data) {
      const p = x.properties as { contentType?: string; messageExpiryInterval?: number; userProperties?: Record<string, string> };
      expect(p.contentType).toBe("application/senml+cbor");
      expect(p.userProperties?.["seq"]).toBe(String(decodeMessage(x.payload).seq));
      expect(p.messageExpiryInterval).toBeGreaterThan(0);
      expect(p.messageExpiryInterval).toBeLessThanOrEqual(3600);
    }
    const reports = data.map((x) => decodeMessage(x.payload).dropped?.count ?? 0);
    expect(reports.reduce((a, b) => a + b, 0)).toBe(st.drops.expired);
  }, 120_000);
});
