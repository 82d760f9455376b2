import { createServer, Socket } from "node:net";
import type { AddressInfo, Server } from "node:net";

/**
 * A TCP relay between a device and its broker that a test can cut and restore: the cellular link
 * of a roadside cabinet going down for days, while the broker and its subscribers stay up.
 * While cut, open connections are reset and new ones are accepted and reset at once, as a dead
 * modem's NAT would.
 */
export interface Link {
  readonly url: string;
  readonly port: number;
  /** Connections accepted while up. */
  readonly accepted: number;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startLink(targetPort: number, targetHost = "127.0.0.1"): Promise<Link> {
  let up = true;
  let accepted = 0;
  const pairs = new Set<[Socket, Socket]>();
  const server: Server = createServer((client) => {
    if (!up) {
      client.destroy();
      return;
    }
    accepted++;
    const upstream = new Socket();
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const end = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
    upstream.connect(targetPort, targetHost, () => {
      client.pipe(upstream);
      upstream.pipe(client);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    get accepted() {
      return accepted;
    },
    cut() {
      up = false;
      for (const [a, b] of [...pairs]) {
        a.destroy();
        b.destroy();
      }
      pairs.clear();
    },
    restore() {
      up = true;
    },
    close: async () => {
      up = false;
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
