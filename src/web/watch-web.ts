import { homedir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import type { IClientOptions } from "mqtt";
import { FleetWeb } from "./fleet-web.js";
import type { Listen } from "../config/listen.js";

export interface WatchWebOptions {
  url: string;
  filter: string;
  prefix: string;
  client: IClientOptions;
  listen: Listen;
  historyPath: string;
  retentionS: number;
  durationS: number | undefined;
  io: WebIo;
}

/** Where the command writes (the CLI's Io fits it): web sits below the CLI and does not import it. */
export interface WebIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** The exit codes of src/cli/args.ts that this command returns. */
const EXIT = { ok: 0, failure: 1 } as const;

/** Where the history lives unless --history says: the user's state folder, as run's outbox. */
export function defaultHistoryPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env["XDG_STATE_HOME"] ?? join(homedir(), ".local", "state"), "roadside", "watch-history.db");
}

/** `roadside watch --web`: subscribe, keep the history, serve the pages until Ctrl-C or --duration. */
export async function watchWeb(o: WatchWebOptions): Promise<number> {
  let web: FleetWeb;
  try {
    web = new FleetWeb({
      prefix: o.prefix,
      host: o.listen.host,
      port: o.listen.port,
      historyPath: o.historyPath,
      retentionS: o.retentionS,
      title: `${o.url}  ${o.filter}`,
    });
  } catch (err) {
    o.io.err(
      `roadside watch: cannot open the history ${o.historyPath}: ${(err as Error).message}; pass --history FILE in a writable folder\n`,
    );
    return EXIT.failure;
  }
  let address: string;
  try {
    address = await web.start();
  } catch (err) {
    await web.stop();
    o.io.err(
      `roadside watch: cannot listen on ${o.listen.host}:${o.listen.port}: ${(err as Error).message}; pick another port with --listen HOST:PORT\n`,
    );
    return EXIT.failure;
  }
  o.io.err(`roadside watch: fleet page on ${address}/ (history ${o.historyPath}, kept ${Math.round(o.retentionS / 3600)} h)\n`);
  const client = mqtt.connect(o.url, o.client);
  let refused: string | undefined;
  let connectedOnce = false;
  let stop: () => void = () => {};
  client.on("connect", () => {
    connectedOnce = true;
    web.link = "connected";
    client.subscribe(o.filter, { qos: 1 });
  });
  client.on("close", () => {
    if (connectedOnce) web.link = "reconnecting";
  });
  client.on("error", (err: Error & { code?: number | string }) => {
    web.link = `error: ${err.message}`;
    // CONNACK 4/5 (3.1.1), 134/135 (5): refused credentials are refused again on every retry
    if (err.code === 4 || err.code === 5 || err.code === 134 || err.code === 135) {
      refused = err.message;
      stop();
    }
  });
  client.on("message", (topic, payload, packet) => web.message(topic, payload, packet.retain));
  const ticker = setInterval(() => web.tick(), 1000);
  await new Promise<void>((resolve) => {
    stop = resolve;
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
    if (o.durationS !== undefined) setTimeout(resolve, o.durationS * 1000).unref();
  });
  clearInterval(ticker);
  await new Promise<void>((resolve) => client.end(true, {}, () => resolve()));
  await web.stop();
  const t = web.model.totals();
  o.io.err(`roadside watch: ${t.messages} messages from ${t.devices} device(s); gaps ${t.gaps} (${t.missing} still missing)\n`);
  if (refused !== undefined) {
    o.io.err(`roadside watch: ${o.url} refused the credentials (${refused}); check --username and --password-file, or --cert/--key\n`);
    return EXIT.failure;
  }
  if (!connectedOnce) {
    o.io.err(`roadside watch: never reached ${o.url}; check the URL, that the broker runs, and the firewall\n`);
    return EXIT.failure;
  }
  return EXIT.ok;
}
