import { describe, expect, it } from "vitest";
import { NS_PER_S } from "../../src/clock/clock.js";
import { VirtualClock } from "../../src/clock/virtual.js";
import type { DigitalInputHandlers, DigitalInputs, Level } from "../../src/io/contract.js";
import { silentLogger } from "../../src/log/logger.js";
import { SqliteOutbox } from "../../src/outbox/sqlite.js";
import { decodeMessage } from "../../src/publish/envelope.js";
import { Device } from "../../src/runtime.js";
import { mustLoad } from "../helpers/sim-device.js";

/** A backend double: the test drives edges and drop reports by hand. */
class HandInputs implements DigitalInputs {
  readonly timestampSource = "virtual" as const;
  handlers: DigitalInputHandlers | undefined;
  async open(_specs: unknown, handlers: DigitalInputHandlers): Promise<void> {
    this.handlers = handlers;
  }
  level(): Level {
    return 0;
  }
  async close(): Promise<void> {}
}

describe("edges the backend reports lost", () => {
  it("reach the detector that claimed the input and show in its window's quality", async () => {
    const loaded = mustLoad({
      device: { id: "drop-1", board: "sim" },
      inputs: { "a.up": { line: 17 }, "b.up": { line: 22 } },
      detectors: { a: { loops: ["a.up"] }, b: { loops: ["b.up"] } },
      windows: { default: "10s" },
    });
    const clock = new VirtualClock({ startWallMs: Date.UTC(2026, 0, 5, 7, 0, 0) });
    const inputs = new HandInputs();
    const outbox = SqliteOutbox.open({ path: ":memory:", now: () => clock.wallMs() });
    const device = new Device(loaded, { clock, logger: silentLogger, inputs, outbox, brokerUrl: "mqtt://127.0.0.1:1" });
    await device.start();
    clock.setTimer(3 * NS_PER_S, () => inputs.handlers!.dropped(0, 4, clock.monoNs())); // 4 edges lost on a.up
    clock.advanceTo(11 * NS_PER_S);
    const msgs = outbox.pending(100, new Set()).map((m) => ({ topic: m.topic, msg: decodeMessage(m.payload) }));
    await device.stop(0);
    outbox.close();
    const a = msgs.find((m) => m.topic.endsWith("/traffic/a"))!.msg;
    const b = msgs.find((m) => m.topic.endsWith("/traffic/b"))!.msg;
    expect(a.measures["quality.dropped"]?.v).toBe(4);
    expect(b.measures["quality.dropped"]?.v ?? 0).toBe(0);
  });
});
