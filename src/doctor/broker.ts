import mqtt from "mqtt";
import type { IClientOptions, MqttClient } from "mqtt";
import { valueAt } from "../config/issues.js";
import type { LoadedConfig } from "../config/load.js";
import { TLS_PATHS } from "../provision/build.js";
import { Topics } from "../publish/topics.js";
import { brokerOptions } from "../watch/connect.js";
import type { DoctorCheck } from "./check.js";

/** The topic of doctor's test publish: `{prefix}/{device}/doctor` (docs/payloads.md "Doctor"). */
export function doctorTopic(topics: Topics): string {
  return topics.doctor();
}

/** mqtt.js options from the device config: TLS files and credentials where the config has them. */
export function configBrokerOptions(loaded: LoadedConfig): Partial<IClientOptions> {
  const c = loaded.config as unknown;
  const str = (path: readonly string[]): string | undefined => {
    const v = valueAt(c, path);
    return typeof v === "string" ? v : undefined;
  };
  return brokerOptions({
    ca: str(TLS_PATHS.ca),
    cert: str(TLS_PATHS.cert),
    key: str(TLS_PATHS.key),
    username: str(["mqtt", "username"]),
    passwordFile: str(["mqtt", "passwordFile"]),
  });
}

function fixFor(message: string, url: string): string {
  if (/ECONNREFUSED/.test(message)) return `nothing listens at ${url}: check the host and port, that the broker runs, and the firewall`;
  if (/ENOTFOUND|EAI_AGAIN/.test(message)) return `the broker's host name does not resolve: check the URL and DNS (cat /etc/resolv.conf)`;
  if (/timed? ?out|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH/i.test(message))
    return "no answer: check the network link (ip route, ping the broker) and the firewall on the way";
  if (/certificate|self.signed|CERT_|unable to verify/i.test(message))
    return "the broker's certificate is not trusted: give its CA file (mqtt.tls.ca) and check the clock (a wrong date fails every certificate)";
  if (/Not authorized|Bad username|bad user name|authori/i.test(message))
    return "the broker refused this device: check its user name and password or client certificate, and the ACL";
  return "check the URL, the network and the broker's log";
}

/** Connect, publish one QoS 1 message to the device's doctor topic, wait for the PUBACK. */
export const brokerCheck: DoctorCheck = {
  id: "broker",
  needsConfig: true,
  async run(ctx) {
    const { config } = ctx.loaded!;
    const url = ctx.options.brokerUrl ?? config.mqtt.url;
    if (!url) {
      return [
        {
          status: "skip",
          label: "broker",
          title: "no mqtt.url: the device starts an embedded broker (for trying out only)",
          fix: "set mqtt.url to the city's broker for a real installation",
        },
      ];
    }
    const topics = new Topics(config.mqtt.prefix, config.device.id);
    const topic = doctorTopic(topics);
    let auth: Partial<IClientOptions>;
    try {
      auth = configBrokerOptions(ctx.loaded!);
    } catch (err) {
      return [
        {
          status: "fail",
          label: "broker",
          title: (err as Error).message,
          fix: "fix the file path in the config (the files check above says more)",
          values: { url, connected: false, error: (err as Error).message },
        },
      ];
    }
    const started = Date.now();
    const { conn, version } = await connectDoctor(url, ctx.loaded!, auth);
    if (!conn.client)
      return [
        {
          status: "fail",
          label: "broker",
          title: `cannot connect to ${url}: ${conn.error}`,
          fix: fixFor(conn.error ?? "", url),
          values: { url, connected: false, error: conn.error ?? null },
        },
      ];
    const client = conn.client;
    const connectMs = Date.now() - started;
    try {
      const { err, ackMs, seenBack } = await testPublish(client, topic, () =>
        JSON.stringify({ doctor: 1, device: config.device.id, time: new Date().toISOString(), version: ctx.options.version }),
      );
      const values = {
        url,
        connected: true,
        protocol: version === 5 ? "5" : "3.1.1",
        connectMs,
        topic,
        acknowledged: !err,
        ackMs: err ? null : ackMs,
        seenBack: false,
      };
      if (err)
        return [
          {
            status: "fail",
            label: "broker",
            title: `connected to ${url}, but the test publish to ${topic} failed: ${err.message}`,
            fix: `the broker's ACL must let this device write ${topics.base}/# (docs/subscribing.md "Access control")`,
            values,
          },
        ];
      const detail = [
        seenBack ? "the message came back through the broker" : "not seen back (the ACL may not let this device read its own topics: fine)",
        ...(version === 4 && !seenBack
          ? ["MQTT 3.1.1 brokers acknowledge even publishes their ACL drops: watch the topic from the platform side to be sure"]
          : []),
      ];
      return [
        {
          status: "pass",
          label: "broker",
          title: `${url}: connected (MQTT ${version === 5 ? "5" : "3.1.1"}, ${connectMs} ms); test publish to ${topic} acknowledged in ${ackMs} ms`,
          detail,
          values: { ...values, seenBack },
        },
      ];
    } finally {
      await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
    }
  },
};

interface Attempt {
  client?: MqttClient;
  error?: string;
  refusedVersion?: boolean;
}

/** Connects in the config's protocol; with `auto`, a broker refusing MQTT 5 is tried again in 3.1.1. */
async function connectDoctor(url: string, loaded: LoadedConfig, auth: Partial<IClientOptions>): Promise<{ conn: Attempt; version: 4 | 5 }> {
  const { config } = loaded;
  const options = (protocolVersion: 4 | 5): IClientOptions => ({
    // not the device's own client id: a second connection with it would throw the running device off
    clientId: `${config.mqtt.clientId ?? `roadside-${config.device.id}`}-doctor`,
    protocolVersion,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    ...auth,
  });
  let version: 4 | 5 = config.mqtt.protocol === "3.1.1" ? 4 : 5;
  let conn = await tryConnect(url, options(version));
  if (!conn.client && conn.refusedVersion && config.mqtt.protocol === "auto") {
    version = 4;
    conn = await tryConnect(url, options(version));
  }
  return { conn, version };
}

/** One connection attempt: the client once connected, or why not (the failed client fully ended). */
function tryConnect(url: string, options: IClientOptions): Promise<Attempt> {
  return new Promise((resolve) => {
    const client = mqtt.connect(url, options);
    // only our own listeners come off: removeAllListeners would also take mqtt.js's own "close"
    // handler, the one that clears its connect timer, and keep a refused doctor alive 10 s
    const onConnect = (): void => done({ client });
    const onError = (err: Error & { code?: number | string }): void =>
      done({ error: err.message, refusedVersion: err.code === 1 || err.code === 132 });
    const onClose = (): void => done({ error: "connection closed before the broker answered (connect timeout)" });
    const done = (r: Attempt): void => {
      client.off("connect", onConnect);
      client.off("error", onError);
      client.off("close", onClose);
      client.on("error", () => {});
      // a failed attempt is reported once the socket is gone, so nothing of it outlives the check
      if (!r.client) {
        // when the refusal comes as "error" before mqtt.js has seen its socket close, its connack
        // timer (connectTimeout) can outlive the attempt; it is mqtt.js's own field, cleared here too
        clearTimeout((client as unknown as { connackTimer?: NodeJS.Timeout }).connackTimer);
        client.end(true, {}, () => resolve(r));
      } else resolve(r);
    };
    client.once("connect", onConnect);
    client.once("error", onError);
    client.once("close", onClose);
  });
}

/**
 * Subscribes to `topic`, publishes `payload()` to it at QoS 1 and waits for the PUBACK (10 s), then
 * up to 1.5 s for the message to come back through the broker.
 */
async function testPublish(
  client: MqttClient,
  topic: string,
  payload: () => string,
): Promise<{ err: Error | undefined; ackMs: number; seenBack: boolean }> {
  // subscribe first so the message coming back proves the broker routes it (if the ACL lets us read)
  let seenBack = false;
  client.on("message", (t) => {
    if (t === topic) seenBack = true;
  });
  await new Promise<void>((resolve) => client.subscribe(topic, { qos: 1 }, () => resolve()));
  const body = payload();
  const t0 = Date.now();
  const err = await new Promise<Error | undefined>((resolve) => {
    const timer = setTimeout(() => resolve(new Error("no PUBACK within 10 s")), 10_000);
    client.publish(topic, body, { qos: 1, retain: false }, (e) => {
      clearTimeout(timer);
      resolve(e ?? undefined);
    });
  });
  const ackMs = Date.now() - t0;
  if (err) return { err, ackMs, seenBack: false };
  const until = Date.now() + 1500;
  while (!seenBack && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
  return { err, ackMs, seenBack };
}
