import mqtt from "mqtt";
import type { IClientOptions, IPublishPacket, MqttClient } from "mqtt";
import { WatchModel } from "../watch/model.js";
import { HeldAcks } from "./acks.js";
import type { Row } from "./rows.js";
import { describeRow, rowsOf } from "./rows.js";
import type { PgStore } from "./store.js";

export interface IngesterOptions {
  brokerUrl: string;
  /** TLS and credentials (src/watch/connect.ts brokerOptions). */
  mqttOptions?: Partial<IClientOptions>;
  prefix: string;
  /** Share group: `$share/{group}/{prefix}/+/#`, so the processes of one group split the stream. */
  group?: string | undefined;
  clientId: string;
  /** Where rows go; undefined with `dryRun`. */
  store?: PgStore | undefined;
  /** Print the rows instead of writing them; clean session, nothing taken from the group's queue. */
  dryRun?: boolean;
  /** A batch commits at this many messages… default 500. */
  batchSize?: number;
  /** …or this long after its first message, ms; default 200. */
  batchMs?: number;
  /** Session expiry the broker is asked for, s; default 7 days. */
  sessionExpiryS?: number;
  /** Report (stdout line and health topic) every this many ms; default 10 s. 0: never. */
  reportEveryMs?: number;
  out: (line: string) => void;
  err: (line: string) => void;
  now?: () => number;
}

/** What `…/_ingest/{client-id}/health` carries (JSON), and the stdout report line. */
export interface IngestHealth {
  ingest: 1;
  clientId: string;
  group: string | null;
  time: string;
  uptimeS: number;
  messages: number;
  stored: number;
  duplicates: number;
  invalid: number;
  /** Messages per second over the last report interval. */
  rate: number;
  /** Longest time from a message's arrival to its commit in the last interval, ms. */
  commitLagMs: number;
  /** Newest window end committed, seconds behind this machine's clock (backlogs show here). */
  dataBehindS: number | null;
  /** Messages received and not yet committed (their PUBACKs wait). */
  waiting: number;
  gaps: { open: number; missing: number; opened: number; filled: number };
  resets: number;
  dbErrors: number;
  lastDbError: string | null;
}

interface Pending {
  rows: Row[];
  release: () => void;
  receivedMs: number;
}

/**
 * Batches committing at once per process: while one waits for its commit (the WAL flush), the next is
 * already being written. Each batch acknowledges its own messages after its own commit; device rows
 * are locked in device order, so the two never deadlock over the gap ledger.
 */
const PARALLEL = 2;

/**
 * Reading from the broker stops with this many batches waiting, and goes on below LOW_WATER: a broker
 * resuming a session can push a day's backlog at once, and taking it all in would hold it in memory
 * and make every message wait for all the others' commits.
 */
const HIGH_WATER = 4;
const LOW_WATER = 2;

/** The gap ledger's pass follows every commit, and runs at least this often. */
const LEDGER_EVERY_MS = 1000;

/** Topics under the prefix whose "device" starts with `_` are ingest's own (device ids start alphanumeric). */
const OWN = "_ingest";

/**
 * `roadside ingest`: subscribe (QoS 1, persistent session), decode with the watch decoder, write in
 * batches, acknowledge after the commit. Constructed idle; `start` connects, `stop` flushes and leaves.
 */
export class Ingester {
  readonly model: WatchModel;
  private client: MqttClient | undefined;
  private acks: HeldAcks | undefined;
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private reporter: NodeJS.Timeout | undefined;
  private readonly flushes = new Set<Promise<void>>();
  private ledgerRun: Promise<void> | undefined;
  /** MQTT.js continuations held while too many messages wait (see customHandleAcks). */
  private stalled: (() => void)[] = [];
  private ledgerTimer: NodeJS.Timeout | undefined;
  private readonly startedMs: number;
  private readonly now: () => number;
  private totals = { messages: 0, stored: 0, duplicates: 0, invalid: 0, gapsOpened: 0, filled: 0, resets: 0, dbErrors: 0 };
  private interval = { messages: 0, startMs: 0, commitLagMs: 0 };
  private newestEndMs: number | undefined;
  private lastDbError: string | null = null;
  private stopping = false;
  /** Set when the broker ends the session for good (another client took the id, credentials refused). */
  fatal: string | undefined;
  onFatal: ((why: string) => void) | undefined;

  constructor(private readonly opts: IngesterOptions) {
    this.model = new WatchModel({ prefix: opts.prefix, keepEvents: 1 });
    this.now = opts.now ?? Date.now;
    this.startedMs = this.now();
    this.interval.startMs = this.startedMs;
  }

  get healthTopic(): string {
    return `${this.opts.prefix}/${OWN}/${this.opts.clientId}/health`;
  }

  private get filters(): string[] {
    const all = `${this.opts.prefix}/+/#`;
    if (this.opts.dryRun || !this.opts.group) return [all];
    // retained messages are never sent to a shared subscription (MQTT 5 §4.8.2): the retained
    // manifests and statuses come through plain ones (stored idempotently by every member)
    return [`$share/${this.opts.group}/${all}`, `${this.opts.prefix}/+/manifest`, `${this.opts.prefix}/+/status`];
  }

  async start(): Promise<void> {
    const batch = this.opts.batchSize ?? 500;
    const options: IClientOptions = {
      ...this.opts.mqttOptions,
      clientId: this.opts.clientId,
      protocolVersion: 5,
      clean: this.opts.dryRun === true,
      reconnectPeriod: 2000,
      connectTimeout: 10_000,
      properties: {
        sessionExpiryInterval: this.opts.dryRun ? 0 : (this.opts.sessionExpiryS ?? 7 * 86400),
        // room for the batch being committed and the next one filling
        receiveMaximum: Math.min(65535, batch * 2),
      },
      customHandleAcks: (topic, payload, packet, done) => {
        this.receive(topic, payload, packet);
        // MQTT.js hands over the next packet only after this callback (the PUBACK itself is held by
        // HeldAcks until the commit): while too many messages wait, hold it, so the socket stops being
        // read and TCP pushes back on the broker
        if (this.pending.length >= HIGH_WATER * batch) this.stalled.push(() => done(0));
        else done(0);
      },
    };
    const client = mqtt.connect(this.opts.brokerUrl, options);
    this.client = client;
    if (!this.opts.dryRun) this.acks = new HeldAcks(client);
    client.on("message", (topic, payload, packet) => {
      if (packet.qos === 0) this.receive(topic, payload, packet);
    });
    let lastError = "";
    client.on("connect", (connack) => {
      lastError = "";
      this.opts.err(
        `roadside ingest: connected to ${this.opts.brokerUrl} as ${this.opts.clientId}${connack.sessionPresent ? " (session resumed: queued messages follow)" : ""}`,
      );
      client.subscribe(this.filters, { qos: 1 }, (err, granted) => {
        const refused = granted?.filter((g) => g.qos > 2) ?? [];
        if (!err && refused.length === 0) this.opts.err(`roadside ingest: subscribed to ${this.filters.join(", ")}`);
        else
          this.opts.err(
            `roadside ingest: subscribing to ${this.filters.join(", ")} failed${err ? `: ${err.message}` : ` for ${refused.map((g) => g.topic).join(", ")}`}; check the broker's ACL lets this user read ${this.opts.prefix}/# (and $share/${this.opts.group ?? "GROUP"}/${this.opts.prefix}/#)`,
          );
      });
    });
    const closes: number[] = [];
    let warnedMs = -Infinity;
    client.on("close", () => {
      // nothing waiting was acknowledged: the broker delivers all of it again on the next connection
      this.stalled = [];
      if (this.stopping) return;
      this.pending = [];
      // Mosquitto 2 often closes the older of two connections with one client id without saying why (no
      // DISCONNECT 0x8E): two processes sharing an id then take the session from each other every 2 s
      const now = this.now();
      closes.push(now);
      while (closes[0]! < now - 60_000) closes.shift();
      if (closes.length >= 3 && now - warnedMs > 60_000) {
        warnedMs = now;
        this.opts.err(
          `roadside ingest: the broker closed this connection ${closes.length} times in a minute; if another process uses client id ${this.opts.clientId}, the two take the session from each other: give every ingest process its own --instance N or --client-id`,
        );
      }
    });
    client.on("disconnect", (packet) => {
      if (packet.reasonCode === 142)
        this.die(
          `the broker ended this session because another client connected with client id ${this.opts.clientId} (session taken over); give every ingest process its own --instance N or --client-id`,
        );
    });
    client.on("error", (err: Error & { code?: number | string }) => {
      if (err.code === 4 || err.code === 5 || err.code === 134 || err.code === 135) {
        this.die(
          `${this.opts.brokerUrl} refused the credentials (${err.message}); check --username and --password-file, or --cert/--key, and the broker's ACL`,
        );
        return;
      }
      if (err.message !== lastError) this.opts.err(`roadside ingest: broker ${this.opts.brokerUrl}: ${err.message}; retrying every 2 s`);
      lastError = err.message;
    });
    const every = this.opts.reportEveryMs ?? 10_000;
    if (every > 0) this.reporter = setInterval(() => void this.report(), every);
    // numbers another member committed are put in the ledger even when this one is idle
    if (this.opts.store) this.ledgerTimer = setInterval(() => void this.ledger(), LEDGER_EVERY_MS);
  }

  private die(why: string): void {
    if (this.fatal) return;
    this.fatal = why;
    this.onFatal?.(why);
  }

  private receive(topic: string, payload: Buffer, packet: IPublishPacket): void {
    const receivedMs = this.now();
    // subscribed at QoS 1, so the broker never sends QoS 2; QoS 0 has no acknowledgement to hold
    const release = this.acks && packet.qos === 1 ? this.acks.hold(packet.messageId) : () => {};
    let rows: Row[] = [];
    const own = topic.startsWith(`${this.opts.prefix}/_`);
    if (!own) {
      this.totals.messages++;
      this.interval.messages++;
      try {
        const events = this.model.message(topic, payload, packet.retain, receivedMs);
        for (const ev of events) if (ev.type === "invalid") this.totals.invalid++;
        rows = rowsOf(events, receivedMs);
      } catch (err) {
        // a pack the decoder accepts but whose times are out of any calendar (bt 1e300…)
        this.totals.invalid++;
        this.opts.err(`roadside ingest: skipped a message on ${topic}: ${(err as Error).message}`);
      }
    }
    this.pending.push({ rows, release, receivedMs });
    this.schedule();
  }

  /**
   * Stop reading from the broker while more than a few batches wait: a broker resuming a session can
   * push a day's backlog at once, and taking it all in would hold it in memory and starve the commits.
   */
  private backpressure(): void {
    if (this.stalled.length === 0 || this.pending.length >= LOW_WATER * (this.opts.batchSize ?? 500)) return;
    const go = this.stalled;
    this.stalled = [];
    for (const f of go) f();
  }

  private schedule(): void {
    const batch = this.opts.batchSize ?? 500;
    while (this.flushes.size < PARALLEL && (this.pending.length >= batch || (this.stopping && this.pending.length > 0))) this.startFlush();
    if (this.pending.length > 0 && !this.timer && this.flushes.size < PARALLEL) {
      const wait = Math.max(0, (this.opts.batchMs ?? 200) - (this.now() - this.pending[0]!.receivedMs));
      this.timer = setTimeout(() => {
        this.timer = undefined;
        if (this.pending.length > 0 && this.flushes.size < PARALLEL) this.startFlush();
      }, wait);
    }
  }

  private startFlush(): void {
    const p: Promise<void> = this.flush().finally(() => {
      this.flushes.delete(p);
      this.schedule();
    });
    this.flushes.add(p);
  }

  private async flush(): Promise<void> {
    const batch = this.pending.splice(0, this.opts.batchSize ?? 500);
    const rows = batch.flatMap((p) => p.rows);
    try {
      if (this.opts.dryRun || !this.opts.store) {
        for (const r of rows) this.opts.out(`would write ${describeRow(r)}`);
      } else if (rows.length) {
        const res = await this.opts.store.write(rows);
        this.totals.stored += res.stored;
        this.totals.duplicates += res.duplicates;
      }
    } catch (err) {
      // nothing acknowledged: put the batch back and try again; the broker holds the rest
      this.pending.unshift(...batch);
      this.totals.dbErrors++;
      const msg = (err as Error).message;
      if (msg !== this.lastDbError) this.opts.err(`roadside ingest: writing ${rows.length} rows failed: ${msg}; retrying every second`);
      this.lastDbError = msg;
      await new Promise((r) => setTimeout(r, 1000));
      return;
    }
    this.lastDbError = null;
    const now = this.now();
    for (const p of batch) p.release();
    void this.ledger();
    this.backpressure();
    this.interval.commitLagMs = Math.max(this.interval.commitLagMs, now - batch[0]!.receivedMs);
    for (const r of rows)
      if (r.table === "summaries") {
        const end = r.windowStartMs + r.windowS * 1000;
        if (this.newestEndMs === undefined || end > this.newestEndMs) this.newestEndMs = end;
      }
    // the decoder's per-device memory of recent windows serves watch's conflict display, not ingest:
    // dropping it keeps a city's worth of devices small
    for (const d of this.model.devices.values()) d.windows.clear();
  }

  /** A pass of the gap ledger, unless one of this process runs already (another process's is skipped by the store). */
  private ledger(): Promise<void> {
    if (!this.opts.store || this.ledgerRun) return this.ledgerRun ?? Promise.resolve();
    const store = this.opts.store;
    this.ledgerRun = store
      .ledgerPass()
      .then((r) => {
        if (!r) return;
        this.totals.gapsOpened += r.gapsOpened;
        this.totals.filled += r.filled;
        this.totals.resets += r.resets;
      })
      .catch((err: Error) => this.opts.err(`roadside ingest: gap ledger pass failed: ${err.message}; tried again with the next batch`))
      .finally(() => {
        this.ledgerRun = undefined;
      });
    return this.ledgerRun;
  }

  /** The health record now (and the start of a new report interval). */
  async health(): Promise<IngestHealth> {
    const now = this.now();
    const gaps = this.opts.store ? await this.opts.store.openGaps().catch(() => ({ gaps: -1, missing: -1 })) : { gaps: 0, missing: 0 };
    const seconds = Math.max(0.001, (now - this.interval.startMs) / 1000);
    const h: IngestHealth = {
      ingest: 1,
      clientId: this.opts.clientId,
      group: this.opts.group ?? null,
      time: new Date(now).toISOString(),
      uptimeS: Math.round((now - this.startedMs) / 1000),
      messages: this.totals.messages,
      stored: this.totals.stored,
      duplicates: this.totals.duplicates,
      invalid: this.totals.invalid,
      rate: Math.round(this.interval.messages / seconds),
      commitLagMs: this.interval.commitLagMs,
      dataBehindS: this.newestEndMs === undefined ? null : Math.round((now - this.newestEndMs) / 1000),
      waiting: this.pending.length,
      gaps: { open: gaps.gaps, missing: gaps.missing, opened: this.totals.gapsOpened, filled: this.totals.filled },
      resets: this.totals.resets,
      dbErrors: this.totals.dbErrors,
      lastDbError: this.lastDbError,
    };
    this.interval = { messages: 0, startMs: now, commitLagMs: 0 };
    return h;
  }

  /** One stdout line and one message on the health topic. */
  async report(): Promise<IngestHealth> {
    const h = await this.health();
    this.opts.out(reportLine(h));
    const every = this.opts.reportEveryMs ?? 10_000;
    if (this.client?.connected && !this.opts.dryRun)
      this.client.publish(this.healthTopic, JSON.stringify(h), {
        qos: 1,
        retain: true,
        properties: { contentType: "application/json", ...(every > 0 ? { messageExpiryInterval: Math.ceil((3 * every) / 1000) } : {}) },
      });
    return h;
  }

  /** Commit what is waiting, acknowledge it, leave the session for the broker to keep. */
  async stop(): Promise<IngestHealth> {
    this.stopping = true;
    if (this.reporter) clearInterval(this.reporter);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (let i = 0; i < 10 && (this.flushes.size || this.pending.length); i++) {
      this.schedule();
      await Promise.all(this.flushes);
    }
    if (this.ledgerTimer) clearInterval(this.ledgerTimer);
    await this.ledger();
    await this.ledger();
    const h = await this.report();
    const client = this.client;
    if (client) await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
    return h;
  }
}

export function reportLine(h: IngestHealth): string {
  return (
    `roadside ingest: ${h.rate} msg/s, ${h.messages} messages, stored ${h.stored}, duplicates ${h.duplicates}, invalid ${h.invalid}, ` +
    `commit lag ${h.commitLagMs} ms, data ${h.dataBehindS === null ? "-" : `${h.dataBehindS} s`} behind, waiting ${h.waiting}, ` +
    `open gaps ${h.gaps.open} (${h.gaps.missing} missing)${h.resets ? `, counter restarts ${h.resets}` : ""}${h.dbErrors ? `, database errors ${h.dbErrors}` : ""}`
  );
}
