#!/usr/bin/env node
// Benchmark of issue 15 ("Bytes on the air"): what the full site (4 dual-loop lanes, a manhole, a
// bin: scripts/bench/configs/site-24h.yaml) sends and receives on the wire in a month, MQTT over TLS.
//
//   node scripts/bench/airtime.mjs [--windows 1m,5m,15m] [--profiles standard,cellular] [--keepalive 30,300,600] [--days 1] [--root DIR]
//
// --root is a roadside checkout with dist/ built (default: this one): point it at an older build to measure "before".
//
// For each window length and profile: `roadside sim` runs a simulated day in virtual time against a
// throw-away Mosquitto with a TLS listener (its CA and certificate made here with openssl), through
// a TCP proxy in this script that counts every byte in both directions (TLS handshake, CONNECT,
// birth, manifest, PUBLISH, PUBACK…). The day is scaled to 30 days. Every stream uses the one window.
//
// Keep-alives: in virtual time a day takes seconds, so the day's PINGREQ/PINGRESP are modelled: the
// cost of one exchange is measured through the same proxy, and a ping is counted for every keep-alive
// interval without an outgoing packet (mqtt.js reschedules its ping on each packet sent), from the
// send times of the day's messages. By topic: each message's PUBLISH and PUBACK sizes, from what a
// subscriber on a plain listener receives, plus the TLS 1.3 record overhead (22 B) per packet;
// "connection" is the rest (handshake, CONNECT, subscriptions, status, manifest).
// IP and TCP headers (40–60 B a segment) are not counted: they depend on the bearer's compression.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import mqtt from "mqtt";
import mqttPacket from "mqtt-packet";
import { parse, stringify } from "yaml";
import { hasMosquitto } from "./mosquitto.mjs";

const here = dirname(fileURLToPath(import.meta.url));
/** Wall time of the simulated day's start (a Monday midnight, as `roadside sim`). */
const START_MS = Date.UTC(2026, 0, 5);
const { values } = parseArgs({
  options: {
    child: { type: "string" },
    root: { type: "string", default: resolve(here, "../..") },
    windows: { type: "string", default: "1m,5m,15m" },
    profiles: { type: "string", default: "standard,cellular" },
    keepalive: { type: "string", default: "30,300,600" },
    config: { type: "string", default: join(here, "configs", "site-24h.yaml") },
    days: { type: "string", default: "1" },
  },
});
const root = resolve(values.root);
if (values.child) {
  // the device: `roadside sim`'s pipeline in virtual time, with the config's TLS settings as `run` loads them
  const dist = (m) => import(pathToFileURL(join(root, "dist", m)).href);
  const { loadConfigFile } = await dist("config/load.js");
  const { silentLogger } = await dist("log/logger.js");
  const { simulate } = await dist("sim/session.js");
  const { loadTransport } = await dist("mqtt/secrets.js");
  const r = loadConfigFile(values.child);
  if (!r.ok) throw new Error(`${values.child} is not valid: ${JSON.stringify(r.issues)}`);
  const transport = loadTransport(r.loaded.config.mqtt);
  const res = await simulate({
    loaded: r.loaded,
    brokerUrl: r.loaded.config.mqtt.url,
    startWallMs: START_MS,
    durationS: Number(values.days) * 86400,
    speed: "max",
    logger: silentLogger,
    mqtt: { connectOptions: transport.options },
  });
  process.exit(res.undelivered === 0 ? 0 : 1);
}
if (!hasMosquitto()) {
  console.error("mosquitto is not installed: apt-get install -y mosquitto");
  process.exit(2);
}
const TLS_RECORD = 22; // TLS 1.3 AES-GCM: 5 B header + 1 B inner content type + 16 B tag
const DAYS_A_MONTH = 30;
const days = Number(values.days);
const work = mkdtempSync(join(tmpdir(), "roadside-airtime-"));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const seconds = (w) => Number(w.replace(/m$/, "")) * (w.endsWith("m") ? 60 : 1);

function openssl(args) {
  const r = spawnSync("openssl", args, { cwd: work, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr}`);
}
/** A throw-away CA and a server certificate for 127.0.0.1 / localhost (EC P-256, as small brokers use). */
function makeCerts() {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(["req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=roadside-bench-ca"]);
  openssl(["req", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"]);
  writeFileSync(join(work, "san.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  openssl([
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.crt",
    "-days",
    "2",
    "-extfile",
    "san.ext",
  ]);
}

async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, "127.0.0.1", r));
  const port = s.address().port;
  await new Promise((r) => s.close(r));
  return port;
}
async function waitPort(port) {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((res) => {
      const s = new Socket();
      s.once("connect", () => {
        s.destroy();
        res(true);
      });
      s.once("error", () => res(false));
      s.connect(port, "127.0.0.1");
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`nothing listens on ${port}`);
}

async function startBroker() {
  const tlsPort = await freePort();
  const plainPort = await freePort();
  const conf = join(work, "mosquitto.conf");
  writeFileSync(
    conf,
    [
      "per_listener_settings false",
      "allow_anonymous true",
      "persistence false",
      ...(process.getuid?.() === 0 ? ["user root"] : []),
      "log_dest stderr",
      "log_type error",
      "max_queued_messages 1000000",
      `listener ${tlsPort} 127.0.0.1`,
      `cafile ${join(work, "ca.crt")}`,
      `certfile ${join(work, "server.crt")}`,
      `keyfile ${join(work, "server.key")}`,
      `listener ${plainPort} 127.0.0.1`,
      "",
    ].join("\n"),
  );
  const child = spawn("mosquitto", ["-c", conf], { stdio: ["ignore", "ignore", "inherit"] });
  await waitPort(tlsPort);
  await waitPort(plainPort);
  const stop = () =>
    new Promise((r) => {
      child.once("exit", r);
      child.kill("SIGTERM");
    });
  return { tlsPort, plainPort, stop };
}

/** A TCP proxy to `target` that counts the bytes of every connection, both ways. */
async function startProxy(target) {
  const counts = { up: 0, down: 0, connections: 0 };
  const server = createServer((client) => {
    counts.connections++;
    const upstream = createConnection(target, "127.0.0.1");
    client.on("data", (b) => {
      counts.up += b.length;
      upstream.write(b);
    });
    upstream.on("data", (b) => {
      counts.down += b.length;
      client.write(b);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("close", end).on("error", end);
    upstream.on("close", end).on("error", end);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { port: server.address().port, counts, close: () => new Promise((r) => server.close(r)) };
}

/** Bytes of one PINGREQ/PINGRESP exchange over TLS, measured: an idle client with a 1 s keep-alive. */
async function pingCost(proxy) {
  const c = mqtt.connect(`mqtts://127.0.0.1:${proxy.port}`, {
    ca: readFileSync(join(work, "ca.crt")),
    servername: "localhost",
    keepalive: 1,
    protocolVersion: 5,
    reconnectPeriod: 0,
  });
  await new Promise((r, j) => c.once("connect", r).once("error", j));
  await sleep(300);
  const before = proxy.counts.up + proxy.counts.down;
  let pings = 0;
  c.on("packetreceive", (p) => p.cmd === "pingresp" && pings++);
  await sleep(5200);
  const bytes = proxy.counts.up + proxy.counts.down - before;
  await c.endAsync();
  return pings > 0 ? bytes / pings : 2 * (2 + TLS_RECORD);
}

/** The config of one run: every stream on one window, the broker behind the proxy over TLS. */
function siteConfig(windowS, profile, keepaliveS, proxyPort) {
  const cfg = parse(readFileSync(values.config, "utf8"));
  cfg.windows = { default: windowS };
  for (const m of Object.values(cfg.manholes ?? {})) m.window = windowS;
  for (const b of Object.values(cfg.bins ?? {})) b.window = windowS;
  cfg.mqtt = { url: `mqtts://127.0.0.1:${proxyPort}`, keepaliveS, tls: { ca: join(work, "ca.crt"), servername: "localhost" } };
  cfg.publish = { profile };
  const file = join(work, `site-${windowS}-${profile}.yaml`);
  writeFileSync(file, stringify(cfg));
  return file;
}

/** Wire size of the PUBLISH the device sent for a message a subscriber received, and of its PUBACK. */
function publishBytes(packet) {
  const props = {};
  if (packet.properties?.contentType) props.contentType = packet.properties.contentType;
  if (packet.properties?.userProperties) props.userProperties = packet.properties.userProperties;
  if (packet.properties?.messageExpiryInterval) props.messageExpiryInterval = packet.properties.messageExpiryInterval;
  const p = mqttPacket.generate(
    { cmd: "publish", topic: packet.topic, payload: packet.payload, qos: 1, messageId: 1, retain: packet.retain, properties: props },
    { protocolVersion: 5 },
  );
  return p.length + TLS_RECORD + (4 + TLS_RECORD);
}

/** When the device sent a heartbeat, s into the day (data go out at window ends, added in pingsPerDay). */
function sendTime(topic, payload) {
  try {
    if (topic.endsWith("/health")) return ((Date.parse(JSON.parse(payload.toString()).time) - START_MS) / 1000) % 86400;
  } catch {}
  return undefined;
}

async function runOne(broker, windowS, profile, keepaliveS) {
  const proxy = await startProxy(broker.tlsPort);
  const sub = mqtt.connect(`mqtt://127.0.0.1:${broker.plainPort}`, { protocolVersion: 5, reconnectPeriod: 0 });
  await new Promise((r, j) => sub.once("connect", r).once("error", j));
  await sub.subscribeAsync("roadside/#", { qos: 1 });
  const byTopic = new Map();
  const sends = [];
  sub.on("message", (topic, payload, packet) => {
    // retained copies from the previous run (same device id) arrive at subscribe: not this run's traffic
    if (packet.retain) return;
    const kind = topic
      .split("/")
      .slice(2)
      .join("/")
      .replace(/\/[^/]+$/, (m) => (/^\/(status|manifest|health|window)$/.test(m) ? m : "/*"));
    const t = byTopic.get(kind) ?? { messages: 0, payload: 0, wire: 0, online: 0 };
    t.messages++;
    if (kind === "status" && payload.toString() === "online") t.online++;
    t.payload += payload.length;
    t.wire += publishBytes(packet);
    byTopic.set(kind, t);
    sends.push(sendTime(topic, payload));
  });
  const cfg = siteConfig(windowS, profile, keepaliveS, proxy.port);
  const started = Date.now();
  // spawned, not spawnSync: the proxy lives in this process's event loop
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), "--child", cfg, "--root", root, "--days", values.days], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (b) => (stderr = (stderr + b).slice(-4000)));
  const code = await new Promise((r) => child.once("exit", (c) => r(c)));
  if (code !== 0) throw new Error(`sim failed (${code}): ${stderr.slice(-800)}`);
  await sleep(500);
  await sub.endAsync();
  await proxy.close();
  return {
    byTopic,
    sends,
    wire: proxy.counts.up + proxy.counts.down,
    up: proxy.counts.up,
    down: proxy.counts.down,
    wallS: (Date.now() - started) / 1000,
  };
}

/** Pings in a day: one per keep-alive interval without an outgoing packet, from the send times. */
function pingsPerDay(sendTimesS, windowS, keepaliveS, messagesPerDay) {
  // data go out at window ends; health at its reported time; together the day's outgoing instants
  const times = sendTimesS.filter((t) => t !== undefined);
  const perWindow = Math.max(1, Math.round(messagesPerDay / (86400 / windowS)));
  for (let t = windowS; t <= 86400; t += windowS) for (let i = 0; i < perWindow; i++) times.push(t);
  const ts = [...new Set(times.map((t) => t % 86400))].sort((a, b) => a - b);
  let pings = 0;
  // a ping at every keep-alive after the last packet sent (the ping itself reschedules the next); a
  // packet due exactly when the ping is (5-min windows, 300 s keep-alive) races it: counted as a ping
  for (let i = 0; i < ts.length; i++) {
    const gap = (i + 1 < ts.length ? ts[i + 1] : ts[0] + 86400) - ts[i];
    pings += Math.floor(gap / keepaliveS);
  }
  return pings;
}

const MB = (b) => (b / 1e6).toFixed(2);
let broker;
try {
  makeCerts();
  broker = await startBroker();
  const probe = await startProxy(broker.tlsPort);
  const ping = await pingCost(probe);
  await probe.close();
  console.log(`site: ${values.config}; TLS 1.3 to Mosquitto through a counting proxy; a month = ${DAYS_A_MONTH} days`);
  console.log(`one keep-alive exchange (PINGREQ + PINGRESP over TLS): ${ping.toFixed(0)} B`);
  const rows = [];
  for (const w of values.windows.split(",")) {
    for (const profile of values.profiles.split(",")) {
      const windowS = seconds(w);
      const r = await runOne(broker, windowS, profile, 30);
      const dataMsgs = [...r.byTopic.entries()]
        .filter(([k]) => !/^(status|manifest|health)$/.test(k))
        .reduce((a, [, t]) => a + t.messages, 0);
      // by topic: the measured bytes shared out by each topic's PUBLISH + PUBACK size (TLS records and the
      // connection's own bytes included pro rata); "uncoalesced" adds a TLS record per packet, as when
      // messages are minutes apart in real time rather than bunched as in virtual time
      const attributed = [...r.byTopic.values()].reduce((a, t) => a + t.wire, 0);
      const wireDay = Math.max(r.wire, attributed) / days;
      console.log(
        `\n${w} windows, ${profile} profile: ${MB(r.wire / days)} MB/day measured (${MB(r.up / days)} up, ${MB(r.down / days)} down; ${MB(attributed / days)} uncoalesced), sim ${r.wallS.toFixed(0)} s`,
      );
      console.log("  topic                messages/day  payload B/msg  MB/month on the wire");
      for (const [k, t] of [...r.byTopic.entries()].sort((a, b) => b[1].wire - a[1].wire)) {
        console.log(
          `  ${k.padEnd(20)} ${String(Math.round(t.messages / days)).padStart(12)}  ${String(Math.round(t.payload / t.messages)).padStart(13)}  ${MB((wireDay * t.wire * DAYS_A_MONTH) / attributed).padStart(8)}`,
        );
      }
      // a connect costs the TLS handshake, the birth and the 18 kB manifest: counted once a day, whatever
      // the run did (mqtt.js's real-time keep-alive can time out while a simulated day runs at full speed)
      const connects = Math.max(1, r.byTopic.get("status")?.online ?? 1);
      const perConnect =
        (((r.byTopic.get("manifest")?.wire ?? 0) + (r.byTopic.get("status")?.wire ?? 0)) / connects) * (wireDay / (attributed / days));
      const extra = Math.max(0, connects / days - 1) * perConnect;
      if (extra > 0) console.log(`  ${connects} connects in ${days} day(s); counted as one a day: -${MB(extra * DAYS_A_MONTH)} MB/month`);
      for (const ka of values.keepalive.split(",").map(Number)) {
        const pings = pingsPerDay(r.sends, windowS, ka, dataMsgs / days);
        const month = (wireDay - extra + pings * ping) * DAYS_A_MONTH;
        console.log(
          `  keep-alive ${String(ka).padStart(3)} s: ${pings} pings/day = ${MB(pings * ping * DAYS_A_MONTH)} MB/month; total ${MB(month)} MB/month`,
        );
        rows.push({ w, profile, ka, month });
      }
    }
  }
  console.log("\nMB/month on the wire (TLS, both directions, keep-alives and PUBACKs included)");
  console.log(
    `window  profile    ${values.keepalive
      .split(",")
      .map((k) => `keepalive ${k}s`.padStart(14))
      .join(" ")}`,
  );
  for (const w of values.windows.split(","))
    for (const p of values.profiles.split(","))
      console.log(
        `${w.padEnd(7)} ${p.padEnd(10)} ${rows
          .filter((r) => r.w === w && r.profile === p)
          .map((r) => MB(r.month).padStart(14))
          .join(" ")}`,
      );
} finally {
  await broker?.stop();
  rmSync(work, { recursive: true, force: true });
}
