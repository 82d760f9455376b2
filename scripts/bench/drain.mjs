#!/usr/bin/env node
// Benchmark: backlog drain after a 72-hour outage, and bytes written to disk per summary.
//
//   npm run build && node scripts/bench/drain.mjs [--hours 72] [--streams 4] [--in-flight 16] [--dir DIR]
//
// 1. Outage: a device with `--streams` streams and 1-minute windows commits `--hours` of windows to
//    a real outbox file (one transaction per window, synchronous=FULL), with no broker. Bytes written
//    are read from /proc/self/io (write_bytes: what reached the block layer; wchar: what went through
//    write(2)) and from the file sizes.
// 2. Drain: Mosquitto (a child process on a free loopback port) comes up; the device's MQTT session
//    (MQTT 5, QoS 1) drains the backlog while a subscriber receives it. Messages/s = backlog / time
//    until the subscriber has every message and the outbox is empty.
// 3. Steady state: with the broker up, windows are committed, published and deleted one by one;
//    bytes written per summary including the delete after PUBACK.
// Prints the figures; asserts nothing.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import mqtt from "mqtt";
import { VirtualClock } from "../../dist/clock/virtual.js";
import { silentLogger } from "../../dist/log/logger.js";
import { MqttSession } from "../../dist/mqtt/session.js";
import { SqliteOutbox } from "../../dist/outbox/sqlite.js";
import { annotateLoss } from "../../dist/publish/envelope.js";
import { Publisher } from "../../dist/publish/publisher.js";
import { Topics } from "../../dist/publish/topics.js";

const { values } = parseArgs({
  options: {
    hours: { type: "string", default: "72" },
    streams: { type: "string", default: "4" },
    "in-flight": { type: "string", default: "16" },
    dir: { type: "string" },
  },
});
const HOURS = Number(values.hours);
const STREAMS = Number(values.streams);
const IN_FLIGHT = Number(values["in-flight"]);
const dir = values.dir ?? mkdtempSync(join(tmpdir(), "roadside-bench-drain-"));
const dbPath = join(dir, "outbox.db");
for (const s of ["", "-wal", "-shm"]) rmSync(dbPath + s, { force: true });

const io = () => {
  const t = readFileSync("/proc/self/io", "utf8");
  const get = (k) => Number(new RegExp(`^${k}: (\\d+)`, "m").exec(t)?.[1] ?? 0);
  return { write: get("write_bytes"), wchar: get("wchar"), syscw: get("syscw") };
};
const fileBytes = () => ["", "-wal"].reduce((a, s) => a + (existsSync(dbPath + s) ? statSync(dbPath + s).size : 0), 0);
const mb = (b) => `${(b / 1e6).toFixed(1)} MB`;

const T0 = Date.UTC(2026, 0, 5, 0, 0, 0);
const clock = new VirtualClock({ startWallMs: T0 });
const topics = new Topics("roadside", "bench-1");
const outbox = SqliteOutbox.open({ path: dbPath, now: () => clock.wallMs(), annotate: annotateLoss, maxBytes: 1e9 });
const publisher = new Publisher({ deviceId: "bench-1", topics, encoding: "cbor", outbox, logger: silentLogger, clock });

let minute = 0;
/** One closed 1-minute window: a traffic summary per stream, committed in one transaction. */
function commitWindow() {
  const start = T0 + minute * 60_000;
  const w = {
    lengthS: 60,
    startNs: minute * 60e9,
    endNs: (minute + 1) * 60e9,
    startWallMs: start,
    endWallMs: start + 60_000,
    index: minute,
    partial: false,
    clockJump: false,
    synced: true,
  };
  const sums = [];
  for (let s = 0; s < STREAMS; s++) {
    const volume = 5 + ((minute * 7 + s * 13) % 29);
    sums.push({
      kind: "traffic",
      name: `lane${s + 1}`,
      window: w,
      measures: [
        { n: "volume", u: "count", v: volume },
        { n: "flow", u: "1/s", v: volume / 60 },
        { n: "occupancy", u: "/", v: Math.round(volume * 0.0123 * 1e4) / 1e4 },
        { n: "speed", u: "m/s", v: 13.9 + (minute % 5) * 0.1 },
      ],
    });
  }
  publisher.accept(sums);
  clock.advanceTo((minute + 1) * 60e9);
  publisher.flush(w);
  minute++;
}

// ---- 1. the outage ----
const windows = HOURS * 60;
const io0 = io();
const t0 = performance.now();
for (let i = 0; i < windows; i++) commitWindow();
const commitMs = performance.now() - t0;
const io1 = io();
const backlog = outbox.stats();
const summaries = windows * STREAMS;
console.log(`roadside drain benchmark: ${HOURS} h outage, ${STREAMS} streams, 1-min windows, outbox in ${dir}`);
console.log(
  `outage: ${summaries} summaries in ${windows} transactions, ${commitMs.toFixed(0)} ms (${(commitMs / windows).toFixed(2)} ms per window commit with fsync)`,
);
console.log(
  `  backlog ${backlog.depth} messages, ${mb(backlog.bytes)} counted against outbox.maxBytes, files (db + wal) ${mb(fileBytes())}`,
);
console.log(
  `  written per summary: ${((io1.write - io0.write) / summaries).toFixed(0)} B to disk (write_bytes), ${((io1.wchar - io0.wchar) / summaries).toFixed(0)} B through write(2) (wchar), ${((io1.syscw - io0.syscw) / windows).toFixed(1)} write calls per window`,
);

// ---- 2. the drain ----
const port = await new Promise((resolve) => {
  const s = createServer();
  s.listen(0, "127.0.0.1", () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
writeFileSync(
  join(dir, "mosquitto.conf"),
  `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 1000000\nmax_inflight_messages 100\n${process.getuid?.() === 0 ? "user root\n" : ""}`,
);
const mosq = spawn("mosquitto", ["-c", join(dir, "mosquitto.conf")], { stdio: "ignore" });
for (;;) {
  const ok = await new Promise((r) => {
    const s = new Socket();
    s.once("connect", () => {
      s.destroy();
      r(true);
    });
    s.once("error", () => r(false));
    s.connect(port, "127.0.0.1");
  });
  if (ok) break;
  await new Promise((r) => setTimeout(r, 50));
}
const url = `mqtt://127.0.0.1:${port}`;
const sub = mqtt.connect(url, { protocolVersion: 5 });
let received = 0;
const seen = new Set();
sub.on("message", (_t, payload) => {
  received++;
  seen.add(payload.readUInt32BE(payload.length - 4) ^ received); // touch the payload
});
await new Promise((r) => sub.once("connect", () => sub.subscribe("roadside/bench-1/traffic/+", { qos: 1 }, r)));

const session = new MqttSession({
  url,
  clientId: "bench-1",
  protocol: "5",
  keepaliveS: 30,
  statusTopic: topics.status(),
  outbox,
  logger: silentLogger,
  maxInFlight: IN_FLIGHT,
  clock,
});
const io2 = io();
const t1 = performance.now();
session.start();
while (received < backlog.depth || outbox.stats().depth > 0) await new Promise((r) => setTimeout(r, 5));
const drainMs = performance.now() - t1;
outbox.flushAcks();
const io3 = io();
console.log(
  `drain: ${backlog.depth} messages to Mosquitto on loopback (MQTT 5, QoS 1, ${IN_FLIGHT} in flight) in ${(drainMs / 1000).toFixed(2)} s = ${Math.round(backlog.depth / (drainMs / 1000))} messages/s delivered to a subscriber`,
);
console.log(
  `  ${HOURS} h of backlog caught up in ${(drainMs / 1000).toFixed(1)} s; deletes after PUBACK wrote ${((io3.write - io2.write) / backlog.depth).toFixed(0)} B per message to disk`,
);

// ---- 3. steady state, broker up ----
const steady = 600;
const io4 = io();
for (let i = 0; i < steady; i++) {
  commitWindow();
  session.kick();
  while (outbox.stats().depth > 0) await new Promise((r) => setImmediate(r));
}
outbox.flushAcks();
const io5 = io();
console.log(
  `steady state: ${steady} windows × ${STREAMS} summaries committed, published, acknowledged and deleted: ${((io5.write - io4.write) / (steady * STREAMS)).toFixed(0)} B written to disk per summary (write_bytes), ${((io5.wchar - io4.wchar) / (steady * STREAMS)).toFixed(0)} B through write(2)`,
);
console.log(`  file sizes now (db + wal): ${mb(fileBytes())} (WAL is checkpointed every 1000 pages; freed pages are reused, not returned)`);

await session.stop();
sub.end(true);
mosq.kill("SIGTERM");
outbox.close();
if (!values.dir) rmSync(dir, { recursive: true, force: true });
