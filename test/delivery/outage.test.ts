import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeMessage } from "../../src/publish/envelope.js";
import type { Mosquitto } from "../helpers/brokers.js";
import { hasMosquitto, MOSQUITTO_MISSING, startMosquitto, subscribe } from "../helpers/brokers.js";
import type { Link } from "./link.js";
import { startLink } from "./link.js";
import { siteConfig, startRig, until } from "./rig.js";

const HOURS = 72;
const MAX_IN_FLIGHT = 16;

describe.skipIf(!hasMosquitto())(
  `broker unreachable for ${HOURS} simulated hours, 1-minute windows (sim seed 7)${hasMosquitto() ? "" : `: skipped, ${MOSQUITTO_MISSING}`}`,
  () => {
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

    it("delivers every summary exactly once by sequence number, in order per lane, with live windows flowing during the drain", async () => {
      const sub = await subscribe(mosq.url, "roadside/out-1/#", { protocolVersion: 5 });
      const arrivals: { seq: number; topic: string; payload: Buffer }[] = [];
      const health: Record<string, unknown>[] = [];
      sub.client.on("message", (topic, payload) => {
        if (topic.endsWith("/health")) health.push(JSON.parse(payload.toString()) as Record<string, unknown>);
        else if (topic.includes("/traffic/")) arrivals.push({ seq: decodeMessage(payload).seq, topic, payload });
      });
      // live messages committed during the drain, with how many backlog messages had arrived by then
      const liveCommits: { seq: number; backlogSeen: number }[] = [];
      let liveFrom = Number.POSITIVE_INFINITY;
      let maxCommitted = 0;
      const rig = await startRig(siteConfig("out-1"), {
        brokerUrl: link.url,
        deps: {
          mqtt: { maxInFlight: MAX_IN_FLIGHT },
          onCommitted: (msgs) => {
            for (const m of msgs) maxCommitted = Math.max(maxCommitted, m.seq);
            for (const m of msgs)
              if (m.seq >= liveFrom) liveCommits.push({ seq: m.seq, backlogSeen: arrivals.filter((a) => a.seq < liveFrom).length });
          },
        },
      });
      await rig.waitConnected();
      await rig.run(30 * 60); // half an hour online
      await until(() => rig.outbox.stats().depth === 0, "the first half hour to be delivered");

      link.cut();
      await until(() => rig.device.session.state !== "connected", "the device to notice the cut");
      await rig.run(HOURS * 3600);
      const st = rig.outbox.stats();
      expect(st.depth).toBeGreaterThanOrEqual(HOURS * 60 * 2 - 2);
      expect(st.drops).toMatchObject({ routine: 0, alarms: 0, expired: 0 });
      liveFrom = st.nextSeq;
      const before = arrivals.length;

      link.restore();
      // keep the windows coming while the backlog drains: one window per 400 backlog messages received
      let k = 1;
      while (rig.outbox.stats().depth > 0 || arrivals.length === before) {
        const backlog = arrivals.filter((a) => a.seq < liveFrom).length - before;
        if (backlog >= k * 400 && rig.outbox.stats().depth > 50) {
          await rig.run(60);
          k++;
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      await rig.run(120); // two more windows after the drain
      await until(() => rig.outbox.stats().depth === 0, "the last windows to be delivered");
      await rig.stop(); // closes the open windows as partial and delivers them
      const last = maxCommitted;
      await until(() => new Set(arrivals.map((a) => a.seq)).size >= last, `all ${last} summaries at the subscriber`);
      await sub.close();

      // exactly once by sequence number: every seq 1..last, repeats only as identical redeliveries
      const bySeq = new Map<number, Buffer>();
      for (const a of arrivals) {
        const prev = bySeq.get(a.seq);
        if (prev) expect(prev.equals(a.payload), `seq ${a.seq} delivered twice with different content`).toBe(true);
        else bySeq.set(a.seq, a.payload);
      }
      expect([...bySeq.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: last }, (_, i) => i + 1));

      // in order: the backlog in sequence order, the live windows in sequence order
      const firsts: number[] = [];
      const seen = new Set<number>();
      for (const a of arrivals) if (!seen.has(a.seq)) seen.add(a.seq) && firsts.push(a.seq);
      const backlog = firsts.filter((s) => s < liveFrom);
      const live = firsts.filter((s) => s >= liveFrom);
      expect(backlog).toEqual([...backlog].sort((a, b) => a - b));
      expect(live).toEqual([...live].sort((a, b) => a - b));

      // every lane's windows cover the whole run without a gap: nothing was lost, minute by minute
      for (const lane of ["lane1", "lane2"]) {
        const wins = [...bySeq.values()]
          .map((p) => decodeMessage(p))
          .filter((m) => m.stream === lane)
          .sort((a, b) => a.windowStartMs - b.windowStartMs);
        for (let i = 1; i < wins.length; i++) {
          expect(
            wins[i]!.windowStartMs - wins[i - 1]!.windowStartMs,
            `${lane} window after ${new Date(wins[i - 1]!.windowStartMs).toISOString()}`,
          ).toBe(60_000);
        }
        expect(wins.length).toBeGreaterThanOrEqual(HOURS * 60 + 30);
      }

      // live windows were not held behind the backlog: each arrived within a few in-flight windows
      // of backlog messages after it was committed, not after the thousands still waiting
      const duringDrain = liveCommits.filter((c) => c.seq < liveFrom + (k - 1) * 2);
      expect(duringDrain.length).toBeGreaterThanOrEqual(10);
      const pos = new Map(firsts.map((s, i) => [s, i]));
      for (const c of duringDrain) {
        const backlogBeforeArrival = firsts.slice(0, pos.get(c.seq)).filter((s) => s < liveFrom).length - before;
        expect(backlogBeforeArrival - c.backlogSeen, `live seq ${c.seq}`).toBeLessThanOrEqual(4 * MAX_IN_FLIGHT);
      }
      expect(backlog.length - before).toBeGreaterThan(HOURS * 60 * 2 - 10);

      // the heartbeat sent at reconnect told the backlog's size and age
      const atReconnect = health.find((h) => (h["outbox"] as { depth: number }).depth > HOURS * 60);
      expect(atReconnect, "a health report at reconnect").toBeDefined();
      expect((atReconnect!["outbox"] as { oldestAgeS: number }).oldestAgeS).toBeGreaterThanOrEqual(HOURS * 3600 - 120);
      expect((atReconnect!["mqtt"] as { reconnects: number }).reconnects).toBeGreaterThanOrEqual(1);
    }, 300_000);
  },
);
