import type { MqttClient } from "mqtt";

interface Packet {
  cmd: string;
  messageId?: number;
  reasonCode?: number;
}
type SendPacket = (packet: Packet, cb?: (err?: Error) => void, cbStorePut?: unknown) => void;

/**
 * PUBACKs sent only when the caller says so (after the database commit).
 *
 * MQTT.js's `customHandleAcks` lets a handler choose *when* to acknowledge, but it handles incoming
 * packets one at a time: holding that callback until a commit would stop every later message until
 * then, one message per transaction (MQTT.js 5.x, lib/handlers/publish.ts and the packet work queue in
 * client.ts). So the handler calls back at once, and the PUBACK that MQTT.js then sends is held here
 * instead, by wrapping the client's packet writer, until `release`. The broker keeps delivering up to
 * the Receive Maximum we announced (MQTT 5 §3.1.2.11.3) while a batch commits.
 *
 * A PUBACK held on a connection that has since closed is never sent: the broker delivers that message
 * again on the next connection (persistent session), and the database drops it as a duplicate.
 */
export class HeldAcks {
  private readonly held = new Set<number>();
  private connection = 0;
  private readonly send: SendPacket;

  constructor(client: MqttClient) {
    const internals = client as unknown as { _sendPacket: SendPacket };
    this.send = internals._sendPacket.bind(client);
    internals._sendPacket = (packet, cb, cbStorePut) => {
      if (packet.cmd === "puback" && packet.messageId !== undefined && this.held.has(packet.messageId)) {
        cb?.();
        return;
      }
      this.send(packet, cb, cbStorePut);
    };
    client.on("close", () => {
      this.connection++;
      this.held.clear();
    });
  }

  /** Take over the PUBACK of this message; call the result after its row is committed. */
  hold(messageId: number | undefined): () => void {
    if (messageId === undefined) return () => {};
    this.held.add(messageId);
    const connection = this.connection;
    return () => {
      if (connection !== this.connection || !this.held.delete(messageId)) return;
      this.send({ cmd: "puback", messageId, reasonCode: 0 });
    };
  }

  /** PUBACKs waiting for a commit. */
  get pending(): number {
    return this.held.size;
  }
}
