import type { MqttClient } from "mqtt";

type Handler = (topic: string, payload: Buffer, properties: Record<string, unknown> | undefined) => void;

interface Held {
  client: MqttClient;
  topic: string;
  payload: Buffer;
  properties: Record<string, unknown> | undefined;
  /** Sends the PUBACK (and lets mqtt.js read on); undefined until mqtt.js asks for it. */
  ack?: () => void;
}

/**
 * Messages that arrive before a session's owner is ready for them. A device connects while its
 * inputs start (issue 15: start-up), and a persistent session's commands, queued at the broker while
 * the device was down, arrive right after CONNACK, before the command handler has subscribed. They are
 * held, handled at release(), and acknowledged only then, so a device that dies while starting gets
 * them again at its next connect (test/delivery/held-commands.test.ts).
 */
export class InboundHold {
  private held: Held[] = [];

  /** `ready`: whether the owner takes messages now (the session's start() was called). */
  constructor(
    private readonly dispatch: Handler,
    private readonly ready: () => boolean,
  ) {}

  /** Route a new client's messages through the hold; call before it connects. */
  attach(c: MqttClient): void {
    c.on("message", (topic, payload, packet) => {
      const properties = packet.properties as Record<string, unknown> | undefined;
      if (this.ready()) this.dispatch(topic, payload, properties);
      else this.held.push({ client: c, topic, payload, properties });
    });
    // mqtt.js emits "message", then sends the PUBACK when this calls back, and reads no further
    // packet from the connection until then
    c.handleMessage = (_packet, callback) => {
      const last = this.held.at(-1);
      if (this.ready() || !last || last.client !== c || last.ack) callback();
      else last.ack = () => callback();
    };
  }

  /** The owner is ready: the held messages are handled now, in order, then acknowledged. */
  release(): void {
    const held = this.held.splice(0);
    for (const m of held) this.dispatch(m.topic, m.payload, m.properties);
    for (const m of held) m.ack?.();
  }

  /** Whether a message of `c` waits: mqtt.js reads nothing more on that connection (no PUBACK for what it sent) until it is acknowledged. */
  blocks(c: MqttClient): boolean {
    return this.held.some((m) => m.client === c);
  }

  /** Forget the held messages (of `c`, or all) without acknowledging them: the broker sends them again. */
  drop(c?: MqttClient): void {
    this.held = c ? this.held.filter((m) => m.client !== c) : [];
  }
}
