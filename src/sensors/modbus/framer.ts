import { EventEmitter } from "node:events";

/**
 * The port modbus-serial's `ModbusRTU` talks to, over one of our serial links. modbus-serial expects
 * each `data` event to be one whole response; a serial link delivers chunks without framing. RTU
 * frames end with 3.5 character times of silence, which a Linux tty read cannot see, so the length
 * comes from the request instead (as modbus-serial's own RTUBufferedPort does): a read of n
 * registers is answered by 5 + 2n bytes, an exception by 5.
 *
 * Bytes that are not the awaited answer (line noise, a late answer to a request that timed out) are
 * dropped when the next request is written, never handed on.
 */
export class RtuFramer extends EventEmitter {
  /** Unit id and function code awaited, and the normal answer's length; 0 when nothing is awaited. */
  private unit = 0;
  private fc = 0;
  private length = 0;
  private buf: Buffer = Buffer.alloc(0);
  opened = false;
  /** Bytes dropped: not part of an awaited answer. */
  droppedBytes = 0;

  constructor(private readonly send: (data: Buffer) => void) {
    super();
  }

  get isOpen(): boolean {
    return this.opened;
  }

  // modbus-serial's port interface: the link is opened and closed by the bus, not by the client
  open(callback: (err: Error | null) => void): void {
    callback(null);
  }

  close(callback?: (err?: Error | null) => void): void {
    callback?.(null);
  }

  write(data: Buffer): void {
    this.droppedBytes += this.buf.length;
    this.buf = Buffer.alloc(0);
    this.unit = data[0] ?? 0;
    this.fc = data[1] ?? 0;
    this.length = this.fc === 3 || this.fc === 4 ? 5 + 2 * (data.readUInt16BE(4) || 0) : 8;
    this.send(data);
  }

  /** Nothing is awaited any more (the request timed out). */
  abandon(): void {
    this.length = 0;
  }

  /** Bytes from the link. */
  receive(chunk: Buffer): void {
    if (this.length === 0) {
      this.droppedBytes += chunk.length;
      return;
    }
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    // skip to the first byte that can start the answer (the unit id and our function, or its exception)
    let i = 0;
    while (i + 1 < this.buf.length && !(this.buf[i] === this.unit && (this.buf[i + 1]! & 0x7f) === this.fc)) i++;
    if (i > 0) {
      this.droppedBytes += i;
      this.buf = this.buf.subarray(i);
    }
    if (this.buf.length < 2) return;
    const need = this.buf[1]! & 0x80 ? 5 : this.length;
    if (this.buf.length < need) return;
    const frame = this.buf.subarray(0, need);
    this.droppedBytes += this.buf.length - need;
    this.buf = Buffer.alloc(0);
    this.length = 0;
    this.emit("data", frame);
  }
}
