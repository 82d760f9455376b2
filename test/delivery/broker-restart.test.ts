import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeMessage } from "../../src/publish/envelope.js";
import { freePort, hasMosquitto, startMosquitto, subscribe } from "../helpers/brokers.js";
import { siteConfig, startRig, until } from "./rig.js";

/**
 * Mosquitto is restarted (SIGTERM, as a maintenance restart or an upgrade does) while the device
 * publishes a window every few milliseconds of real time. The broker keeps its sessions on disk
 * (persistence), so a subscriber with a persistent session misses nothing the broker acknowledged;
 * the device must resend whatever was unacknowledged when the broker went away and announce itself
 * again (retained status and manifest), because a broker may also come back without its retained
 * messages.
 */
describe.skipIf(!hasMosquitto())("Mosquitto restarted under load (sim seed 7)", () => {
  it("loses no summary and re-publishes status and manifest after the restart", async () => {
    const port = await freePort();
    const store = mkdtempSync(join(tmpdir(), "roadside-mosq-store-"));
    const conf = { port, extraConfig: ["persistence true", `persistence_location ${store}/`, "autosave_interval 1"] };
    let mosq = await startMosquitto(conf);
    const sub = await subscribe(mosq.url, "roadside/rst-1/#", {
      protocolVersion: 5,
      clean: false,
      clientId: "city-platform",
      properties: { sessionExpiryInterval: 3600 },
    });
    const rig = await startRig(siteConfig("rst-1", { windows: { default: "10s" } }), { brokerUrl: mosq.url });
    await rig.waitConnected();

    // load: virtual time runs in the background, a window (two summaries) every few ms of real time
    let running = true;
    const load = (async () => {
      while (running) {
        await rig.run(10);
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    await until(() => sub.messages.filter((m) => m.topic.includes("/traffic/")).length > 200, "traffic before the restart");
    const statusBefore = sub.messages.filter((m) => m.topic.endsWith("/status") && m.payload.toString() === "online").length;
    const manifestBefore = sub.messages.filter((m) => m.topic.endsWith("/manifest")).length;
    await mosq.stop();
    await new Promise((r) => setTimeout(r, 300));
    mosq = await startMosquitto(conf);
    await until(() => rig.device.session.stats().connects >= 2, "the device to reconnect");
    const afterRestart = sub.messages.length;
    await until(
      () => sub.messages.filter((m, i) => i >= afterRestart && m.topic.includes("/traffic/")).length > 200,
      "traffic after the restart",
    );
    running = false;
    await load;
    await rig.stop();
    await new Promise((r) => setTimeout(r, 300));
    await sub.close();
    await mosq.stop();

    const seqs = new Map<number, Buffer>();
    for (const m of sub.messages.filter((x) => x.topic.includes("/traffic/"))) {
      const seq = decodeMessage(m.payload).seq;
      const prev = seqs.get(seq);
      if (prev) expect(prev.equals(m.payload)).toBe(true);
      seqs.set(seq, m.payload);
    }
    const max = Math.max(...seqs.keys());
    expect([...seqs.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: max }, (_, i) => i + 1));
    // announced again after the restart, live (not only as an old retained copy)
    expect(sub.messages.filter((m) => m.topic.endsWith("/status") && m.payload.toString() === "online").length).toBeGreaterThan(
      statusBefore,
    );
    expect(sub.messages.filter((m) => m.topic.endsWith("/manifest")).length).toBeGreaterThan(manifestBefore);
  }, 120_000);

  it("a broker that comes back empty gets the retained status and manifest again", async () => {
    const port = await freePort();
    let mosq = await startMosquitto({ port });
    const rig = await startRig(siteConfig("rst-2"), { brokerUrl: mosq.url });
    await rig.waitConnected();
    await mosq.stop();
    mosq = await startMosquitto({ port }); // no persistence: retained messages are gone
    await until(() => rig.device.session.stats().connects >= 2, "the device to reconnect");
    // a subscriber arriving after the restart sees the device's retained state at once
    const late = await subscribe(mosq.url, "roadside/rst-2/+");
    await late.waitFor((m) => m.some((x) => x.topic.endsWith("/status")) && m.some((x) => x.topic.endsWith("/manifest")), 10_000);
    const status = late.messages.find((x) => x.topic.endsWith("/status"))!;
    expect(status.retain).toBe(true);
    expect(status.payload.toString()).toBe("online");
    const manifest = JSON.parse(late.messages.find((x) => x.topic.endsWith("/manifest"))!.payload.toString()) as { device: string };
    expect(manifest.device).toBe("rst-2");
    await late.close();
    await rig.stop();
    // a clean stop says offline (retained) itself; the LWT covers the unclean ones
    const after = await subscribe(mosq.url, "roadside/rst-2/status");
    await after.waitFor((m) => m.length > 0, 5000);
    expect(after.messages[0]!.payload.toString()).toBe("offline");
    await after.close();
    await mosq.stop();
  }, 60_000);
});
