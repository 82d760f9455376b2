import { describe, expect, it } from "vitest";
import { NS_PER_S } from "../../src/clock/clock.js";
import { VirtualClock } from "../../src/clock/virtual.js";
import type { FeatureContext } from "../../src/features/feature.js";
import { IdentifierPort } from "../../src/features/identifier-port.js";
import type { SerialHandlers, SerialOpenOptions, SerialPortLink, SerialSpec } from "../../src/io/contract.js";
import { SerialLink } from "../../src/io/serial.js";
import { createLogger } from "../../src/log/logger.js";
import { SimSerialBus } from "../../src/sim/serial.js";

const spec: SerialSpec = { name: "ped1", path: "/dev/ttySIM3", baudRate: 115200, dataBits: 8, parity: "none", stopBits: 1 };

/**
 * One retry layer per serial port (issue 16): an identifier sensor missing at start is retried by
 * its SerialLink with the shared jittered backoff, not by a timer of the feature's own.
 */
describe("IdentifierPort: a sensor missing at start", () => {
  it("is retried by the link, counts once it appears, and says so once each way", async () => {
    const clock = new VirtualClock();
    const bus = new SimSerialBus(() => clock.yieldSoon());
    const lines: string[] = [];
    const logger = createLogger({ format: "text", level: "info", write: (l) => lines.push(l), now: () => clock.wallMs() });
    const links: SerialPortLink[] = [];
    const ctx = {
      clock,
      logger,
      openSerial: async (s: SerialSpec, h: SerialHandlers, o?: SerialOpenOptions) => {
        const link = new SerialLink({ binding: bus.binding, clock, logger, random: () => 0.5, settle: () => clock.yieldSoon() });
        await link.open(s, h, o);
        links.push(link);
        return link;
      },
    } as unknown as FeatureContext;
    const chunks: Buffer[] = [];
    const port = new IdentifierPort(ctx, spec, "probe scanner", { feed: (c) => chunks.push(Buffer.from(c)), reset: () => {} });

    await port.start();
    expect(port.state).toBe("missing");
    expect(links).toHaveLength(1); // the device holds the link, so its stop ends the retry
    clock.setTimer(5 * NS_PER_S, () => bus.createDevice(spec.path, spec.baudRate));
    clock.setTimer(20 * NS_PER_S, () => bus.device(spec.path)!.emit("x"));
    await clock.runUntil(30 * NS_PER_S);
    expect(port.state).toBe("open");
    expect(Buffer.concat(chunks).toString()).toBe("x");
    const said = lines.join("");
    expect(said.match(/counts nothing until it opens \(retrying\)/g)).toHaveLength(1);
    expect(said).toContain("probe scanner ped1: port /dev/ttySIM3 is open");
    expect(said).not.toContain("is back");
    await links[0]!.close();
    port.stop();
    expect(clock.pendingTimers()).toBe(0);
  });
});
