import { createServer } from "node:net";
import type { AddressInfo, Server } from "node:net";

export interface EmbeddedBroker {
  /** mqtt://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * An MQTT 3.1.1 broker (aedes) on loopback, for trying roadside out with no infrastructure and for
 * fast tests. Listens on `port`, or on any free port when that one is taken or `port` is 0.
 * Loopback only: it has no authentication and is not for production.
 */
export async function startEmbeddedBroker(port = 1883): Promise<EmbeddedBroker> {
  // imported here, not at the top: a device that talks to the city's broker never loads aedes
  const { Aedes } = await import("aedes");
  const broker = await Aedes.createBroker();
  const listen = (p: number): Promise<Server> =>
    new Promise((resolve, reject) => {
      const server = createServer(broker.handle);
      server.once("error", reject);
      server.listen(p, "127.0.0.1", () => {
        server.off("error", reject);
        resolve(server);
      });
    });
  let server: Server;
  try {
    server = await listen(port);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE" || port === 0) throw err;
    server = await listen(0);
  }
  const actual = (server.address() as AddressInfo).port;
  const sockets = new Set<import("node:net").Socket>();
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  return {
    url: `mqtt://127.0.0.1:${actual}`,
    port: actual,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}
