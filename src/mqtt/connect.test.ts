import { createServer, type Server } from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectMqtt } from "./connect.js";

/** An aedes broker on loopback that keeps the credentials each CONNECT carried. */
async function credentialBroker(): Promise<{ port: number; seen: { username?: string; password?: string }[]; close(): Promise<void> }> {
  const { Aedes } = await import("aedes");
  const broker = await Aedes.createBroker();
  const seen: { username?: string; password?: string }[] = [];
  broker.authenticate = (_client, username, password, done) => {
    seen.push({ ...(username !== undefined ? { username } : {}), ...(password ? { password: password.toString() } : {}) });
    done(null, true);
  };
  const server: Server = createServer(broker.handle);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: async () => {
      await new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => broker.close(() => r()));
    },
  };
}

function connected(url: string, opts: Parameters<typeof connectMqtt>[1] = {}): Promise<void> {
  const c = connectMqtt(url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts });
  return new Promise((resolve, reject) => {
    c.once("connect", () => c.end(true, {}, () => resolve()));
    c.once("error", (err) => {
      c.end(true);
      reject(err);
    });
  });
}

describe("connectMqtt: mqtt.js's client over Node's net and tls, without its WebSocket and SOCKS transports", () => {
  let b: Awaited<ReturnType<typeof credentialBroker>>;
  beforeAll(async () => {
    b = await credentialBroker();
  });
  afterAll(async () => {
    await b.close();
  });

  it("connects with mqtt:// and tcp://, taking percent-encoded credentials from the URL as mqtt.connect does", async () => {
    await connected(`mqtt://dev%401:p%3Ass@127.0.0.1:${b.port}`, { clientId: "c1" });
    await connected(`tcp://127.0.0.1:${b.port}`, { clientId: "c2", username: "from-options", password: "x" });
    expect(b.seen).toEqual([
      { username: "dev@1", password: "p:ss" },
      { username: "from-options", password: "x" },
    ]);
  });

  it("options win over the URL's credentials", async () => {
    b.seen.length = 0;
    await connected(`mqtt://url-user:url-pass@127.0.0.1:${b.port}`, { clientId: "c3", username: "opt-user", password: "opt-pass" });
    expect(b.seen).toEqual([{ username: "opt-user", password: "opt-pass" }]);
  });

  it("an unclean session without a client id is refused before connecting, as in mqtt.js", () => {
    expect(() => connectMqtt(`mqtt://127.0.0.1:${b.port}`, { clean: false, clientId: "" })).toThrow(/Missing clientId/);
  });

  it("mqtts:// to a plain TCP port fails with a TLS error, not a hang", async () => {
    await expect(connected(`mqtts://127.0.0.1:${b.port}`, { clientId: "c4" })).rejects.toThrow();
  });

  it("ws:// still goes through mqtt.connect (its WebSocket transport)", () => {
    const c = connectMqtt("ws://127.0.0.1:1/mqtt", { reconnectPeriod: 0 });
    expect(c.options.protocol).toBe("ws");
    c.end(true);
  });
});
