import { createConnection, isIP } from "node:net";
import { connect as tlsConnect } from "node:tls";
import type { ConnectionOptions } from "node:tls";
import mqtt, { MqttClient } from "mqtt";
import type { IClientOptions } from "mqtt";

const PLAIN = new Set(["mqtt", "tcp"]);
const SECURE = new Set(["mqtts", "ssl", "tls"]);

/**
 * `mqtt.connect`, without loading what a device does not use. mqtt.js's connect() loads all of its
 * transports at the first call (WebSocket, SOCKS with ip-address and smart-buffer: ~1.1 MB of live
 * heap for the life of the process, and their start-up; issue 15). For mqtt://, tcp://, mqtts://,
 * ssl:// and tls:// URLs the client is built here over Node's net and tls, with the defaults of
 * mqtt.js's own tcp and tls stream builders (port 1883 / 8883, SNI from the host name, certificates
 * verified unless `rejectUnauthorized: false`); ws:// and wss:// go through mqtt.connect as before.
 * Not supported on the direct path: mqtt.js's SOCKS proxy (MQTTJS_SOCKS_PROXY), which roadside never
 * configures.
 */
export function connectMqtt(url: string, options: IClientOptions): MqttClient {
  const u = new URL(url);
  const scheme = u.protocol.replace(/:$/, "");
  if (!PLAIN.has(scheme) && !SECURE.has(scheme)) return mqtt.connect(url, options);
  const opts: IClientOptions = { ...options };
  // credentials in the URL, as mqtt.js reads them (the options win)
  if (u.username && opts.username === undefined) opts.username = decodeURIComponent(u.username);
  if (u.password && opts.password === undefined) opts.password = decodeURIComponent(u.password);
  // a client certificate makes any scheme TLS, as in mqtt.js
  const secure = SECURE.has(scheme) || Boolean(opts.cert && opts.key);
  const host = u.hostname.replace(/^\[(.*)\]$/, "$1") || "localhost";
  const port = u.port ? Number(u.port) : secure ? 8883 : 1883;
  if (opts.clean === false && !opts.clientId) throw new Error("Missing clientId for unclean clients");
  const client = new MqttClient((c) => (secure ? tlsStream(c, host, port, opts) : createConnection({ host, port })), opts);
  client.on("error", () => {}); // as mqtt.connect does: the caller's own listener decides
  return client;
}

/** mqtt.js's tls stream builder (build/lib/connect/tls.js), minus SOCKS. */
function tlsStream(client: MqttClient, host: string, port: number, opts: IClientOptions): ReturnType<typeof tlsConnect> {
  const rejectUnauthorized = opts.rejectUnauthorized !== false;
  const tlsOpts: ConnectionOptions = {
    ...(opts as ConnectionOptions),
    host,
    port,
    rejectUnauthorized,
    ...(isIP(host) === 0 && !opts.servername ? { servername: host } : {}),
  };
  const connection = tlsConnect(tlsOpts);
  const onError = (err: Error): void => {
    if (rejectUnauthorized) client.emit("error", err);
    connection.end();
  };
  connection.on("secureConnect", () => {
    if (rejectUnauthorized && !connection.authorized) connection.emit("error", new Error("TLS not authorized"));
    else connection.removeListener("error", onError);
  });
  connection.on("error", onError);
  return connection;
}
