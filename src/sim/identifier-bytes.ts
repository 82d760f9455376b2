import { createHash } from "node:crypto";

/**
 * The simulator's identifiers and the bytes its sensors send. Identifiers are derived from the
 * seed and a number (SHA-256), never stored: a scenario keeps only numbers, and a test that knows
 * the seed re-derives the identifiers it must search for. Everything here builds Buffers byte by
 * byte; no identifier ever becomes a JavaScript string.
 */

/** Address ids: person p's global Wi-Fi address is 4p, public BLE address 4p+1; randomised ones 4r+2 (Wi-Fi), 4r+3 (BLE). */
export function isRandomAddressId(id: number): boolean {
  return id % 4 >= 2;
}

function digest(label: string, seed: number, a: string, id: number): Buffer {
  const n = Buffer.alloc(12);
  n.writeUInt32BE(seed >>> 0, 0);
  n.writeDoubleBE(id, 4);
  const d = createHash("sha256").update(label).update(a).update(n).digest();
  n.fill(0);
  return d;
}

/**
 * The 6-byte address of simulated address `id` at scanner `scanner`. Randomised addresses have the
 * locally-administered bit (0x02 of the first octet) set, and random BLE addresses also the two top
 * bits of a static random address; global ones have it clear. Multicast bit (0x01) always clear.
 */
export function simProbeAddress(seed: number, scanner: string, id: number): Buffer {
  const d = digest("roadside-sim-mac", seed, scanner, id);
  const out = Buffer.alloc(6);
  d.copy(out, 0, 0, 6);
  d.fill(0);
  const kind = id % 4;
  if (kind === 2) out[0] = (out[0]! & 0xfc) | 0x02;
  else if (kind === 3) out[0] = (out[0]! & 0xfc) | 0xc2;
  else out[0] = out[0]! & 0xfc;
  return out;
}

/** The 5 data bytes of simulated user `user`'s RFID card (version byte + 32-bit card number). */
export function simTag(seed: number, user: number): Buffer {
  const d = digest("roadside-sim-tag", seed, "", user);
  const out = Buffer.alloc(5);
  d.copy(out, 0, 0, 5);
  d.fill(0);
  return out;
}

const HEX = Buffer.from("0123456789ABCDEF", "latin1");
const WIFI = Buffer.from("wifi,", "latin1");
const BLE = Buffer.from("ble,", "latin1");

/** A probe-scanner line `<kind>,<AA:BB:CC:DD:EE:FF>,<rssi>\r\n`, built without strings. */
export function scannerLine(radio: "wifi" | "ble", address: Buffer, rssiDbm: number, crlf = true): Buffer {
  const head = radio === "wifi" ? WIFI : BLE;
  const rssi = Math.round(rssiDbm);
  const abs = Math.abs(rssi);
  const digits = abs >= 100 ? 3 : abs >= 10 ? 2 : 1;
  const out = Buffer.alloc(head.length + 17 + 1 + (rssi < 0 ? 1 : 0) + digits + (crlf ? 2 : 1));
  let o = head.copy(out, 0);
  for (let i = 0; i < 6; i++) {
    if (i > 0) out[o++] = 0x3a;
    out[o++] = HEX[address[i]! >> 4]!;
    out[o++] = HEX[address[i]! & 15]!;
  }
  out[o++] = 0x2c;
  if (rssi < 0) out[o++] = 0x2d;
  for (let p = digits - 1, v = abs; p >= 0; p--, v = Math.floor(v / 10)) out[o + p] = 0x30 + (v % 10);
  o += digits;
  if (crlf) out[o++] = 0x0d;
  out[o++] = 0x0a;
  return out;
}

/** An RDM6300 frame for a 5-byte tag: 0x02, 10 hex, 2 hex XOR checksum, 0x03. `corrupt` breaks the checksum. */
export function rdm6300Frame(tag: Buffer, corrupt = false): Buffer {
  const out = Buffer.alloc(14);
  out[0] = 0x02;
  let x = 0;
  for (let i = 0; i < 5; i++) {
    x ^= tag[i]!;
    out[1 + 2 * i] = HEX[tag[i]! >> 4]!;
    out[2 + 2 * i] = HEX[tag[i]! & 15]!;
  }
  if (corrupt) x ^= 0x5a;
  out[11] = HEX[x >> 4]!;
  out[12] = HEX[x & 15]!;
  out[13] = 0x03;
  return out;
}
