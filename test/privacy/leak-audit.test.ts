import { rmSync } from "node:fs";
import { dirname } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeviceConfigInput } from "../../src/config/schema.js";
import { binAccessFeature } from "../../src/features/bin-access.js";
import type { FeatureFactory } from "../../src/features/index.js";
import { FEATURES } from "../../src/features/index.js";
import { gateOptions, IdentifierPort, serialSpec } from "../../src/features/identifier-port.js";
import { presenceFeature } from "../../src/features/presence.js";
import type { EmbeddedBroker } from "../../src/mqtt/embedded.js";
import { ProbeGate } from "../../src/privacy/index.js";
import type { ProbeSink, Radio, RawIdentifier } from "../../src/privacy/raw.js";
import { GATE } from "../../src/privacy/raw.js";
import { decodeSenmlCbor } from "../../src/publish/senml.js";
import { ProbeScannerParser } from "../../src/sensors/probe-scanner.js";
import type { DepositTruth, SightingTruth } from "../../src/sim/identifiers.js";
import { identifierSeed, simProbeAddress, simTag } from "../../src/sim/identifiers.js";
import { startAedes } from "../helpers/brokers.js";
import type { AuditRun } from "./leak-rig.js";
import { auditRun } from "./leak-rig.js";
import type { Hit } from "./leak-scan.js";
import { NeedleIndex, needles, snapshotStrings } from "./leak-scan.js";

const SEED = 2026;
const USERS = 40;

function config(id: string, encoding: "cbor" | "json"): DeviceConfigInput {
  return {
    device: { id, board: "sim" },
    publish: { encoding },
    identifiers: {
      // defaults: 15-minute windows, k = 5
      scanners: { ped1: { port: { path: "sim0" } } },
      readers: { bin7: { port: { path: "sim1" } } },
    },
    sim: {
      seed: SEED,
      identifiers: {
        scanners: { ped1: { devicesPerHour: 500, profile: "diurnal" } },
        readers: { bin7: { users: USERS, depositsPerHour: 12 } },
      },
      // error paths log too: line noise on both ports, the reader unplugged for a minute
      faults: [
        { at: "3h", for: "30s", kind: "garbage", target: "ped1" },
        { at: "3h", for: "30s", kind: "garbage", target: "bin7" },
        { at: "5h", for: "60s", kind: "unplug", target: "bin7" },
      ],
    },
  } as DeviceConfigInput;
}

/** Every identifier the simulator emitted (and every card of the population), derived from the seed. */
function identifiersOf(run: AuditRun): Buffer[] {
  const seed = identifierSeed(SEED);
  const addresses = new Set<number>();
  for (const r of run.truth) if (r.kind === "sighting") addresses.add((r as SightingTruth).address);
  const ids = [...addresses].map((a) => simProbeAddress(seed, "ped1", a));
  for (let u = 0; u < USERS; u++) ids.push(simTag(seed, u));
  return ids;
}

/** Search every channel. Returns the hits and how much was searched. */
function audit(run: AuditRun, ids: Buffer[]): { hits: Hit[]; searched: Record<string, number>; strings: number } {
  const index = new NeedleIndex(needles(ids));
  const hits: Hit[] = [];
  const searched: Record<string, number> = {};
  const look = (channel: string, hay: Buffer) => {
    searched[channel] = (searched[channel] ?? 0) + hay.length;
    hits.push(...index.scan(channel, hay));
  };
  for (const m of run.payloads) {
    look("payload", Buffer.concat([Buffer.from(m.topic), m.payload]));
    // numbers inside CBOR are binary: decode and search their text too
    if (m.payload[0] !== 0x5b && m.topic.includes("/presence/"))
      look("payload (decoded)", Buffer.from(JSON.stringify(decodeSenmlCbor(m.payload))));
  }
  for (const f of run.disk) look(`disk ${f.name}`, f.bytes);
  look("logs", Buffer.from(run.logs.join(""), "utf8"));
  for (const p of run.pools) look("serial read pool", p);
  const snap = snapshotStrings(run.snapshotPath);
  look("heap strings (utf8)", snap.utf8);
  look("heap strings (latin1)", snap.latin1);
  return { hits, searched, strings: snap.count };
}

function summary(hits: Hit[]): Record<string, number> {
  const by: Record<string, number> = {};
  for (const h of hits)
    by[h.channel.replace(/ \(.*\)$/, "").replace(/^disk .*/, "disk")] =
      (by[h.channel.replace(/ \(.*\)$/, "").replace(/^disk .*/, "disk")] ?? 0) + 1;
  return by;
}

describe(`leak audit: a simulated day with known MACs and RFID tags (seed ${SEED})`, () => {
  let broker: EmbeddedBroker;
  const dirs: string[] = [];
  beforeAll(async () => {
    broker = await startAedes();
  });
  afterAll(async () => {
    await broker.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("finds no identifier in any payload (CBOR), on disk, in the logs, the serial buffers or the heap after 24 h", async () => {
    const run = await auditRun(config("leak-cbor", "cbor"), { brokerUrl: broker.url, hours: 24, windowS: 900 });
    dirs.push(dirname(run.snapshotPath));
    const ids = identifiersOf(run);
    const deposits = run.truth.filter((r) => r.kind === "deposit") as DepositTruth[];
    // the run really handled identifiers: thousands of addresses, dozens of card holders, debug logs
    expect(ids.length).toBeGreaterThan(2000);
    expect(new Set(deposits.map((d) => d.user)).size).toBeGreaterThan(20);
    expect(run.presenceMessages).toBeGreaterThanOrEqual(2 * 96);
    expect(run.logs.some((l) => l.includes('"level":"debug"'))).toBe(true);
    expect(run.disk.some((f) => f.name.startsWith("outbox.db-wal"))).toBe(true);
    expect(run.pools.length).toBeGreaterThanOrEqual(2);
    const { hits, searched, strings } = audit(run, ids);
    expect(strings).toBeGreaterThan(10_000);
    expect(searched["logs"]).toBeGreaterThan(20_000);
    expect(hits, `identifier found: ${JSON.stringify(hits.slice(0, 5))}`).toEqual([]);
  });

  it("finds none in JSON payloads either (3 h)", async () => {
    const run = await auditRun(config("leak-json", "json"), { brokerUrl: broker.url, hours: 3, windowS: 900 });
    dirs.push(dirname(run.snapshotPath));
    expect(run.payloads.some((m) => m.topic.includes("/presence/") && m.payload[0] === 0x5b)).toBe(true);
    const { hits } = audit(run, identifiersOf(run));
    expect(hits).toEqual([]);
  });

  it("catches a gate that leaks: logged, published, kept on the heap, left in the serial buffers", async () => {
    // the test double: the real parser and gate, plus a sink that does everything the gate must not
    const kept: string[] = [];
    const leaky: FeatureFactory = (ctx) => {
      const sc = ctx.loaded.config.identifiers.scanners["ped1"]!;
      let last = "";
      const gate = new ProbeGate({ ...gateOptions(ctx, "ped1", {}), diagnostics: () => [{ n: "last", vs: last }] });
      const sink: ProbeSink = {
        [GATE]: true,
        sighting(radio: Radio, address: RawIdentifier, rssi: number, tNs: number) {
          last = address.toString("hex");
          kept.push(address.toString("latin1"), last.toUpperCase());
          ctx.logger.debug(`sighting ${address.toString("hex")}`);
          gate.sighting(radio, address, rssi, tNs);
        },
      };
      const parser = new ProbeScannerParser({ sink });
      ctx.windows(900).add(gate);
      // and a port that hands the parser a copy, leaving the received bytes in the read pool
      const port = new IdentifierPort(ctx, serialSpec(ctx, "ped1", sc.port), "probe scanner", {
        feed: (c, t) => parser.feed(Buffer.from(c), t),
        reset: () => parser.reset(),
      });
      return { name: "leaky-presence", start: () => port.start(), stop: () => port.stop() };
    };
    const features = [...FEATURES.filter((f) => f !== presenceFeature && f !== binAccessFeature), leaky];
    const run = await auditRun(config("leak-double", "cbor"), { brokerUrl: broker.url, hours: 8, windowS: 900, features });
    dirs.push(dirname(run.snapshotPath));
    const { hits } = audit(run, identifiersOf(run));
    const by = summary(hits);
    expect(by["payload"], JSON.stringify(by)).toBeGreaterThan(0);
    expect(by["disk"]).toBeGreaterThan(0);
    expect(by["logs"]).toBeGreaterThan(0);
    expect(by["heap strings"]).toBeGreaterThan(0);
    expect(by["serial read pool"]).toBeGreaterThan(0);
    expect(kept.length).toBeGreaterThan(0);
  });
});
