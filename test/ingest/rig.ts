import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import mqtt from "mqtt";
import type { MqttClient } from "mqtt";
import type { Alarm } from "../../src/aggregate/alarm.js";
import type { Measure, StreamKind } from "../../src/aggregate/summary.js";
import type { Window } from "../../src/clock/windows.js";
import { compactPack, encodeCompact } from "../../src/publish/compact.js";
import { alarmPack, encodePack, summaryPack } from "../../src/publish/envelope.js";
import { Rng } from "../../src/sim/rng.js";

const BIN = join(import.meta.dirname, "..", "..", "bin", "roadside.js");

export interface Msg {
  topic: string;
  payload: Buffer;
  device: string;
  seq: number;
}

function window(startMs: number, lengthS: number): Window {
  return {
    lengthS,
    startNs: 0,
    endNs: lengthS * 1e9,
    startWallMs: startMs,
    endWallMs: startMs + lengthS * 1000,
    index: 0,
    partial: false,
    clockJump: false,
    synced: true,
  };
}

/** One summary message of `device`, encoded by the device's own encoder (src/publish/envelope.ts). */
export function summaryMsg(
  device: string,
  seq: number,
  kind: StreamKind,
  stream: string,
  startMs: number,
  measures: Measure[],
  windowS = 60,
): Msg {
  const pack = summaryPack(device, { kind, name: stream, window: window(startMs, windowS), measures }, seq);
  return { topic: `roadside/${device}/${kind}/${stream}`, payload: encodePack(pack, "cbor"), device, seq };
}

/** One cellular-profile pack (`…/window`): several streams of one window under one seq. */
export function cellularMsg(
  device: string,
  seq: number,
  startMs: number,
  streams: { kind: StreamKind; stream: string; measures: Measure[] }[],
): Msg {
  const w = window(startMs, 60);
  const pack = compactPack(
    device,
    streams.map((x) => ({ kind: x.kind, name: x.stream, window: w, measures: x.measures })),
    seq,
  );
  return { topic: `roadside/${device}/window`, payload: encodeCompact(pack, "cbor"), device, seq };
}

export function alarmMsg(device: string, seq: number, a: Omit<Alarm, "tNs">, atMs: number): Msg {
  const pack = alarmPack(device, { ...a, tNs: 0 }, atMs, "synced", seq);
  return { topic: `roadside/${device}/alarm/${a.source}`, payload: encodePack(pack, "cbor"), device, seq };
}

/** A traffic fleet: `devices` devices × 2 lanes of 1-min windows from `startMs`, seeded values. */
export function trafficFleet(opts: { devices: number; windows: number; seed: number; startMs?: number; prefix?: string }): Msg[] {
  const rng = new Rng(opts.seed);
  const start = opts.startMs ?? Date.UTC(2026, 0, 5);
  const out: Msg[] = [];
  for (let d = 0; d < opts.devices; d++) {
    const device = `${opts.prefix ?? "pole"}-${String(d + 1).padStart(4, "0")}`;
    let seq = 1;
    for (let w = 0; w < opts.windows; w++)
      for (const lane of ["lane1", "lane2"]) {
        const volume = Math.floor(rng.next() * 30);
        out.push(
          summaryMsg(device, seq++, "traffic", lane, start + w * 60_000, [
            { n: "volume", u: "count", v: volume },
            { n: "flow", u: "1/s", v: volume / 60 },
            { n: "occupancy", u: "/", v: Math.round(rng.next() * 4000) / 10_000 },
            { n: "quality.observed", u: "/", v: 1 },
          ]),
        );
      }
  }
  return out;
}

/** A publisher (MQTT 5, QoS 1) that resolves once the broker acknowledged everything. */
export async function publisher(
  url: string,
): Promise<{ client: MqttClient; publish(msgs: readonly Msg[]): Promise<void>; close(): Promise<void> }> {
  const client = mqtt.connect(url, { protocolVersion: 5, clientId: `test-pub-${process.pid}-${Math.random().toString(16).slice(2)}` });
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("error", reject);
  });
  return {
    client,
    publish: (msgs) => Promise.all(msgs.map((m) => client.publishAsync(m.topic, m.payload, { qos: 1 }))).then(() => undefined),
    close: () => client.endAsync(),
  };
}

export interface IngestChild {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves when the line matching `re` has appeared on stderr. */
  waitErr(re: RegExp, timeoutMs?: number): Promise<void>;
  /** SIGTERM and wait; resolves with the exit code. */
  stop(): Promise<number | null>;
  kill(): Promise<void>;
}

/** `node bin/roadside.js ingest ARGS` as a real child process, started and subscribed. */
export async function spawnIngest(args: string[]): Promise<IngestChild> {
  const child = spawn(process.execPath, [BIN, "ingest", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const waitErr = async (re: RegExp, timeoutMs = 20_000): Promise<void> => {
    const end = Date.now() + timeoutMs;
    while (!re.test(err)) {
      if (child.exitCode !== null) throw new Error(`ingest exited (${child.exitCode}) before ${re}: ${err}`);
      if (Date.now() > end) throw new Error(`ingest did not print ${re} within ${timeoutMs} ms: ${err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const c: IngestChild = {
    child,
    stdout: () => out,
    stderr: () => err,
    waitErr,
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
    kill: async () => {
      if (child.exitCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
  await waitErr(/subscribed to/);
  return c;
}

/** Polls `probe` until it returns true (a deadline for a broken run, not a speed assertion). */
export async function until(what: string, probe: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Numbers from the `stopped; …` line ingest prints on stderr when it stops. */
export function stoppedCounts(stderr: string): { messages: number; stored: number; duplicates: number; invalid: number } {
  const m = /stopped; (\d+) messages, stored (\d+), duplicates (\d+), invalid (\d+)/.exec(stderr);
  if (!m) throw new Error(`no "stopped" line in: ${stderr}`);
  return { messages: Number(m[1]), stored: Number(m[2]), duplicates: Number(m[3]), invalid: Number(m[4]) };
}

/**
 * Rows stored (summaries and alarms), or -1 while the gap ledger has not yet taken in every committed
 * number: tests that look at gaps wait for this to reach their count.
 */
export const SETTLED =
  "SELECT CASE WHEN EXISTS (SELECT 1 FROM roadside.arrivals) THEN -1 ELSE (SELECT count(*) FROM roadside.summaries) + (SELECT count(*) FROM roadside.alarms) END AS n";
