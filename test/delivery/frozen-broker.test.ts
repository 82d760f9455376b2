import { createServer } from "node:net";
import type { AddressInfo, Server, Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeMessage } from "../../src/publish/envelope.js";
import { subscribe } from "../helpers/brokers.js";
import { siteConfig, startRig, until } from "./rig.js";

// A broker that takes the device's messages and never acknowledges them (frozen: overloaded, a bug,
// a half-dead link) while the outbox overflows (issue 12). The messages in flight may already be at
// the broker: they must be neither dropped (reported lost, yet they arrive) nor rewritten (a
// redelivery must be the same bytes under the same seq).

interface FrozenBroker {
  url: string;
  freeze(): void;
  thaw(): void;
  close(): Promise<void>;
}

async function startFrozenBroker(): Promise<FrozenBroker> {
  const { Aedes } = await import("aedes");
  let frozen = false;
  let held: (() => void)[] = [];
  const broker = await Aedes.createBroker({
    // the PUBACK is sent when this calls back: holding the callback holds the acknowledgement
    authorizePublish: (client, packet, callback) => {
      if (frozen && client && packet.topic.includes("/traffic/")) held.push(() => callback(null));
      else callback(null);
    },
  });
  const server: Server = createServer(broker.handle);
  const sockets = new Set<Socket>();
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    freeze: () => (frozen = true),
    thaw: () => {
      frozen = false;
      const h = held;
      held = [];
      for (const f of h) f();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => broker.close(() => r()));
    },
  };
}

describe("a frozen broker across commits with a full outbox", () => {
  let broker: FrozenBroker;
  beforeAll(async () => {
    broker = await startFrozenBroker();
  });
  afterAll(async () => {
    await broker?.close();
  });

  it("in-flight messages are never counted as dropped nor change bytes; the missing numbers are exactly the drops, each reported once", async () => {
    const sub = await subscribe(broker.url, "roadside/frozen-1/traffic/#");
    const bytes = new Map<number, Buffer>();
    let changed = 0;
    sub.client.on("message", (_t, payload) => {
      const seq = decodeMessage(payload).seq;
      const prev = bytes.get(seq);
      if (prev && !prev.equals(payload)) changed++;
      bytes.set(seq, Buffer.from(payload));
    });
    const rig = await startRig(siteConfig("frozen-1"), { brokerUrl: broker.url, outbox: { maxBytes: 8192 } });
    await rig.waitConnected();
    broker.freeze();
    await rig.run(3 * 3600); // 360 summaries into an 8 KiB outbox, 16 of them stuck in flight
    const st = rig.outbox.stats();
    expect(st.drops.routine).toBeGreaterThan(200);
    broker.thaw();
    await until(() => rig.outbox.stats().depth === 0, "the outbox to drain after the thaw");
    const drops = rig.outbox.stats().drops.routine;
    await rig.stop();
    await until(
      () => bytes.size > 0 && Math.max(...bytes.keys()) >= rig.outbox.stats().nextSeq - 1 - drops,
      "the last messages at the subscriber",
      10_000,
    ).catch(() => {});
    await new Promise((r) => setTimeout(r, 300));
    await sub.close();

    const maxSeq = Math.max(...bytes.keys());
    const missing: number[] = [];
    for (let s = 1; s <= maxSeq; s++) if (!bytes.has(s)) missing.push(s);
    // an in-flight message dropped and counted, that then arrived, would make these differ
    expect(missing.length).toBe(drops);
    expect(changed).toBe(0);
    // each loss reported exactly once on its lane
    let reported = 0;
    for (const p of bytes.values()) reported += decodeMessage(p).dropped?.count ?? 0;
    expect(reported).toBe(drops);
  }, 120_000);
});
