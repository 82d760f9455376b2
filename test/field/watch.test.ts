import { readFileSync } from "node:fs";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeviceConfigInput } from "../../src/config/schema.js";
import type { OutboxMessage } from "../../src/outbox/outbox.js";
import { decodeMessage, encodePack } from "../../src/publish/envelope.js";
import type { SenmlRecord } from "../../src/publish/senml.js";
import type { Mosquitto } from "../helpers/brokers.js";
import { hasMosquitto, MOSQUITTO_MISSING, startMosquitto } from "../helpers/brokers.js";
import { ROADSIDE, startCli } from "../helpers/cli.js";
import { startSimDevice } from "../helpers/sim-device.js";
import { validate } from "../helpers/json-schema.js";
import { hasScript, startInPty, TerminalScreen } from "../helpers/terminal.js";

const MESSAGE_SCHEMA = JSON.parse(readFileSync(new URL("../../docs/message.schema.json", import.meta.url), "utf8")) as Record<
  string,
  unknown
>;

const SEED = 42;

function site(id: string, encoding: "cbor" | "json", vph: number): DeviceConfigInput {
  return {
    device: { id, board: "sim" },
    inputs: { "l1.up": { line: "GPIO17" }, "l1.down": { line: "GPIO27" }, "l2.up": { line: "GPIO22" } },
    detectors: { lane1: { loops: ["l1.up", "l1.down"] }, lane2: { loops: ["l2.up"] } },
    windows: { default: "1m" },
    publish: { encoding },
    sim: { seed: SEED, traffic: { lane1: { vehiclesPerHour: vph }, lane2: { vehiclesPerHour: vph / 2 } } },
  };
}

/** A hand-made device that loses seq 3 and 4, redelivers 5, then goes offline. */
async function gappyDevice(url: string, id: string, startMs: number): Promise<void> {
  const c = mqtt.connect(url, {
    clientId: `roadside-${id}`,
    will: { topic: `roadside/${id}/status`, payload: Buffer.from("offline"), qos: 1, retain: true },
  });
  await new Promise<void>((r) => c.once("connect", () => r()));
  const pub = (topic: string, payload: Buffer | string, retain = false): Promise<void> =>
    new Promise((r, j) => c.publish(topic, payload, { qos: 1, retain }, (e) => (e ? j(e) : r())));
  await pub(`roadside/${id}/status`, "online", true);
  for (const seq of [1, 2, 5, 5, 6]) {
    const pack: SenmlRecord[] = [
      { bn: `${id}:level:manhole1:`, bt: (startMs + seq * 60_000) / 1000, n: "seq", v: seq },
      { n: "schema", v: 1 },
      { n: "window", u: "s", v: 60 },
      { n: "observed", u: "s", v: 60 },
      { n: "timeq", vs: "synced" },
      { n: "depth", u: "m", v: seq / 10 },
    ];
    await pub(`roadside/${id}/level/manhole1`, encodePack(pack, "cbor"));
  }
  await pub(`roadside/${id}/status`, "offline", true);
  await new Promise<void>((r) => c.end(false, {}, () => r()));
}

interface Line {
  type: string;
  [k: string]: unknown;
}

describe.skipIf(!hasMosquitto())(`roadside watch against Mosquitto${hasMosquitto() ? "" : `: skipped, ${MOSQUITTO_MISSING}`}`, () => {
  let broker: Mosquitto;
  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it(`--json decodes a simulated fleet (seed ${SEED}) exactly as published, and reports the gap, the redelivery and the offline device`, async () => {
    const watch = startCli(["watch", "--broker", broker.url, "--json"]);
    const deadline = Date.now() + 15_000;
    while (!watch.stdout().includes('"state":"connected"')) {
      if (Date.now() > deadline) throw new Error(`watch did not connect: ${watch.stderr()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 200)); // the SUBACK follows the CONNACK

    const delivered: OutboxMessage[] = [];
    const fleet = await Promise.all([
      startSimDevice(site("fleet-1", "cbor", 900), { brokerUrl: broker.url, deps: { onDelivered: (m) => delivered.push(m) } }),
      startSimDevice(site("fleet-2", "json", 600), { brokerUrl: broker.url, deps: { onDelivered: (m) => delivered.push(m) } }),
    ]);
    await Promise.all(fleet.map((d) => d.run(5 * 60)));
    await Promise.all(fleet.map((d) => d.stop()));
    await gappyDevice(broker.url, "gappy-1", Date.UTC(2026, 0, 5, 7, 0, 0));

    const wantData = delivered.length + 4; // + gappy's 1, 2, 5, 6 (the repeat of 5 is flagged)
    const lines = (): Line[] =>
      watch
        .stdout()
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Line);
    const end = Date.now() + 15_000;
    while (
      lines().filter((l) => l.type === "data" && l["seqCheck"] !== "duplicate").length < wantData ||
      !lines().some((l) => l.type === "status" && l["device"] === "gappy-1" && l["status"] === "offline")
    ) {
      if (Date.now() > end)
        throw new Error(`watch saw ${lines().filter((l) => l.type === "data").length} of ${wantData} data messages:\n${watch.stdout()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    watch.child.kill("SIGINT");
    expect(await watch.exited).toBe(0);
    const out = lines();
    // every line a real watch printed holds to the published schema
    for (const l of out) expect(validate(MESSAGE_SCHEMA, l), JSON.stringify(l)).toEqual([]);

    // every delivered summary of the simulated fleet, decoded with the same values
    expect(delivered.length).toBeGreaterThanOrEqual(2 * 2 * 5);
    for (const m of delivered) {
      const want = decodeMessage(m.payload);
      const got = out.find((l) => l.type === "data" && l["device"] === want.device && l["seq"] === want.seq);
      expect(got, `${m.topic} seq ${m.seq}`).toBeDefined();
      expect(got).toMatchObject({
        topic: m.topic,
        kind: "traffic",
        stream: want.stream,
        windowStart: new Date(want.windowStartMs).toISOString(),
        windowS: 60,
        measures: want.measures,
      });
      expect(["first", "ok"]).toContain(got!["seqCheck"]);
    }
    for (const id of ["fleet-1", "fleet-2"]) {
      expect(
        out.filter((l) => l.type === "gap" && l["device"] === id),
        id,
      ).toEqual([]);
      expect(out.filter((l) => l.type === "status" && l["device"] === id).map((l) => l["status"])).toEqual(["online", "offline"]);
    }

    // (its windows are from 2026-01-05, far behind real time: also reported as a backlog, a "catchup" line)
    const gappy = out.filter((l) => l["device"] === "gappy-1" && l.type !== "catchup");
    expect(
      gappy.map((l) =>
        l.type === "data" ? `${l.type}:${l["seq"]}:${l["seqCheck"]}` : l.type === "status" ? `status:${l["status"]}` : `${l.type}`,
      ),
    ).toEqual(["status:online", "data:1:first", "data:2:ok", "gap", "data:5:gap", "data:5:duplicate", "data:6:ok", "status:offline"]);
    expect(gappy.find((l) => l.type === "gap")).toMatchObject({ from: 3, to: 4, missing: 2 });
    expect(gappy.find((l) => l.type === "data" && l["seq"] === 6)).toMatchObject({
      kind: "level",
      stream: "manhole1",
      measures: { depth: { u: "m", v: 0.6 } },
    });
    expect(watch.stderr()).toMatch(/gaps 1 \(2 still missing\), duplicates 1/);
  });

  it("with --session, gets what was published while it was away, and reports the backlog's catch-up", async () => {
    const args = ["watch", "--broker", broker.url, "--json", "--session", "city-1", "--device", "away-1"];
    const first = startCli(args);
    while (!first.stdout().includes('"state":"connected"')) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200));
    first.child.kill("SIGINT");
    expect(await first.exited).toBe(0);
    // while watch is away: a device delivers 3 hours of backlog (1-min windows) in a burst
    const c = mqtt.connect(broker.url, { clientId: "roadside-away-1" });
    await new Promise<void>((r) => c.once("connect", () => r()));
    const now = Math.floor(Date.now() / 60_000) * 60_000;
    for (let seq = 1; seq <= 180; seq++) {
      const start = now - (181 - seq) * 60_000;
      const payload = encodePack(
        [
          { bn: "away-1:traffic:lane1:", bt: start / 1000, n: "seq", v: seq },
          { n: "schema", v: 1 },
          { n: "window", u: "s", v: 60 },
          { n: "observed", u: "s", v: 60 },
          { n: "timeq", vs: "synced" },
          { n: "volume", u: "count", v: seq % 7 },
        ],
        "cbor",
      );
      await new Promise<void>((r) => c.publish("roadside/away-1/traffic/lane1", payload, { qos: 1 }, () => r()));
    }
    await new Promise<void>((r) => c.end(false, {}, () => r()));
    const second = startCli(args);
    const lines = (): Line[] =>
      second
        .stdout()
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Line);
    const end = Date.now() + 15_000;
    while (lines().filter((l) => l.type === "data").length < 180) {
      if (Date.now() > end)
        throw new Error(`only ${lines().filter((l) => l.type === "data").length} of 180 queued messages:\n${second.stderr()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    second.child.kill("SIGINT");
    expect(await second.exited).toBe(0);
    const out = lines();
    expect(out[0]).toMatchObject({ type: "broker", state: "connected", detail: "session resumed: queued messages follow" });
    const data = out.filter((l) => l.type === "data");
    expect(data.map((l) => l["seq"])).toEqual(Array.from({ length: 180 }, (_, i) => i + 1));
    expect(out.filter((l) => l.type === "gap")).toEqual([]);
    const catchup = out.filter((l) => l.type === "catchup");
    expect(catchup.map((l) => l["state"])).toEqual(["start", "done"]);
    expect(catchup[0]!["behindS"]).toBeGreaterThan(170 * 60);
    expect(catchup[1]!["messages"]).toBeGreaterThan(170);
  });

  it.skipIf(!hasScript())("shows a live table on a terminal, with readable units, the gap and the offline device", async () => {
    // a retained status from before this watch starts (as the devices of the tests above leave): watch shows it at once
    const old = mqtt.connect(broker.url, { clientId: "roadside-fleet-1" });
    await new Promise<void>((r) => old.once("connect", () => r()));
    await new Promise<void>((r, j) => old.publish("roadside/fleet-1/status", "offline", { qos: 1, retain: true }, (e) => (e ? j(e) : r())));
    await new Promise<void>((r) => old.end(false, {}, () => r()));
    const run = startInPty(`${process.execPath} ${ROADSIDE} watch --broker ${broker.url} --utc --duration 20s`, { columns: 132, rows: 24 });
    const screenNow = (): string[] => {
      const s = new TerminalScreen(132, 24);
      s.write(run.output());
      return s.text();
    };
    const deadline = Date.now() + 15_000;
    while (!screenNow().some((l) => l.includes("connected"))) {
      if (Date.now() > deadline) throw new Error(`no table on screen:\n${run.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 200));
    await gappyDevice(broker.url, "gappy-2", Math.floor(Date.now() / 60_000) * 60_000 - 6 * 60_000);
    // 150 s of virtual time ending now: the last window closed (a boundary falls in every minute,
    // 0.5 s grace) started at most ~2 min ago, so fleet-3 ends up online whatever second the test
    // starts in; its earlier windows may still trigger (and end) a catch-up.
    const fleet = await startSimDevice(site("fleet-3", "cbor", 1800), { brokerUrl: broker.url, startWallMs: Date.now() - 150_000 });
    await fleet.run(150);
    const end = Date.now() + 15_000;
    let screen = screenNow();
    // the first (partial) window starts when the device did; wait for a whole window, aligned to the minute
    const fleetRow = /fleet-3 +online +traffic\/lane1 +\d\d:\d\d:00 1m +\d+ +volume \d+ +flow \d+ veh\/h +occupancy \d+\.\d %/;
    while (!screen.some((l) => /gappy-2 +OFFLINE/.test(l)) || !screen.some((l) => fleetRow.test(l))) {
      if (Date.now() > end) throw new Error(`table incomplete:\n${screen.join("\n")}`);
      await new Promise((r) => setTimeout(r, 100));
      screen = screenNow();
    }
    await fleet.stop();
    const text = screen.join("\n");
    expect(screen[0]).toMatch(
      new RegExp(`^roadside watch  ${broker.url.replace(/[.]/g, "\\.")}  roadside/\\+/#  connected  \\d\\d:\\d\\d:\\d\\d UTC$`),
    );
    expect(screen[1]).toMatch(/^\d+ devices: \d+ online, \d+ offline · \d+ messages · gaps 1 \(2 missing\) · duplicates 1$/);
    expect(text).toMatch(/DEVICE +STATUS +STREAM +WINDOW +SEQ +VALUES/);
    expect(text).toMatch(fleetRow);
    expect(text).toMatch(/gappy-2 +OFFLINE \d+s +level\/manhole1 +\d\d:\d\d:00 1m +6 +depth 0\.60 m/);
    expect(text).toMatch(/gappy-2: gap, seq 3–4 missing \(2\)/);
    expect(text).toMatch(/fleet-1 +OFFLINE +–/); // retained status from before this watch: no age known
    // the device lines from each heartbeat: last seen, outbox, drops, clock, temperature, faults
    expect(text).toMatch(/DEVICE +STATUS +LAST SEEN +OUTBOX +DROPS +CLOCK +TEMP +FAULTS/);
    expect(text).toMatch(/fleet-3 +online +\d+s ago +\d+(, \d+[smh] old)? +0 +synced +(–|\d+ °C) +none/);
    expect(text).toMatch(/gappy-2 +OFFLINE \d+s +\d+s ago +– +– +– +– +\(no health yet\)/);
    for (const l of screen) expect(l.length).toBeLessThanOrEqual(132);
    run.child.kill("SIGTERM");
    await run.exited;
  });
});
