import type { MqttClient } from "mqtt";

/**
 * TLS 1.3 with AES-GCM or ChaCha20-Poly1305 wraps each record in a 5 B header, a 1 B inner content
 * type and a 16 B tag (RFC 8446 §5.2); mqtt.js writes one packet per record.
 */
export const TLS_RECORD_BYTES = 22;
/**
 * One TLS 1.3 handshake, both ways, estimated: measured through a counting proxy at 1.8 kB with a
 * self-signed P-256 certificate and 2.3 kB with RSA-2048 (two session tickets included); a public
 * CA's chain sends an intermediate certificate too (about 1.3 kB more), hence 4 kB.
 */
export const TLS_HANDSHAKE_BYTES = 4096;

/** Bytes of the MQTT fixed header in front of a remaining length of `n` (MQTT 5 §2.1.4). */
function fixedHeader(n: number): number {
  return n < 128 ? 2 : n < 16_384 ? 3 : n < 2_097_152 ? 4 : 5;
}

/**
 * Count the bytes one mqtt.js client puts on the wire and takes off it (docs/delivery.md "Monthly
 * byte budget"): the MQTT bytes exactly (what the client wrote to its stream; what the parser read,
 * from each packet's remaining length), plus, over TLS, a record per packet and a handshake per
 * connection. IP and TCP headers are not counted. Returns a function that settles what was written
 * since the last call (call it before reading the count).
 */
export function countWire(c: MqttClient, tls: boolean, onBytes: (bytes: number) => void): () => void {
  const record = tls ? TLS_RECORD_BYTES : 0;
  let written = 0;
  // a socket's count includes what waits in its buffer: a connection that never came up sent nothing
  let linked = false;
  (c.stream as { once?: (e: string, f: () => void) => void } | undefined)?.once?.("connect", () => {
    linked = true;
  });
  const settle = (): void => {
    if (!linked) return;
    const s = c.stream as { bytesWritten?: number } | undefined;
    const now = s?.bytesWritten ?? written;
    if (now > written) onBytes(now - written);
    written = now;
  };
  c.on("packetsend", () => {
    // emitted before the packet is written: the stream's count so far covers the packets before it
    settle();
    if (record > 0) onBytes(record);
  });
  c.on("packetreceive", (p) => {
    const n = (p as { length?: number }).length ?? 0;
    onBytes(fixedHeader(n) + n + record);
  });
  c.on("close", settle);
  // mqtt.connect wrote the CONNECT before anyone could listen: its record goes with the handshake,
  // counted once the handshake is done (a broker that cannot be reached costs nothing)
  if (tls)
    (c.stream as { once?: (e: string, f: () => void) => void } | undefined)?.once?.("secureConnect", () =>
      onBytes(TLS_HANDSHAKE_BYTES + record),
    );
  return settle;
}
