import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NS_PER_S } from "../../src/clock/clock.js";
import type { Logger } from "../../src/log/logger.js";
import type { EmbeddedBroker } from "../../src/mqtt/embedded.js";
import type { OutboxMessage } from "../../src/outbox/outbox.js";
import { startAedes } from "../helpers/brokers.js";
import { startSimDevice } from "../helpers/sim-device.js";

const TILT_LINE = 22;
const LID_LINE = 23;

/** Every line a device logs at warn or error, kept. */
function keptLogger(lines: string[]): Logger {
  const l: Logger = {
    debug: () => {},
    info: () => {},
    warn: (m) => lines.push(`warn: ${m}`),
    error: (m) => lines.push(`error: ${m}`),
    child: () => l,
  };
  return l;
}

describe("a bin stopped with its lid open or tipped over raises no alarm afterwards", () => {
  let broker: EmbeddedBroker;
  beforeAll(async () => {
    broker = await startAedes();
  });
  afterAll(async () => {
    await broker.close();
  });

  it("the pending lid and tilt alarms die with the device (found by the footprint bench: an alarm after the outbox closed)", async () => {
    const logged: string[] = [];
    const committed: OutboxMessage[] = [];
    let stopped = false;
    const afterStop: OutboxMessage[] = [];
    const dev = await startSimDevice(
      {
        device: { id: "bin-stop", board: "sim" },
        inputs: { "b.tilt": { line: TILT_LINE, activeLow: false }, "b.lid": { line: LID_LINE, activeLow: false } },
        bins: {
          bin1: {
            distance: { type: "maxbotix" as const, model: "hrxl" as const, port: { path: "sim1" } },
            emptyDistanceMm: 1100,
            fullDistanceMm: 350,
            tilt: { input: "b.tilt", debounce: 1, confirm: "2m" },
            lid: { input: "b.lid", debounce: 0.5, alarmAfter: "10m" },
            window: "30m",
          },
        },
        sim: { seed: 3, bins: { bin1: { depositsPerHour: 0 } } },
      },
      {
        brokerUrl: broker.url,
        logger: keptLogger(logged),
        deps: {
          onCommitted: (msgs) => {
            committed.push(...msgs);
            if (stopped) afterStop.push(...msgs);
          },
        },
      },
    );
    await dev.run(60);
    dev.site.board.setPin(LID_LINE, 1);
    dev.site.board.setPin(TILT_LINE, 1);
    await dev.run(30); // past both debounces, well before the 2 min tilt and 10 min lid alarms
    expect(committed.filter((m) => m.topic.includes("/alarm"))).toEqual([]);
    dev.site.stop();
    await dev.device.stop(5000);
    stopped = true;
    // the lid and tilt timers would have fired here
    await dev.clock.runUntil(dev.clock.monoNs() + 20 * 60 * NS_PER_S, { yieldEvery: 500 });
    dev.outbox.close();
    expect(afterStop.map((m) => m.topic)).toEqual([]);
    expect(logged.filter((l) => l.startsWith("error"))).toEqual([]);
  }, 60_000);
});
