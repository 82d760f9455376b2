import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/log/logger.js";
import type { EmbeddedBroker } from "../../src/mqtt/embedded.js";
import { replay, simulate } from "../../src/sim/session.js";
import { parseTrace } from "../../src/sim/trace.js";
import { startAedes, subscribe } from "../helpers/brokers.js";
import { alarms, decodeAll } from "../helpers/decode.js";
import { mustLoad } from "../helpers/sim-device.js";

const SEED = 1407;
const START = Date.UTC(2026, 0, 5, 10);

function site() {
  return mustLoad({
    device: { id: "fire-rr", board: "sim" },
    bins: {
      bin1: {
        distance: { type: "maxbotix", model: "hrxl", port: { path: "sim1" } },
        emptyDistanceMm: 1100,
        fullDistanceMm: 350,
        temperature: { adc: { address: 0x48, channel: 1 }, every: "10s" },
        window: "15m",
      },
    },
    sim: { seed: SEED, bins: { bin1: { depositsPerHour: 0, fires: [{ at: "20m", for: "10m", riseCPerMin: 12 }] } } },
  });
}

describe(`analog samples are recorded and replayed: a bin fire (seed ${SEED})`, () => {
  let broker: EmbeddedBroker;
  let dir: string;
  beforeAll(async () => {
    broker = await startAedes();
    dir = mkdtempSync(join(tmpdir(), "roadside-analog-"));
  });
  afterAll(async () => {
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("the trace carries bin1.temperature in volts; the replay raises the same fire alarm and publishes the same summaries", async () => {
    const common = {
      brokerUrl: broker.url,
      speed: "max" as const,
      logger: silentLogger,
      mqtt: { backoffMinMs: 50, backoffMaxMs: 500 },
      drainTimeoutMs: 20_000,
    };
    const tracePath = join(dir, "fire.jsonl");
    const liveSub = await subscribe(broker.url, "roadside/fire-rr/#");
    const live = await simulate({ ...common, loaded: site(), startWallMs: START, durationS: 45 * 60, recordPath: tracePath });
    await liveSub.waitFor((m) => decodeAll(m).length >= live.committed);
    await liveSub.close();

    const trace = parseTrace(readFileSync(tracePath, "utf8"));
    expect(trace.issues, readFileSync(tracePath, "utf8").slice(0, 600)).toEqual([]);
    const analog = trace.lines.filter((l) => l.kind === "analog");
    expect(analog.length).toBeGreaterThan(200); // every 10 s for 45 min
    expect(analog.every((l) => l.kind === "analog" && l.analog === "bin1.temperature")).toBe(true);
    // TMP36: 0.5 V + 10 mV/°C; 15 °C ambient before the fire, far above 57 °C during it
    expect(analog[0]!.kind === "analog" && analog[0]!.value).toBeCloseTo(0.65, 1);
    expect(Math.max(...analog.map((l) => (l.kind === "analog" ? l.value : 0)))).toBeGreaterThan(1.07);

    const replaySub = await subscribe(broker.url, "roadside/fire-rr/#");
    const again = await replay({ ...common, loaded: site(), trace: tracePath });
    await replaySub.waitFor((m) => decodeAll(m).length >= again.committed);
    await replaySub.close();

    const fireLive = alarms(decodeAll(liveSub.messages), "fire");
    const fireReplay = alarms(decodeAll(replaySub.messages), "fire");
    expect(fireLive.length, `seed ${SEED}`).toBeGreaterThan(0);
    const bins = (msgs: typeof liveSub.messages) =>
      decodeAll(msgs)
        .filter((s) => s.msg.kind === "bin")
        .map((s) => s.msg.measures["temperatureMax"]?.v ?? s.msg.measures["temperature"]?.v);
    expect(bins(replaySub.messages)).toEqual(bins(liveSub.messages));
    expect(fireReplay.map((m) => [m.measures["state"]?.vs, m.windowStartMs])).toEqual(
      fireLive.map((m) => [m.measures["state"]?.vs, m.windowStartMs]),
    );
  });
});
