import { describe, expect, it } from "vitest";
import { RealClock } from "../../src/clock/real.js";
import { silentLogger } from "../../src/log/logger.js";
import { MqttSession } from "../../src/mqtt/session.js";
import { Topics } from "../../src/publish/topics.js";
import { Rng } from "../../src/sim/rng.js";
import { startAedes } from "../helpers/brokers.js";
import { emptyOutbox, until } from "./rig.js";

const SEED = 99;
const DEVICES = 1000;

describe(`no thundering herd: ${DEVICES} devices lose their broker at once (seed ${SEED})`, () => {
  it("their first reconnects are spread evenly over the backoff ceiling, not bunched", async () => {
    const broker = await startAedes();
    const rng = new Rng(SEED);
    const first = new Map<number, number>();
    const sessions: MqttSession[] = [];
    for (let i = 0; i < DEVICES; i++) {
      const r = rng.fork(`device-${i}`);
      const s = new MqttSession({
        url: broker.url,
        clientId: `herd-${i}`,
        protocol: "3.1.1",
        keepaliveS: 60,
        statusTopic: new Topics("roadside", `herd-${i}`).status(),
        clock: new RealClock(),
        outbox: emptyOutbox,
        logger: silentLogger,
        backoffMinMs: 2000,
        random: () => r.next(),
        // record the delay each session asks for; the reconnect itself is not needed
        setTimer: (_fn, ms) => {
          if (!first.has(i)) first.set(i, ms);
          return () => {};
        },
      });
      sessions.push(s);
      s.start();
    }
    await until(() => sessions.every((s) => s.state === "connected"), `${DEVICES} connections`, 60_000);
    await broker.close(); // the city's broker restarts
    await until(() => first.size === DEVICES, "every device to schedule its reconnect", 30_000);
    await Promise.all(sessions.map((s) => s.stop()));

    const delays = [...first.values()];
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThan(2000);
    // in any 100 ms, at most ~2× the even share (50) of the fleet comes back
    const buckets = new Array<number>(20).fill(0);
    for (const d of delays) buckets[Math.floor(d / 100)]!++;
    expect(Math.max(...buckets), `per-100-ms counts ${buckets.join(",")}`).toBeLessThanOrEqual(100);
    expect(Math.min(...buckets)).toBeGreaterThanOrEqual(20);
    // and no two devices share a millisecond in bulk
    const perMs = new Map<number, number>();
    for (const d of delays) perMs.set(d, (perMs.get(d) ?? 0) + 1);
    expect(Math.max(...perMs.values())).toBeLessThanOrEqual(5);
  }, 120_000);
});
