import mqtt from "mqtt";
import { afterEach, describe, expect, it } from "vitest";
import { RealClock } from "../../src/clock/real.js";
import { silentLogger } from "../../src/log/logger.js";
import { MqttSession } from "../../src/mqtt/session.js";
import { hasMosquitto, MOSQUITTO_MISSING, startAedes, startMosquitto } from "../helpers/brokers.js";
import { emptyOutbox, until } from "./rig.js";

/**
 * A device opens its MQTT session while its inputs and features start (issue 15: start-up), and its
 * command handler subscribes only once they have started. A persistent session's commands queued at
 * the broker while the device was down arrive right after CONNACK, before that: they must be held and
 * handled at start(), and acknowledged only then (a device that dies while starting gets them again).
 */

const FILTER = "roadside/dev-held/cmd/#";
const sessions: MqttSession[] = [];

function session(url: string, protocol: "5" | "3.1.1"): MqttSession {
  const s = new MqttSession({
    url,
    clientId: "dev-held",
    protocol,
    keepaliveS: 60,
    statusTopic: "roadside/dev-held/status",
    clock: new RealClock(),
    outbox: emptyOutbox,
    logger: silentLogger,
  });
  sessions.push(s);
  return s;
}

/** A session started the usual way (handler first), connected; what its handler got. */
async function started(url: string, protocol: "5" | "3.1.1"): Promise<{ session: MqttSession; seen: string[] }> {
  const s = session(url, protocol);
  const seen: string[] = [];
  s.subscribe(FILTER, (_t, p) => seen.push(p.toString()));
  s.start();
  await until(() => s.state === "connected", "a started session's connection");
  return { session: s, seen };
}

/** Send one QoS 1 message from another client (the platform) and wait for its PUBACK from the broker. */
async function sendCommand(url: string, topic: string, body: string): Promise<void> {
  const c = mqtt.connect(url, { clientId: `platform-${Math.random().toString(16).slice(2)}`, reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => {
    c.once("connect", () => c.publish(topic, body, { qos: 1 }, (err) => (err ? reject(err) : resolve())));
    c.once("error", reject);
  });
  await new Promise<void>((r) => c.end(false, {}, () => r()));
}

afterEach(async () => {
  for (const s of sessions.splice(0)) await s.stop();
});

async function scenario(url: string, protocol: "5" | "3.1.1"): Promise<void> {
  // the device's persistent session subscribes once, then the device goes down
  const { session: first, seen: seenFirst } = await started(url, protocol);
  await sendCommand(url, "roadside/dev-held/cmd/ping", "before");
  await until(() => seenFirst.includes("before"), "the subscription in place");
  await first.stop();

  // a command is queued at the broker while the device is down
  await sendCommand(url, "roadside/dev-held/cmd/config", "queued");

  // the device comes back, opens its session early and dies before it has started
  const dying = session(url, protocol);
  dying.open();
  await until(() => dying.state === "connected", "reconnection while starting");
  await new Promise((r) => setTimeout(r, 300)); // the queued command arrives now, before any handler
  await dying.stop();

  // it comes back again: opens early, the handler subscribes after the inputs start, then start()
  const again = session(url, protocol);
  const seen: string[] = [];
  again.open();
  await until(() => again.state === "connected", "third connection");
  await new Promise((r) => setTimeout(r, 300));
  expect(seen).toEqual([]);
  again.subscribe(FILTER, (_t, p) => seen.push(p.toString()));
  again.start();
  await until(() => seen.length > 0, "the queued command handled at start()", 5000);
  expect(seen).toEqual(["queued"]);
  // handled once, and acknowledged: a later connection of the same session does not get it again
  await again.stop();
  const { seen: seenLater } = await started(url, protocol);
  await sendCommand(url, "roadside/dev-held/cmd/ping", "after");
  await until(() => seenLater.includes("after"), "a fresh command");
  expect(seenLater).toEqual(["after"]);
}

describe("commands queued for a persistent session while the device was down", () => {
  it("aedes (MQTT 3.1.1): held until start(), handled once, acknowledged only after", async () => {
    const broker = await startAedes();
    try {
      await scenario(broker.url, "3.1.1");
    } finally {
      for (const s of sessions.splice(0)) await s.stop();
      await broker.close();
    }
  });

  it.skipIf(!hasMosquitto())(
    `Mosquitto (MQTT 5): held until start(), handled once, acknowledged only after${hasMosquitto() ? "" : `: skipped, ${MOSQUITTO_MISSING}`}`,
    async () => {
      const broker = await startMosquitto();
      try {
        await scenario(broker.url, "5");
      } finally {
        for (const s of sessions.splice(0)) await s.stop();
        await broker.stop();
      }
    },
  );
});
