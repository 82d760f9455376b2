import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeSenmlCbor } from "../../src/publish/senml.js";
import type { Mosquitto } from "../helpers/brokers.js";
import { freePort, startMosquitto } from "../helpers/brokers.js";

/** `roadside watch --web` as a command: flags, the pages on --listen, the history file, exit codes. */
const BIN = fileURLToPath(new URL("../../bin/roadside.js", import.meta.url));

function watch(args: string[]): { out: () => string; exited: Promise<number | null>; stop: () => void } {
  const child = spawn(process.execPath, [BIN, "watch", "--web", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  return { out: () => out, exited: new Promise((r) => child.on("close", (code) => r(code))), stop: () => child.kill("SIGINT") };
}

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("roadside watch --web", () => {
  let broker: Mosquitto;
  const dir = mkdtempSync(join(tmpdir(), "roadside-watchweb-"));
  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it("serves the fleet from the broker, keeps the history in --history, stops with 0 on Ctrl-C", async () => {
    const port = await freePort();
    const w = watch(["--broker", broker.url, "--listen", `127.0.0.1:${port}`, "--history", join(dir, "h.db"), "--retention", "2d"]);
    await until("the listening line", async () => (w.out().includes("fleet page on") ? true : undefined));
    const pub = mqtt.connect(broker.url, { protocolVersion: 4 });
    await new Promise<void>((r) => pub.once("connect", () => r()));
    const bt = Math.floor(Date.now() / 60_000) * 60 - 60;
    await pub.publishAsync("roadside/cli-1/status", "online", { qos: 1, retain: true });
    const summary = encodeSenmlCbor([
      { bn: "cli-1:traffic:lane1:", bt, n: "seq", v: 7 },
      { n: "schema", v: 1 },
      { n: "window", u: "s", v: 60 },
      { n: "observed", u: "s", v: 60 },
      { n: "timeq", vs: "synced" },
      { n: "volume", u: "count", v: 17 },
    ]);
    const origin = `http://127.0.0.1:${port}`;
    const row = await until("the device's row", async () => {
      const f = (await (await fetch(`${origin}/api/fleet`)).json()) as { rows: { id: string; status: string }[] };
      return f.rows.find((r) => r.id === "cli-1" && r.status === "online");
    });
    expect(row.status).toBe("online");
    // the retained status reaches a subscription made later, a summary does not: the "fleet page on"
    // line may come before watch's subscription is in place, so the summary is sent again (same seq:
    // a redelivery, as a device's after a lost PUBACK) until it is seen
    type DeviceApi = { series: { streams: { charts: { x: number[]; series: { values: (number | null)[] }[] }[] }[] }; retentionS: number };
    const dev = await until("the device's summary", async () => {
      await pub.publishAsync("roadside/cli-1/traffic/lane1", summary, { qos: 1 });
      await new Promise((r) => setTimeout(r, 100));
      const d = (await (await fetch(`${origin}/api/device/cli-1?hours=1`)).json()) as DeviceApi;
      return d.series.streams.length > 0 ? d : undefined;
    });
    await pub.endAsync();
    expect(dev.retentionS).toBe(2 * 86400);
    expect(dev.series.streams[0]!.charts[0]!.x).toEqual([bt]);
    expect(dev.series.streams[0]!.charts[0]!.series[0]!.values).toEqual([17]);
    const page = await fetch(`${origin}/device/cli-1`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('src="/assets/device.js"');
    expect((await fetch(`${origin}/device/..%2Fetc`)).status).toBe(404);
    w.stop();
    expect(await w.exited).toBe(0);
    expect(w.out()).toContain("2 messages from 1 device(s)");
  });

  it("bad --listen or --retention is a usage error (exit 2) naming the fix", async () => {
    const a = watch(["--listen", "localhost"]);
    expect(await a.exited).toBe(2);
    expect(a.out()).toContain("HOST:PORT");
    const b = watch(["--retention", "10m"]);
    expect(await b.exited).toBe(2);
    expect(b.out()).toContain("at least 1h");
  });
});
