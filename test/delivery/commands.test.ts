import { generateKeyPairSync } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mqtt from "mqtt";
import type { MqttClient } from "mqtt";
import type { CommandRequest, ConfigCandidate } from "../../src/control/commands.js";
import type { HealthReport } from "../../src/control/health-report.js";
import { CommandVerifier, MemoryReplayStore, signCommand } from "../../src/control/signing.js";
import type { SignedBody } from "../../src/control/signing.js";
import { decodeMessage } from "../../src/publish/envelope.js";
import { Rng } from "../../src/sim/rng.js";
import type { Mosquitto } from "../helpers/brokers.js";
import { hasMosquitto, startMosquitto } from "../helpers/brokers.js";
import type { Rig } from "./rig.js";
import { siteConfig, startRig, until } from "./rig.js";

const FUZZ_SEED = 4242;
const DEV = "cmd-1";
const BASE = `roadside/${DEV}`;

interface Reply {
  topic: string;
  body: {
    id: string | null;
    command: string;
    ok: boolean;
    result?: Record<string, unknown>;
    error?: { code: string; message: string; issues?: string[] };
  };
  correlationData?: Buffer;
  contentType?: string;
}

/** An operator's MQTT 5 client: sends commands, collects replies. */
async function operator(url: string): Promise<{
  client: MqttClient;
  replies: Reply[];
  send(name: string, payload: string | Buffer, correlationData?: Buffer): void;
  ask(name: string, body: Record<string, unknown>): Promise<Reply>;
  close(): Promise<void>;
}> {
  const client = mqtt.connect(url, { protocolVersion: 5 });
  const replies: Reply[] = [];
  client.on("message", (topic, payload, packet) => {
    const r: Reply = { topic, body: JSON.parse(payload.toString()) as Reply["body"] };
    const p = packet.properties;
    if (p?.correlationData) r.correlationData = Buffer.from(p.correlationData);
    if (p?.contentType) r.contentType = p.contentType;
    replies.push(r);
  });
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => client.subscribe(`${BASE}/cmd/+/reply`, { qos: 1 }, (e) => (e ? reject(e) : resolve())));
  });
  let n = 0;
  const send = (name: string, payload: string | Buffer, correlationData?: Buffer): void => {
    client.publish(`${BASE}/cmd/${name}`, payload, { qos: 1, ...(correlationData ? { properties: { correlationData } } : {}) });
  };
  return {
    client,
    replies,
    send,
    ask: async (name, body) => {
      const id = `req-${++n}`;
      send(name, JSON.stringify({ id, ...body }));
      await until(() => replies.some((r) => r.body.id === id), `a reply to ${name} ${id}`, 10_000);
      return replies.find((r) => r.body.id === id)!;
    },
    close: () => new Promise<void>((r) => client.end(true, {}, () => r())),
  };
}

describe.skipIf(!hasMosquitto())("commands on …/cmd/{name} (Mosquitto, MQTT 5)", () => {
  let mosq: Mosquitto;
  let rig: Rig;
  let priv: KeyObject;
  let pub: KeyObject;
  const applied: { candidate: ConfigCandidate; req: CommandRequest }[] = [];
  const restarts: CommandRequest[] = [];
  let op: Awaited<ReturnType<typeof operator>>;

  // virtual time stands still between commands: each signature gets a later issuedAt
  let issued = 0;
  const signed = (
    command: string,
    extra: Record<string, unknown>,
    over: Partial<SignedBody> = {},
    key: KeyObject = priv,
  ): Record<string, unknown> =>
    signCommand(key, { device: DEV, command, issuedAt: Math.round(rig.clock.wallMs()) + ++issued, ...extra, ...over });

  beforeAll(async () => {
    mosq = await startMosquitto();
    ({ privateKey: priv, publicKey: pub } = generateKeyPairSync("ed25519"));
    const replay = new MemoryReplayStore();
    rig = await startRig(siteConfig(DEV), {
      brokerUrl: mosq.url,
      deps: (clock) => ({
        control: {
          verifier: new CommandVerifier({
            publicKey: pub,
            deviceId: DEV,
            wallMs: () => clock.wallMs(),
            synced: () => clock.synced,
            maxSkewMs: 600_000,
            replay,
          }),
          rate: { perS: 100_000, burst: 100_000 },
          applyConfig: (candidate, req) => {
            applied.push({ candidate, req });
            void rig.device.commands!.reply(req, { ok: true, result: { applied: true, configHash: candidate.loaded.hash } });
          },
          restart: (req) => restarts.push(req),
        },
      }),
    });
    await rig.waitConnected();
    op = await operator(mosq.url);
  });
  afterAll(async () => {
    await op?.close();
    await rig?.stop();
    await mosq?.stop();
  });

  it("ping answers with the request's id and MQTT 5 correlation data, as JSON", async () => {
    const cd = Buffer.from([1, 2, 3, 250]);
    op.send("ping", JSON.stringify({ id: "p-1" }), cd);
    await until(() => op.replies.some((r) => r.body.id === "p-1"), "the ping reply");
    const r = op.replies.find((x) => x.body.id === "p-1")!;
    expect(r.topic).toBe(`${BASE}/cmd/ping/reply`);
    expect(r.body).toMatchObject({ ok: true, command: "ping", result: { pong: true } });
    expect(r.correlationData?.equals(cd)).toBe(true);
    expect(r.contentType).toBe("application/json");
  });

  it("health publishes the heartbeat now and replies", async () => {
    const seen: HealthReport[] = [];
    const h = mqtt.connect(mosq.url, { protocolVersion: 5 });
    h.on("message", (_t, p) => seen.push(JSON.parse(p.toString()) as HealthReport));
    await new Promise<void>((r) => h.once("connect", () => h.subscribe(`${BASE}/health`, { qos: 1 }, () => r())));
    const before = seen.length;
    const r = await op.ask("health", {});
    expect(r.body).toMatchObject({ ok: true, result: { published: true, configHash: rig.device.manifest().configHash } });
    await until(() => seen.length > before, "a health message");
    const report = seen[seen.length - 1]!;
    expect(report).toMatchObject({
      health: 1,
      device: DEV,
      software: { name: "roadside", version: "9.9.9-test" },
      configHash: rig.device.manifest().configHash,
      timeq: "synced",
    });
    expect(report.outbox).toMatchObject({
      depth: expect.any(Number),
      nextSeq: expect.any(Number),
      dropped: { routine: 0, alarms: 0, expired: 0 },
    });
    expect(report.mqtt.connects).toBeGreaterThanOrEqual(1);
    expect(report.disk).toEqual({ freeBytes: 1e9, totalBytes: 2e9 });
    h.end(true);
  });

  it("unknown, malformed and oversized requests get an error reply", async () => {
    expect((await op.ask("reboot-now", {})).body.error?.code).toBe("unknown-command");
    op.send("ping", "{not json");
    op.send("ping", "[1,2]");
    op.send("ping", JSON.stringify({ id: 42 }));
    op.send("ping", Buffer.alloc(70_000, 0x41));
    await until(() => op.replies.filter((r) => r.body.command === "ping" && r.body.ok === false).length >= 4, "four error replies");
    const codes = op.replies.filter((r) => r.body.command === "ping" && !r.body.ok).map((r) => r.body.error!.code);
    expect(codes.sort()).toEqual(["malformed", "malformed", "malformed", "too-large"]);
  });

  it("config: only a fresh signature of this device's key is accepted, once, and only a valid config", async () => {
    const good = siteConfig(DEV, { device: { id: DEV, board: "sim", site: "Main St / 5th Ave" } });
    expect((await op.ask("config", { config: good })).body.error?.code).toBe("unsigned");
    const ok = signed("config", { config: good });
    const r = await op.ask("config", ok);
    expect(r.body).toMatchObject({ ok: true, result: { applied: true } });
    expect(applied).toHaveLength(1);
    expect(applied[0]!.candidate.loaded.config.device.site).toBe("Main St / 5th Ave");
    expect((await op.ask("config", ok)).body.error?.code).toBe("replayed");
    const other = generateKeyPairSync("ed25519").privateKey;
    expect((await op.ask("config", signed("config", { config: good }, {}, other))).body.error?.code).toBe("bad-signature");
    const tampered = signed("config", { config: good });
    tampered["signed"] = Buffer.from(JSON.stringify({ device: DEV, command: "config", issuedAt: Date.now(), config: good })).toString(
      "base64",
    );
    expect((await op.ask("config", tampered)).body.error?.code).toBe("bad-signature");
    expect((await op.ask("config", signed("config", { config: good }, { device: "pole-9999" }))).body.error?.code).toBe("wrong-device");
    expect((await op.ask("config", signed("restart", { config: good }))).body.error?.code).toBe("wrong-command");
    expect(
      (await op.ask("config", signed("config", { config: good }, { issuedAt: Math.round(rig.clock.wallMs()) - 3_600_000 }))).body.error
        ?.code,
    ).toBe("replayed");
    expect(
      (await op.ask("config", signed("config", { config: good }, { issuedAt: Math.round(rig.clock.wallMs()) + 3_600_000 }))).body.error
        ?.code,
    ).toBe("stale");
    const bad = await op.ask("config", signed("config", { config: { ...good, windows: { default: "7m" } } }));
    expect(bad.body.error?.code).toBe("invalid-config");
    expect(bad.body.error?.issues?.[0]).toMatch(/^windows\.default: .*divide an hour/);
    expect(
      (await op.ask("config", signed("config", { config: { ...good, device: { id: "pole-1", board: "sim" } } }))).body.error?.code,
    ).toBe("immutable");
    expect(applied).toHaveLength(1);
  });

  it("restart needs a signature too, replies before it acts", async () => {
    expect((await op.ask("restart", {})).body.error?.code).toBe("unsigned");
    expect(restarts).toHaveLength(0);
    const r = await op.ask("restart", signed("restart", {}));
    expect(r.body).toMatchObject({ ok: true, result: { restarting: true } });
    await until(() => restarts.length === 1, "the restart hook");
  });

  it(`fuzz (seed ${FUZZ_SEED}): random and malformed payloads on every command topic change nothing and crash nothing`, async () => {
    const rng = new Rng(FUZZ_SEED);
    const hash = rig.device.manifest().configHash;
    const appliedBefore = applied.length;
    const restartsBefore = restarts.length;
    const receivedBefore = rig.device.commands!.counters.received;
    const repliesBefore = op.replies.length;
    const seqBefore = rig.outbox.stats().nextSeq;
    const names = ["ping", "health", "config", "restart", "reply", "x", "CONFIG", "config-", "a_b"];
    const b64 = (n: number): string => Buffer.from(Array.from({ length: n }, () => rng.int(0, 255))).toString("base64");
    const payloads: (() => string | Buffer)[] = [
      () => Buffer.from(Array.from({ length: rng.int(0, 300) }, () => rng.int(0, 255))),
      () => JSON.stringify(rng.chance(0.5) ? rng.next() : "text"),
      () =>
        JSON.stringify({ id: rng.chance(0.5) ? rng.int(0, 9) : "x".repeat(rng.int(0, 200)), signed: b64(rng.int(0, 200)), sig: b64(64) }),
      () =>
        JSON.stringify({
          id: "f",
          signed: Buffer.from(JSON.stringify({ device: DEV, command: "config", issuedAt: 1, config: {} })).toString("base64"),
          sig: b64(64),
        }),
      () => JSON.stringify({ id: "f", config: { device: { id: DEV, board: "sim" } }, yaml: "device: {id: x}" }),
      () => `${"[".repeat(rng.int(1, 4000))}`,
      () => JSON.stringify({ id: "big", pad: "y".repeat(rng.int(60_000, 80_000)) }),
      () => JSON.stringify({ id: "\u0000\u0001", signed: 5, sig: null }),
      () => '{"id":"dup","id":"dup2","__proto__":{"polluted":true}}',
      () => JSON.stringify({ id: "t", signed: "!!!not base64!!!", sig: "%%%" }),
    ];
    let sent = 0;
    const expectReply = new Map<string, number>();
    for (let i = 0; i < 600; i++) {
      const name = names[rng.int(0, names.length - 1)]!;
      op.send(name, payloads[rng.int(0, payloads.length - 1)]!());
      sent++;
      expectReply.set(name, (expectReply.get(name) ?? 0) + 1);
      if (i % 50 === 49) await new Promise((r) => setTimeout(r, 20));
    }
    // plus topics that are not command names of this device at all: no reply possible, no harm
    op.client.publish(`${BASE}/cmd/with space`, "{}", { qos: 1 });
    op.client.publish(`${BASE}/cmd/${"n".repeat(100)}`, "{}", { qos: 1 });
    sent += 2;
    const wanted = repliesBefore + 600;
    await until(
      () => op.replies.length >= wanted && rig.device.commands!.counters.received - receivedBefore >= sent,
      `${sent} commands handled (seed ${FUZZ_SEED})`,
      30_000,
    );
    await new Promise((r) => setTimeout(r, 200));
    const fuzzReplies = op.replies.slice(repliesBefore);
    expect(fuzzReplies).toHaveLength(600); // exactly one reply per request on a valid name
    for (const [name, n] of expectReply) expect(fuzzReplies.filter((r) => r.topic === `${BASE}/cmd/${name}/reply`).length, name).toBe(n);
    expect(fuzzReplies.filter((r) => (r.body.command === "config" || r.body.command === "restart") && r.body.ok)).toEqual([]);
    expect(applied.length).toBe(appliedBefore);
    expect(restarts.length).toBe(restartsBefore);
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
    // the device is unchanged and still working: same config, answering, publishing with continuous numbers
    expect(rig.device.manifest().configHash).toBe(hash);
    expect(rig.device.session.state).toBe("connected");
    expect((await op.ask("ping", {})).body.ok).toBe(true);
    const dataSub = mqtt.connect(mosq.url);
    const data: number[] = [];
    dataSub.on("message", (t, p) => {
      if (t.includes("/traffic/")) data.push(decodeMessage(p).seq);
    });
    await new Promise<void>((r) => dataSub.once("connect", () => dataSub.subscribe(`${BASE}/#`, { qos: 1 }, () => r())));
    await rig.run(150); // two windows close: four summaries
    await until(
      () => data.length >= 4,
      `summaries after the fuzzing (session ${rig.device.session.state}, depth ${rig.outbox.stats().depth}, ${data.length} seen)`,
    );
    expect(Math.min(...data)).toBe(seqBefore);
    dataSub.end(true);
  });

  it("without a provisioned key, config and restart are refused", async () => {
    const mosq2 = await startMosquitto();
    const plain = await startRig(siteConfig("cmd-2"), { brokerUrl: mosq2.url });
    await plain.waitConnected();
    const c = mqtt.connect(mosq2.url, { protocolVersion: 5 });
    const got: Reply["body"][] = [];
    c.on("message", (_t, p) => got.push(JSON.parse(p.toString()) as Reply["body"]));
    await new Promise<void>((r) => c.once("connect", () => c.subscribe("roadside/cmd-2/cmd/+/reply", { qos: 1 }, () => r())));
    c.publish("roadside/cmd-2/cmd/config", JSON.stringify({ id: "c" }), { qos: 1 });
    c.publish("roadside/cmd-2/cmd/restart", JSON.stringify({ id: "r" }), { qos: 1 });
    await until(() => got.length >= 2, "two replies");
    expect(got.map((g) => g.error?.code)).toEqual(["disabled", "disabled"]);
    c.end(true);
    await plain.stop();
    await mosq2.stop();
  });
});
