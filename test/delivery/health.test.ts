import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HealthReport } from "../../src/control/health-report.js";
import { linuxSystemProbe } from "../../src/control/system.js";
import type { EmbeddedBroker } from "../../src/mqtt/embedded.js";
import { startAedes, subscribe } from "../helpers/brokers.js";
import type { Link } from "./link.js";
import { startLink } from "./link.js";
import { siteConfig, startRig, until } from "./rig.js";

describe("…/health heartbeat (virtual time, sim seed 7)", () => {
  let broker: EmbeddedBroker;
  let link: Link;
  beforeAll(async () => {
    broker = await startAedes();
    link = await startLink(broker.port);
  });
  afterAll(async () => {
    await link?.close();
    await broker?.close();
  });

  it("beats at the configured interval with every field, pauses while cut off, and tells the outage at reconnect", async () => {
    const dir = mkdtempSync(join(tmpdir(), "roadside-health-"));
    const temp = join(dir, "temp");
    writeFileSync(temp, "48250\n"); // millidegrees, as /sys/class/thermal/thermal_zone0/temp
    const sub = await subscribe(broker.url, "roadside/hb-1/health");
    const reports = (): HealthReport[] => sub.messages.map((m) => JSON.parse(m.payload.toString()) as HealthReport);
    const rig = await startRig(siteConfig("hb-1", { health: { interval: "30s" } }), {
      brokerUrl: link.url,
      system: linuxSystemProbe(temp),
    });
    rig.device.health.register("sensor.test", () => ({ fault: "no-activity", since: "2026-01-05T00:03:00Z" }));
    await rig.waitConnected();
    await until(() => sub.messages.length >= 1, "the heartbeat sent at connect");
    await rig.run(5 * 60);
    await until(() => sub.messages.length >= 11, "ten more heartbeats in five minutes");
    const r = reports()[reports().length - 1]!;
    expect(r).toMatchObject({
      health: 1,
      device: "hb-1",
      timeq: "synced",
      software: { name: "roadside", version: "9.9.9-test" },
      configHash: rig.device.manifest().configHash,
      cpuTempC: 48.3,
      clock: { synced: true, jumps: 0 },
      mqtt: { state: "connected", reconnects: 0, disconnects: 0 },
      outbox: { dropped: { routine: 0, alarms: 0, expired: 0, damaged: 0, interrupted: 0 }, lastLoss: null },
      sections: { "sensor.test": { fault: "no-activity" } },
    });
    expect(r.uptimeS).toBeGreaterThanOrEqual(300);
    expect(r.disk!.freeBytes).toBeGreaterThan(0);
    expect(r.disk!.totalBytes).toBeGreaterThanOrEqual(r.disk!.freeBytes);
    // the heartbeats after the connect one are exactly one interval apart, on the device clock
    const times = reports()
      .slice(1)
      .map((x) => Date.parse(x.time));
    expect(times.slice(1).map((t, i) => t - times[i]!)).toEqual(times.slice(1).map(() => 30_000));

    link.cut();
    await until(() => rig.device.session.state !== "connected", "the device to notice the cut");
    const during = sub.messages.length;
    await rig.run(30 * 60);
    expect(sub.messages.length).toBe(during); // no heartbeat stored or sent while offline
    rig.clock.jumpWall(2000); // NTP steps the clock meanwhile
    link.restore();
    await until(() => sub.messages.length > during, "a heartbeat at reconnect");
    const back = reports()[during]!;
    expect(back.mqtt).toMatchObject({ connects: 2, reconnects: 1, disconnects: 1 });
    expect(back.outbox.depth).toBeGreaterThanOrEqual(58);
    expect(back.outbox.oldestAgeS).toBeGreaterThanOrEqual(29 * 60);
    expect(back.clock.jumps).toBe(1);
    await rig.stop();
    await sub.close();
  }, 60_000);

  it("reports null for a board without a thermal zone", () => {
    expect(linuxSystemProbe("/nonexistent/thermal").cpuTempC()).toBeNull();
    expect(linuxSystemProbe().disk("/nonexistent/dir")).toBeNull();
  });
});
