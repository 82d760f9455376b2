// CPU time of one simulated day of one manhole (with a storm) and one bin, through the real device
// path: simulated serial bus and I²C ADC → parsers → features → windows → SQLite outbox → MQTT to an
// in-process aedes broker, in virtual time. Prints wall time, CPU time and messages published.
// Run: npm run build && node scripts/bench/sewer-bin-day.mjs [hours]
import { NS_PER_S } from "../../dist/clock/clock.js";
import { VirtualClock } from "../../dist/clock/virtual.js";
import { validateConfig, formatIssues } from "../../dist/config/load.js";
import { JohnnyFiveInputs } from "../../dist/io/johnny-five.js";
import { SerialLink } from "../../dist/io/serial.js";
import { silentLogger } from "../../dist/log/logger.js";
import { startEmbeddedBroker } from "../../dist/mqtt/embedded.js";
import { SqliteOutbox } from "../../dist/outbox/sqlite.js";
import { Device } from "../../dist/runtime.js";
import { SimSite } from "../../dist/sim/site.js";

const hours = Number(process.argv[2] ?? 24);
const r = validateConfig({
  device: { id: "bench-sb", board: "sim" },
  inputs: {
    "mh1.cover": { line: 17, activeLow: false },
    "b.tilt": { line: 22, activeLow: false },
    "b.lid": { line: 23, activeLow: false },
  },
  manholes: {
    mh1: {
      sensor: { type: "maxbotix", port: { path: "sim0" } },
      mountHeightMm: 2400,
      overflowHeightMm: 1500,
      cover: { input: "mh1.cover" },
      window: "15m",
    },
  },
  bins: {
    bin1: {
      distance: { type: "maxbotix", port: { path: "sim1" } },
      emptyDistanceMm: 1100,
      fullDistanceMm: 350,
      temperature: { adc: { address: 0x48, channel: 1 }, every: "10s" },
      tilt: { input: "b.tilt" },
      lid: { input: "b.lid" },
      window: "30m",
    },
  },
  sim: {
    seed: 1,
    sewer: { mh1: { storms: [{ at: "6h", for: "90m", intensityMmH: 35 }] } },
    bins: { bin1: { pickups: ["12h"], fires: [{ at: "18h", for: "10m" }] } },
  },
});
if (!r.ok) throw new Error(formatIssues(r.issues).join("\n"));
const broker = await startEmbeddedBroker(0);
const clock = new VirtualClock({ startWallMs: Date.UTC(2026, 0, 5) });
const site = new SimSite(r.loaded, { clock });
const outbox = SqliteOutbox.open({ path: ":memory:", now: () => clock.wallMs() });
let published = 0;
const device = new Device(r.loaded, {
  clock,
  logger: silentLogger,
  inputs: new JohnnyFiveInputs({ io: site.board, clock, timestampSource: "virtual" }),
  serial: () => new SerialLink({ binding: site.serial.binding, clock, logger: silentLogger }),
  ioPlugin: site.board,
  outbox,
  brokerUrl: broker.url,
  onDelivered: () => published++,
});
await device.start();
while (device.session.state !== "connected") await new Promise((res) => setTimeout(res, 10));
site.start();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await clock.runUntil(clock.monoNs() + hours * 3600 * NS_PER_S, { yieldEvery: 500 });
const cpu = process.cpuUsage(cpu0);
const wall = performance.now() - t0;
site.stop();
await device.stop(10_000);
const h = device.health.snapshot();
console.log(
  `${hours} simulated h (1 manhole + 1 bin): wall ${(wall / 1000).toFixed(2)} s, CPU ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s (${((hours * 3600 * 1000) / wall).toFixed(0)}× real time); frames parsed: manhole ${h["sensor.mh1"]?.frames}, bin ${h["sensor.bin1"]?.frames}; ADC conversions ${h["sensor.bin1.temperature"]?.conversions}; messages delivered ${published}; RSS ${(process.memoryUsage().rss / 1048576).toFixed(0)} MB`,
);
outbox.close();
await broker.close();
