import { brokerAuthFromFlags } from "./broker-flags.js";
import { hostname } from "node:os";
import { parseDuration } from "../config/duration.js";
import { Ingester } from "../ingest/ingester.js";
import { migrate } from "../ingest/schema.js";
import { PgStore } from "../ingest/store.js";
import type { Io } from "./args.js";
import { EXIT, parse, UsageError } from "./args.js";

export const INGEST_HELP = `Usage: roadside ingest --db postgres://… [options]

Subscribe to roadside devices on a broker (QoS 1, persistent session) and
write every window summary, alarm, heartbeat, manifest and status into
PostgreSQL (schema roadside, created and migrated on start), exactly once
per (device, seq): a message is acknowledged to the broker only after its
row is committed. Gaps in the sequence numbers go to a ledger that closes
when late messages fill them. See docs/ingest.md.

Options:
  -b, --broker URL        broker (default mqtt://127.0.0.1:1883); MQTT 5
      --db URL            PostgreSQL connection URL (or set DATABASE_URL);
                          not needed with --dry-run
  -g, --group NAME        share group: subscribe to $share/NAME/P/+/#, so
                          every process of the group gets part of the stream
      --instance N        number of this process on this machine (default 0):
                          the client id is roadside-ingest-HOST-GROUP-N
      --client-id ID      the MQTT client id (overrides --instance); keep it
                          across restarts: the broker keeps the session under it
  -p, --prefix P          topic prefix (default roadside)
      --batch N           commit at most N messages per transaction
                          (default 500)
      --batch-ms MS       commit a batch at most MS ms after its first
                          message (default 200)
      --retention TIME    drop monthly partitions older than this, e.g. 400d
                          (default: keep everything); checked hourly
      --report TIME       report on stdout and on P/_ingest/ID/health every
                          TIME (default 10s)
      --duration TIME     stop after this long (default: until SIGTERM/Ctrl-C)
      --dry-run           print the rows it would write; clean session with a
                          random client id, nothing taken from a group's queue
      --ca FILE           CA certificate (PEM) for mqtts:// brokers
      --cert FILE         client certificate (PEM), with --key
      --key FILE          client key (PEM)
      --username NAME     broker user name
      --password-file F   file whose first line is the broker password (or set
                          ROADSIDE_MQTT_PASSWORD)
  -h, --help              show this help

Exit codes: 0 stopped (SIGTERM, Ctrl-C or --duration), 1 the database or
broker refused us (wrong credentials, a newer schema, a broker that ends the
session because another process took the client id), 2 bad usage.
`;

const SAFE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

function durationOption(flag: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const s = parseDuration(value);
  if (s === undefined || s < min) throw new UsageError(`${flag} ${JSON.stringify(value)} is not a duration; write e.g. 30s, 10m or 400d`);
  return s;
}

function intOption(flag: string, value: string | undefined, min: number, max: number, dflt: number): number {
  if (value === undefined) return dflt;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max)
    throw new UsageError(`${flag} ${JSON.stringify(value)}: give a whole number from ${min} to ${max}`);
  return n;
}

const INGEST_FLAGS = {
  broker: { type: "string", short: "b" },
  db: { type: "string" },
  group: { type: "string", short: "g" },
  instance: { type: "string" },
  "client-id": { type: "string" },
  prefix: { type: "string", short: "p" },
  batch: { type: "string" },
  "batch-ms": { type: "string" },
  retention: { type: "string" },
  report: { type: "string" },
  duration: { type: "string" },
  "dry-run": { type: "boolean" },
  ca: { type: "string" },
  cert: { type: "string" },
  key: { type: "string" },
  username: { type: "string" },
  "password-file": { type: "string" },
} as const;

type IngestFlags = ReturnType<typeof parse<typeof INGEST_FLAGS>>["values"];

export async function ingestCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, INGEST_FLAGS);
  if (values.help) {
    io.out(INGEST_HELP);
    return EXIT.ok;
  }
  const o = ingestSettings(values);
  let store: PgStore | undefined;
  let pool: import("pg").Pool | undefined;
  if (!o.dryRun) {
    const opened = await openStore(o.db, o.clientId, io);
    if (!opened) return EXIT.failure;
    ({ store, pool } = opened);
  }

  const ingester = new Ingester({
    brokerUrl: o.url,
    mqttOptions: o.auth,
    prefix: o.prefix,
    group: values.group,
    clientId: o.clientId,
    store,
    dryRun: o.dryRun,
    batchSize: o.batchSize,
    batchMs: o.batchMs,
    reportEveryMs: o.reportS * 1000,
    out: (line) => io.out(`${line}\n`),
    err: (line) => io.err(`${line}\n`),
  });
  const retention = o.retentionS !== undefined && store ? keepRetention(store, o.retentionS, io) : undefined;
  await ingester.start();
  const why = await new Promise<string | undefined>((resolve) => {
    ingester.onFatal = (w) => resolve(w);
    process.once("SIGINT", () => resolve(undefined));
    process.once("SIGTERM", () => resolve(undefined));
    if (o.durationS !== undefined) setTimeout(() => resolve(undefined), o.durationS * 1000).unref();
  });
  if (retention) clearInterval(retention);
  const h = await ingester.stop();
  await pool?.end().catch(() => {});
  io.err(
    `roadside ingest: stopped; ${h.messages} messages, stored ${h.stored}, duplicates ${h.duplicates}, invalid ${h.invalid}, open gaps ${h.gaps.open}\n`,
  );
  if (why !== undefined) {
    io.err(`roadside ingest: ${why}\n`);
    return EXIT.failure;
  }
  return EXIT.ok;
}

/** The flags checked and defaulted (UsageError naming the flag on a bad one). */
function ingestSettings(values: IngestFlags) {
  const url = values.broker ?? "mqtt://127.0.0.1:1883";
  if (!/^(mqtts?|wss?|tcp|ssl):\/\/[^/\s]+/.test(url))
    throw new UsageError(
      `--broker ${JSON.stringify(url)} is not a broker URL; write e.g. mqtt://broker.example:1883 or mqtts://broker.example:8883`,
    );
  const dryRun = values["dry-run"] === true;
  const db = values.db ?? process.env["DATABASE_URL"];
  if (!dryRun && !db)
    throw new UsageError("--db is missing: give the database, e.g. --db postgres://ingest@db.example/city (or set DATABASE_URL)");
  if (db !== undefined && !/^postgres(ql)?:\/\//.test(db))
    throw new UsageError(
      `--db ${JSON.stringify(db.replace(/:[^:@/]*@/, ":…@"))} is not a PostgreSQL URL; write e.g. postgres://ingest@db.example:5432/city`,
    );
  const prefix = values.prefix ?? "roadside";
  if (prefix.split("/").some((s) => !SAFE.test(s)))
    throw new UsageError(`--prefix ${JSON.stringify(prefix)}: use segments of letters, digits, _ and - separated by /`);
  if (values.group !== undefined && !SAFE.test(values.group))
    throw new UsageError(`--group ${JSON.stringify(values.group)}: use letters, digits, _ and - only (it becomes part of $share/GROUP/…)`);
  const instance = intOption("--instance", values.instance, 0, 9999, 0);
  const clientIdFlag = values["client-id"];
  if (clientIdFlag !== undefined && !SAFE.test(clientIdFlag))
    throw new UsageError(`--client-id ${JSON.stringify(clientIdFlag)}: use 1 to 64 letters, digits, _ and -`);
  const host =
    hostname()
      .replace(/[^A-Za-z0-9_-]+/g, "-")
      .slice(0, 32) || "host";
  const clientId = dryRun
    ? `roadside-ingest-dry-${process.pid}`
    : (clientIdFlag ?? `roadside-ingest-${host}-${values.group ?? "solo"}-${instance}`);
  const batchSize = intOption("--batch", values.batch, 1, 10_000, 500);
  const batchMs = intOption("--batch-ms", values["batch-ms"], 1, 60_000, 200);
  const retentionS = durationOption("--retention", values.retention, 86400);
  const reportS = durationOption("--report", values.report, 1) ?? 10;
  const durationS = durationOption("--duration", values.duration, 0.001);
  const auth = brokerAuthFromFlags(values);
  return { url, dryRun, db, prefix, clientId, batchSize, batchMs, retentionS, reportS, durationS, auth };
}

/** Connects to PostgreSQL and migrates schema roadside; undefined (the reason printed) if the database cannot be used. */
async function openStore(
  db: string | undefined,
  clientId: string,
  io: Io,
): Promise<{ store: PgStore; pool: import("pg").Pool } | undefined> {
  const pg = (await import("pg")).default;
  const pool = new pg.Pool({ connectionString: db, max: 4, application_name: clientId });
  pool.on("error", (err) => io.err(`roadside ingest: database connection lost: ${err.message}; reconnecting\n`));
  let partitioning: "native" | "timescaledb";
  try {
    const state = await migrate(pool);
    partitioning = state.partitioning;
    io.err(
      `roadside ingest: database schema roadside version ${state.version}${state.applied.length ? ` (applied ${state.applied.join(", ")})` : ""}, ${state.partitioning === "timescaledb" ? "TimescaleDB hypertables" : "monthly partitions"}\n`,
    );
  } catch (err) {
    await pool.end().catch(() => {});
    io.err(
      `roadside ingest: cannot use the database: ${(err as Error).message}; check --db, that PostgreSQL runs, and that the user may create schema roadside (docs/ingest.md "Roles and grants")\n`,
    );
    return undefined;
  }
  return { store: new PgStore(pool, partitioning), pool };
}

/** Drops partitions older than the retention now and every hour after. */
function keepRetention(s: PgStore, retentionS: number, io: Io): NodeJS.Timeout {
  const retain = (): void => {
    s.partitionManager
      .retain(retentionS)
      .then((dropped) => dropped.length && io.err(`roadside ingest: retention dropped ${dropped.join(", ")}\n`))
      .catch((err: Error) => io.err(`roadside ingest: retention failed: ${err.message}\n`));
  };
  retain();
  return setInterval(retain, 3600_000);
}
