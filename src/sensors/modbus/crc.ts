/**
 * The Modbus RTU CRC-16 (polynomial 0xA001 reflected, initial 0xFFFF; Modbus over Serial Line v1.02
 * §6.2.2), sent low byte first. The client side uses modbus-serial's; this copy is for the
 * simulator and doctor, which build and check frames themselves.
 */
export function crc16(bytes: Uint8Array, end = bytes.length): number {
  let crc = 0xffff;
  for (let i = 0; i < end; i++) {
    crc ^= bytes[i]!;
    for (let j = 0; j < 8; j++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

/** `bytes` with its CRC appended. */
export function withCrc(bytes: Uint8Array): Buffer {
  const out = Buffer.alloc(bytes.length + 2);
  out.set(bytes);
  out.writeUInt16LE(crc16(bytes), bytes.length);
  return out;
}

/** True when the last two bytes are the CRC of the rest. */
export function crcOk(frame: Uint8Array): boolean {
  return frame.length >= 4 && crc16(frame, frame.length - 2) === (frame[frame.length - 2]! | (frame[frame.length - 1]! << 8));
}

/** A read request (function 03 or 04) as a master sends it (Modbus Application Protocol v1.1b3 §6.3, §6.4). */
export function readRequest(unitId: number, fc: 3 | 4, address: number, count: number): Buffer {
  const b = Buffer.alloc(6);
  b[0] = unitId;
  b[1] = fc;
  b.writeUInt16BE(address, 2);
  b.writeUInt16BE(count, 4);
  return withCrc(b);
}
