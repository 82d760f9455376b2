import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import type { IClientOptions, MqttClient } from "mqtt";
import type { EmbeddedBroker } from "../../src/mqtt/embedded.js";
import { startEmbeddedBroker } from "../../src/mqtt/embedded.js";

/** An in-process aedes broker (MQTT 3.1.1) on a free loopback port. */
export function startAedes(): Promise<EmbeddedBroker> {
  return startEmbeddedBroker(0);
}

/** A free TCP port on loopback (closed again; tiny race, fine for tests). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Whether Debian's mosquitto is installed (CI installs it; skip with a message otherwise). */
export function hasMosquitto(): boolean {
  return spawnSync("sh", ["-c", "command -v mosquitto"], { encoding: "utf8" }).status === 0;
}

export const MOSQUITTO_MISSING = "mosquitto is not installed: `apt-get install -y mosquitto` (.ci/run does this)";

export interface Mosquitto {
  url: string;
  port: number;
  dir: string;
  stop(): Promise<void>;
}

/**
 * A real Mosquitto 2 (MQTT 5) as a child process on a free port, with its own config in a temp
 * folder. `extraConfig` lines are appended to the listener (TLS settings, for example).
 */
export async function startMosquitto(
  opts: { port?: number; extraConfig?: string[]; listenerLines?: string[]; scheme?: string } = {},
): Promise<Mosquitto> {
  const port = opts.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), "roadside-mosq-"));
  const conf = join(dir, "mosquitto.conf");
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      ...(opts.listenerLines ?? ["allow_anonymous true"]),
      "persistence false",
      // run as whoever started it (root in CI) rather than switching to user mosquitto
      ...(process.getuid?.() === 0 ? ["user root"] : []),
      "log_dest stderr",
      "log_type error",
      "log_type warning",
      "max_queued_messages 1000000",
      ...(opts.extraConfig ?? []),
      "",
    ].join("\n"),
  );
  const child: ChildProcess = spawn("mosquitto", ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  // wait until it accepts connections
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited (${child.exitCode}): ${stderr}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = new Socket();
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
      s.connect(port, "127.0.0.1");
    });
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port}: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `${opts.scheme ?? "mqtt"}://127.0.0.1:${port}`,
    port,
    dir,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

export interface Received {
  topic: string;
  payload: Buffer;
  retain: boolean;
  qos: number;
  properties?: Record<string, unknown>;
}

/** A subscriber that records everything on `filter`. */
export async function subscribe(
  url: string,
  filter: string,
  options: IClientOptions = {},
): Promise<{
  client: MqttClient;
  messages: Received[];
  close(): Promise<void>;
  waitFor(pred: (m: Received[]) => boolean, timeoutMs?: number): Promise<void>;
}> {
  const client = mqtt.connect(url, { reconnectPeriod: 200, ...options });
  const messages: Received[] = [];
  client.on("message", (topic, payload, packet) => {
    const r: Received = { topic, payload, retain: packet.retain, qos: packet.qos };
    if (packet.properties) r.properties = packet.properties as Record<string, unknown>;
    messages.push(r);
  });
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => client.subscribe(filter, { qos: 1 }, (err) => (err ? reject(err) : resolve())));
    client.once("error", reject);
  });
  return {
    client,
    messages,
    close: () => new Promise<void>((r) => client.end(true, {}, () => r())),
    waitFor: async (pred, timeoutMs = 20_000) => {
      const end = Date.now() + timeoutMs;
      while (!pred(messages)) {
        if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms with ${messages.length} message(s) on ${filter}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}
