import { existsSync, readFileSync } from "node:fs";
import { arch, platform, release } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import mqtt from "mqtt";
import { parse as parseYaml } from "yaml";
import type { LoadedConfig } from "../config/load.js";
import { redactUrl } from "../mqtt/secrets.js";
import { Topics } from "../publish/topics.js";
import { readMachine } from "./board.js";
import { configBrokerOptions } from "./broker.js";
import type { DoctorEnv } from "./check.js";

/**
 * `roadside support`: what a support engineer needs for a ticket, in one JSON file
 * (docs/field-guide.md "Support bundle"). What it holds is chosen so it can be attached to a ticket
 * as is: no secret (credentials are never read; URLs lose their user:password; keys that name a
 * secret are redacted) and no identifier (nothing is read from identifier ports, outbox payloads are
 * never copied, only counted; health and doctor carry counts only).
 */
export const SUPPORT_BUNDLE_VERSION = 1;

/** Config keys whose values are secrets themselves (not a path to one: `passwordFile` stays). */
const SECRET_KEY = /(^|[^a-z])(password|passwd|secret|token|psk|apikey|api_key|privatekey|private_key)$/i;
export const REDACTED = "[redacted]";

/** A deep copy of a config (as written, unvalidated) with secrets replaced by `[redacted]`. */
export function redactConfig(value: unknown, key = ""): unknown {
  if (typeof value === "string") {
    if (SECRET_KEY.test(key)) return REDACTED;
    return /^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*@/i.test(value) ? redactUrl(value) : value;
  }
  if (Array.isArray(value)) return value.map((v) => redactConfig(v, key));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      out[k] = SECRET_KEY.test(k) && v !== null && typeof v !== "object" ? REDACTED : redactConfig(v, k);
    return out;
  }
  return value;
}

/** Outbox counts (never payloads: they are the city's data, and an attachment travels far). */
export function outboxStatistics(stateDir: string, nowMs: number): Record<string, unknown> {
  const file = join(stateDir, "outbox.db");
  if (!existsSync(file)) return { file, exists: false };
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const all = db.prepare("SELECT COUNT(*) AS n, COALESCE(SUM(LENGTH(payload)), 0) AS b, MIN(created_ms) AS o FROM outbox").get() as {
      n: number;
      b: number;
      o: number | null;
    };
    const byTopic = db
      .prepare(
        "SELECT topic, COUNT(*) AS n, COALESCE(SUM(LENGTH(payload)), 0) AS b, MIN(created_ms) AS o FROM outbox GROUP BY topic ORDER BY topic",
      )
      .all() as { topic: string; n: number; b: number; o: number }[];
    const meta: Record<string, number> = {};
    try {
      for (const r of db.prepare("SELECT key, value FROM meta WHERE key NOT LIKE 'open:%'").all() as { key: string; value: number }[])
        meta[r.key] = r.value;
    } catch {
      /* an outbox from before the meta table */
    }
    let lost: { topic: string; count: number; from_ms: number; to_ms: number }[] = [];
    try {
      lost = db.prepare("SELECT topic, count, from_ms, to_ms FROM lost ORDER BY topic").all() as typeof lost;
    } catch {
      /* no loss table yet */
    }
    return {
      file,
      exists: true,
      messages: all.n,
      bytes: all.b,
      oldestAgeS: all.o === null ? null : Math.round((nowMs - all.o) / 1000),
      meta,
      byTopic: byTopic.map((t) => ({ topic: t.topic, messages: t.n, bytes: t.b, oldestAgeS: Math.round((nowMs - t.o) / 1000) })),
      unreportedLosses: lost.map((l) => ({
        topic: l.topic,
        count: l.count,
        from: new Date(l.from_ms).toISOString(),
        to: new Date(l.to_ms).toISOString(),
      })),
    };
  } catch (err) {
    return { file, exists: true, error: (err as Error).message };
  } finally {
    db?.close();
  }
}

/** The device's retained heartbeat, read from its broker with its own credentials; `waitMs` for it to come. */
export async function lastHealth(loaded: LoadedConfig, waitMs: number, brokerUrl?: string): Promise<Record<string, unknown>> {
  const url = brokerUrl ?? loaded.config.mqtt.url;
  const topic = new Topics(loaded.config.mqtt.prefix, loaded.config.device.id).health();
  if (!url) return { topic, unavailable: "no mqtt.url: the device publishes to its embedded broker" };
  let auth: ReturnType<typeof configBrokerOptions>;
  try {
    auth = configBrokerOptions(loaded);
  } catch (err) {
    return { topic, broker: redactUrl(url), unavailable: (err as Error).message };
  }
  return new Promise((resolve) => {
    const client = mqtt.connect(url, {
      ...auth,
      clientId: `roadside-support-${loaded.config.device.id}-${process.pid}`,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: waitMs,
    });
    let done = false;
    const finish = (r: Record<string, unknown>): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      client.end(true, {}, () => resolve({ topic, broker: redactUrl(url), ...r }));
    };
    const timer = setTimeout(
      () =>
        finish({
          unavailable: `no retained heartbeat within ${waitMs} ms (the device has not connected since the broker started, or the ACL hides it)`,
        }),
      waitMs,
    );
    client.on("error", (err) => finish({ unavailable: err.message }));
    client.on("connect", () => client.subscribe(topic, { qos: 0 }));
    client.on("message", (_t, payload, packet) => {
      let health: unknown;
      try {
        health = JSON.parse(payload.toString("utf8"));
      } catch {
        health = `(not JSON, ${payload.length} bytes)`;
      }
      finish({ retained: packet.retain, health });
    });
  });
}

/** What runs: roadside, Node.js, the OS and the machine. */
export function versions(env: DoctorEnv, roadside: string): Record<string, unknown> {
  let os: string | null = null;
  try {
    os = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(env.readFile("/etc/os-release"))?.[1] ?? null;
  } catch {
    os = null;
  }
  const machine = readMachine((p) => env.readFile(p));
  return {
    roadside,
    node: process.versions.node,
    os,
    kernel: `${platform()} ${release()} ${arch()}`,
    machine: machine ? { model: machine.model ?? null, compatible: machine.compatible } : null,
  };
}

/** The journal of the service since boot (systemd hosts), newest last, at most `lines`. */
export async function journalSinceBoot(env: DoctorEnv, unit: string, lines: number): Promise<Record<string, unknown>> {
  const args = ["-u", unit, "-b", "--no-pager", "-q", "-o", "short-iso", "-n", String(lines)];
  const r = await env.exec("journalctl", args, 15_000);
  if (r.missing) return { unit, unavailable: "not a systemd host (no journalctl)" };
  if (r.code !== 0) return { unit, unavailable: (r.stderr.trim().split("\n")[0] ?? "") || `journalctl exited ${r.code}` };
  const all = r.stdout.split("\n").filter((l) => l !== "");
  return { unit, command: `journalctl ${args.join(" ")}`, lines: all };
}

/** The config as written (secrets redacted), even when it does not validate. */
export function configAsWritten(path: string): { path: string; text?: unknown; error?: string } {
  try {
    return { path, text: redactConfig(parseYaml(readFileSync(path, "utf8")) as unknown) };
  } catch (err) {
    return { path, error: (err as Error).message };
  }
}
