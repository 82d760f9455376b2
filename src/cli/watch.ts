import { brokerAuthFromFlags } from "./broker-flags.js";
import { randomBytes } from "node:crypto";
import mqtt from "mqtt";
import type { IClientOptions } from "mqtt";
import { parseDuration } from "../config/duration.js";
import type { WatchEvent } from "../watch/index.js";
import { WatchModel } from "../watch/model.js";
import { Screen } from "../watch/screen.js";
import { describe, renderTable } from "../watch/table.js";
import type { Io } from "./args.js";
import { EXIT, parse, UsageError } from "./args.js";
import { useColor } from "./color.js";

export const WATCH_HELP = `Usage: roadside watch [options]

Subscribe to roadside devices on a broker and show what they publish,
decoded: a live table per device and stream on a terminal (flows in veh/h,
ratios in %, speeds in km/h), or one JSON object per line when the output is
piped or with --json (schema: docs/message.schema.json). Reports gaps in the
per-device sequence numbers (lost messages), redeliveries, devices going
offline (their retained status) or silent, and backlogs being delivered
after an outage.

Options:
  -b, --broker URL        broker (default mqtt://127.0.0.1:1883, where
                          \`roadside run\` starts its embedded broker)
  -d, --device ID         only this device (default: every device)
  -p, --prefix P          topic prefix (default roadside): subscribes to P/+/#
      --json              JSON lines even on a terminal
      --duration TIME     stop after this long (e.g. 30s, 10m); default: Ctrl-C
      --session NAME      persistent session (client id roadside-watch-NAME): the
                          broker keeps messages for you while watch is not running
      --utc               show times in UTC (default: local time)
      --web               serve the fleet and device pages instead (docs/web.md)
      --listen HOST:PORT  where --web listens (default 127.0.0.1:8080)
      --history FILE      --web's SQLite history (default
                          ~/.local/state/roadside/watch-history.db)
      --retention TIME    how long --web keeps history (default 7d)
      --ca FILE           CA certificate (PEM) for mqtts:// brokers
      --cert FILE         client certificate (PEM), with --key, for mutual TLS
      --key FILE          client key (PEM)
      --username NAME     broker user name
      --password-file F   file whose first line is the password (or set
                          ROADSIDE_MQTT_PASSWORD)
  -h, --help              show this help

On a terminal the table starts with one line per device from its heartbeat
(…/health): last seen, outbox depth and the age of its oldest message,
drops, clock sync, CPU temperature and sensor faults. Two different payloads
for one device, stream and window (a cloned device id, a copied state
folder) are flagged as conflicts. Colours only on a terminal, never with
NO_COLOR set.

Exit codes: 0 stopped (Ctrl-C or --duration), 1 the broker could not be
reached at all or refused the credentials (watch stops at once then: a
retry would be refused again), 2 bad usage.
`;

export async function watchCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, {
    broker: { type: "string", short: "b" },
    device: { type: "string", short: "d" },
    prefix: { type: "string", short: "p" },
    json: { type: "boolean" },
    duration: { type: "string" },
    session: { type: "string" },
    utc: { type: "boolean" },
    ca: { type: "string" },
    cert: { type: "string" },
    key: { type: "string" },
    username: { type: "string" },
    "password-file": { type: "string" },
    web: { type: "boolean" },
    listen: { type: "string" },
    history: { type: "string" },
    retention: { type: "string" },
  });
  if (values.help) {
    io.out(WATCH_HELP);
    return EXIT.ok;
  }
  const o = watchTarget(values);
  if (values.web) return webMode(values, { ...o, io });
  return terminalMode(o, { json: values.json === true || !io.isTTY, utc: values.utc === true }, io);
}

/** Where watch connects and what it subscribes to, from the flags (UsageError on bad ones). */
interface WatchTarget {
  url: string;
  prefix: string;
  filter: string;
  durationS: number | undefined;
  auth: Partial<IClientOptions>;
  session?: string | undefined;
}

function watchTarget(values: {
  broker?: string | undefined;
  prefix?: string | undefined;
  device?: string | undefined;
  session?: string | undefined;
  duration?: string | undefined;
  ca?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
  username?: string | undefined;
  "password-file"?: string | undefined;
}): WatchTarget {
  const url = values.broker ?? "mqtt://127.0.0.1:1883";
  if (!/^(mqtts?|wss?|tcp|ssl):\/\/[^/\s]+/.test(url))
    throw new UsageError(
      `--broker ${JSON.stringify(url)} is not a broker URL; write e.g. mqtt://broker.example:1883 or mqtts://broker.example:8883`,
    );
  const prefix = values.prefix ?? "roadside";
  const SAFE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
  if (prefix.split("/").some((s) => !SAFE.test(s)))
    throw new UsageError(`--prefix ${JSON.stringify(prefix)}: use segments of letters, digits, _ and - separated by /`);
  if (values.device !== undefined && !SAFE.test(values.device))
    throw new UsageError(`--device ${JSON.stringify(values.device)} is not a device id (letters, digits, _ and - only)`);
  if (values.session !== undefined && !SAFE.test(values.session))
    throw new UsageError(`--session ${JSON.stringify(values.session)}: use letters, digits, _ and - only`);
  let durationS: number | undefined;
  if (values.duration !== undefined) {
    durationS = parseDuration(values.duration);
    if (durationS === undefined || durationS <= 0)
      throw new UsageError(`--duration ${JSON.stringify(values.duration)} is not a duration; write e.g. 30s or 10m`);
  }
  const auth = brokerAuthFromFlags(values);
  // the filter goes through the same checks as Topics (no wildcards in names); `+` and `#` are ours
  const filter = `${prefix}/${values.device ?? "+"}/#`;
  return { url, prefix, filter, durationS, auth, session: values.session };
}

/** The connection as the table's title line and the final report see it. */
interface Link {
  state: string;
  connectedOnce: boolean;
  lastError: string;
  stopping: boolean;
  /** Set when the broker refused the credentials: watch stops at once. */
  refused?: string;
  stopNow?: () => void;
}

/** The live table on a terminal, or JSON lines: runs until Ctrl-C, --duration or a refusal. */
async function terminalMode(o: WatchTarget, mode: { json: boolean; utc: boolean }, io: Io): Promise<number> {
  const { json } = mode;
  const model = new WatchModel({ prefix: o.prefix });
  const title = `roadside watch  ${o.url}  ${o.filter}`;
  const link: Link = { state: "connecting", connectedOnce: false, lastError: "", stopping: false };
  const screen = json ? undefined : new Screen({ write: io.out });
  const size = (): { columns: number; rows: number } => ({ columns: process.stdout.columns || 100, rows: process.stdout.rows || 30 });
  const render = (): string[] =>
    renderTable(model, {
      nowMs: Date.now(),
      ...size(),
      utc: mode.utc,
      color: useColor(io.isTTY),
      title: `${title}  ${link.state}`,
    });
  const emit = (events: readonly WatchEvent[]): void => {
    if (json) for (const ev of events) io.out(`${JSON.stringify(ev)}\n`);
    else screen!.schedule(render);
  };
  const client = connectWatcher(o, model, link, emit, json);

  if (!json) {
    screen!.start();
    screen!.draw(render());
    process.stdout.on("resize", () => screen!.draw(render()));
  } else {
    io.err(`roadside watch: subscribing to ${o.filter} on ${o.url}; one JSON object per line (docs/message.schema.json)\n`);
  }
  const ticker = setInterval(() => {
    const events = model.tick(Date.now());
    if (json) emit(events);
    else screen!.schedule(render);
  }, 1000);

  await untilStopped(o.durationS, link);
  clearInterval(ticker);
  link.stopping = true;
  await new Promise<void>((resolve) => client.end(link.refused !== undefined, {}, () => resolve()));
  screen?.stop();
  return finalReport(o, model, link, json, io);
}

/** Connects and subscribes; the handlers keep `link` and the model up to date. */
function connectWatcher(
  o: WatchTarget,
  model: WatchModel,
  link: Link,
  emit: (events: readonly WatchEvent[]) => void,
  json: boolean,
): mqtt.MqttClient {
  const { url, filter, prefix } = o;
  const options: IClientOptions = {
    clientId: o.session ? `roadside-watch-${o.session}` : `roadside-watch-${randomBytes(4).toString("hex")}`,
    clean: o.session === undefined,
    protocolVersion: 4, // 3.1.1: every broker speaks it, and watch needs nothing from 5
    reconnectPeriod: 2000,
    connectTimeout: 10_000,
    ...o.auth,
  };
  const client = mqtt.connect(url, options);
  const brokerEvent = (state: "connected" | "disconnected" | "error", detail?: string): void => {
    const ev: WatchEvent = { type: "broker", receivedAt: new Date().toISOString(), state, url, ...(detail ? { detail } : {}) };
    if (state !== "connected" || link.connectedOnce) model.note(ev);
    emit([ev]);
    if (!json && state === "error") link.state = `cannot reach the broker: ${detail}`;
  };
  client.on("connect", (connack) => {
    link.connectedOnce = true;
    link.state = "connected";
    brokerEvent("connected", connack.sessionPresent ? "session resumed: queued messages follow" : undefined);
    client.subscribe(filter, { qos: 1 }, (err) => {
      if (err)
        brokerEvent("error", `subscribing to ${filter} failed: ${err.message}; check the broker's ACL lets this user read ${prefix}/#`);
    });
  });
  client.on("message", (topic, payload, packet) => emit(model.message(topic, payload, packet.retain, Date.now())));
  client.on("close", () => {
    if (link.state === "connected" && !link.stopping) {
      link.state = "reconnecting";
      brokerEvent("disconnected");
    }
  });
  client.on("error", (err: Error & { code?: number | string }) => {
    // CONNACK 4/5 (MQTT 3.1.1 §3.2.2.3), 134/135 (MQTT 5): the broker refuses who we are; every retry
    // would be refused the same way, and an account locked for repeated failures helps nobody
    if (err.code === 4 || err.code === 5 || err.code === 134 || err.code === 135) {
      link.refused = err.message;
      brokerEvent("error", err.message);
      link.stopNow?.();
      return;
    }
    if (err.message === link.lastError) return; // once per cause, not once per retry
    link.lastError = err.message;
    brokerEvent("error", err.message);
  });
  return client;
}

/** Resolves on Ctrl-C, SIGTERM, the end of --duration, or at once if the broker refused us. */
function untilStopped(durationS: number | undefined, link: Link): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    link.stopNow = stop;
    if (link.refused !== undefined) stop();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    if (durationS !== undefined) setTimeout(stop, durationS * 1000).unref();
  });
}

/** The totals on stderr, the notable events on a terminal, and the exit code. */
function finalReport(o: WatchTarget, model: WatchModel, link: Link, json: boolean, io: Io): number {
  const { url, prefix } = o;
  const t = model.totals();
  const summary = `roadside watch: ${t.messages} messages from ${t.devices} device(s); gaps ${t.gaps} (${t.missing} still missing), duplicates ${t.duplicates}${t.resets ? `, counter restarts ${t.resets}` : ""}${t.invalid ? `, invalid ${t.invalid}` : ""}${t.conflicts ? `, conflicts ${t.conflicts}` : ""}\n`;
  if (!json) {
    for (const ev of model.notable) io.out(`${describe(ev)[1]}\n`);
  }
  io.err(summary);
  if (link.refused !== undefined) {
    io.err(
      `roadside watch: ${url} refused the credentials (${link.refused}); stopped instead of retrying. Check --username and --password-file (or ROADSIDE_MQTT_PASSWORD), or --cert/--key for a client certificate, and that the broker's ACL lets this user read ${prefix}/#\n`,
    );
    return EXIT.failure;
  }
  if (!link.connectedOnce) {
    io.err(
      `roadside watch: never reached ${url}${link.lastError ? ` (${link.lastError})` : ""}; check the URL, that the broker runs, and the firewall\n`,
    );
    return EXIT.failure;
  }
  return EXIT.ok;
}

/** `--web`: the pages of src/web/, loaded only when asked for. */
async function webMode(
  values: { listen?: string | undefined; history?: string | undefined; retention?: string | undefined },
  o: {
    url: string;
    filter: string;
    prefix: string;
    durationS: number | undefined;
    io: Io;
    auth: Partial<IClientOptions>;
    session?: string | undefined;
  },
): Promise<number> {
  const { parseListen } = await import("../config/listen.js");
  const { defaultHistoryPath, watchWeb } = await import("../web/watch-web.js");
  const listen = parseListen(values.listen ?? "127.0.0.1:8080");
  if (typeof listen === "string") throw new UsageError(`--listen ${listen}`);
  const retentionS = values.retention === undefined ? 7 * 86400 : parseDuration(values.retention);
  if (retentionS === undefined || retentionS < 3600)
    throw new UsageError(`--retention ${JSON.stringify(values.retention)}: write a duration of at least 1h, e.g. 7d`);
  const client: IClientOptions = {
    clientId: o.session ? `roadside-watch-${o.session}` : `roadside-watch-${randomBytes(4).toString("hex")}`,
    clean: o.session === undefined,
    protocolVersion: 4,
    reconnectPeriod: 2000,
    connectTimeout: 10_000,
    ...o.auth,
  };
  return watchWeb({ ...o, client, listen, retentionS, historyPath: values.history ?? defaultHistoryPath() });
}
