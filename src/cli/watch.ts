import { randomBytes } from "node:crypto";
import mqtt from "mqtt";
import type { IClientOptions } from "mqtt";
import { parseDuration } from "../config/duration.js";
import { AuthFileError, brokerOptions } from "../watch/connect.js";
import type { WatchEvent } from "../watch/events.js";
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
  let auth: Partial<IClientOptions>;
  try {
    auth = brokerOptions({
      ca: values.ca,
      cert: values.cert,
      key: values.key,
      username: values.username,
      passwordFile: values["password-file"],
    });
  } catch (err) {
    if (err instanceof AuthFileError) throw new UsageError(err.message);
    throw err;
  }

  // the filter goes through the same checks as Topics (no wildcards in names); `+` and `#` are ours
  const filter = `${prefix}/${values.device ?? "+"}/#`;
  if (values.web) return webMode(values, { url, filter, prefix, durationS, io, auth, session: values.session });
  const json = values.json === true || !io.isTTY;
  const model = new WatchModel({ prefix });
  const title = `roadside watch  ${url}  ${filter}`;
  let linkState = "connecting";
  const screen = json ? undefined : new Screen({ write: io.out });
  const size = (): { columns: number; rows: number } => ({ columns: process.stdout.columns || 100, rows: process.stdout.rows || 30 });
  const render = (): string[] =>
    renderTable(model, {
      nowMs: Date.now(),
      ...size(),
      utc: values.utc === true,
      color: useColor(io.isTTY),
      title: `${title}  ${linkState}`,
    });
  const emit = (events: readonly WatchEvent[]): void => {
    if (json) for (const ev of events) io.out(`${JSON.stringify(ev)}\n`);
    else screen!.schedule(render);
  };

  const options: IClientOptions = {
    clientId: values.session ? `roadside-watch-${values.session}` : `roadside-watch-${randomBytes(4).toString("hex")}`,
    clean: values.session === undefined,
    protocolVersion: 4, // 3.1.1: every broker speaks it, and watch needs nothing from 5
    reconnectPeriod: 2000,
    connectTimeout: 10_000,
    ...auth,
  };
  let connectedOnce = false;
  let lastError = "";
  const client = mqtt.connect(url, options);
  const brokerEvent = (state: "connected" | "disconnected" | "error", detail?: string): void => {
    const ev: WatchEvent = { type: "broker", receivedAt: new Date().toISOString(), state, url, ...(detail ? { detail } : {}) };
    if (state !== "connected" || connectedOnce) model.note(ev);
    emit([ev]);
    if (!json && state === "error") linkState = `cannot reach the broker: ${detail}`;
  };
  client.on("connect", (connack) => {
    connectedOnce = true;
    linkState = "connected";
    brokerEvent("connected", connack.sessionPresent ? "session resumed: queued messages follow" : undefined);
    client.subscribe(filter, { qos: 1 }, (err) => {
      if (err)
        brokerEvent("error", `subscribing to ${filter} failed: ${err.message}; check the broker's ACL lets this user read ${prefix}/#`);
    });
  });
  client.on("message", (topic, payload, packet) => emit(model.message(topic, payload, packet.retain, Date.now())));
  let stopping = false;
  client.on("close", () => {
    if (linkState === "connected" && !stopping) {
      linkState = "reconnecting";
      brokerEvent("disconnected");
    }
  });
  let stopNow: (() => void) | undefined;
  let refused: string | undefined;
  client.on("error", (err: Error & { code?: number | string }) => {
    // CONNACK 4/5 (MQTT 3.1.1 §3.2.2.3), 134/135 (MQTT 5): the broker refuses who we are; every retry
    // would be refused the same way, and an account locked for repeated failures helps nobody
    if (err.code === 4 || err.code === 5 || err.code === 134 || err.code === 135) {
      refused = err.message;
      brokerEvent("error", err.message);
      stopNow?.();
      return;
    }
    if (err.message === lastError) return; // once per cause, not once per retry
    lastError = err.message;
    brokerEvent("error", err.message);
  });

  if (!json) {
    screen!.start();
    screen!.draw(render());
    process.stdout.on("resize", () => screen!.draw(render()));
  } else {
    io.err(`roadside watch: subscribing to ${filter} on ${url}; one JSON object per line (docs/message.schema.json)\n`);
  }
  const ticker = setInterval(() => {
    const events = model.tick(Date.now());
    if (json) emit(events);
    else screen!.schedule(render);
  }, 1000);

  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    stopNow = stop;
    if (refused !== undefined) stop();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    if (durationS !== undefined) setTimeout(stop, durationS * 1000).unref();
  });
  clearInterval(ticker);
  stopping = true;
  await new Promise<void>((resolve) => client.end(refused !== undefined, {}, () => resolve()));
  screen?.stop();
  const t = model.totals();
  const summary = `roadside watch: ${t.messages} messages from ${t.devices} device(s); gaps ${t.gaps} (${t.missing} still missing), duplicates ${t.duplicates}${t.resets ? `, counter restarts ${t.resets}` : ""}${t.invalid ? `, invalid ${t.invalid}` : ""}${t.conflicts ? `, conflicts ${t.conflicts}` : ""}\n`;
  if (!json) {
    for (const ev of model.notable) io.out(`${describe(ev)[1]}\n`);
  }
  io.err(summary);
  if (refused !== undefined) {
    io.err(
      `roadside watch: ${url} refused the credentials (${refused}); stopped instead of retrying. Check --username and --password-file (or ROADSIDE_MQTT_PASSWORD), or --cert/--key for a client certificate, and that the broker's ACL lets this user read ${prefix}/#\n`,
    );
    return EXIT.failure;
  }
  if (!connectedOnce) {
    io.err(
      `roadside watch: never reached ${url}${lastError ? ` (${lastError})` : ""}; check the URL, that the broker runs, and the firewall\n`,
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
