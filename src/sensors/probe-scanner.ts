import type { ProbeSink, Radio } from "../privacy/raw.js";
import { mintRawIdentifier } from "../privacy/raw.js";

/**
 * Parser of a Wi-Fi/Bluetooth probe scanner (an ESP32-class module in promiscuous / BLE scan mode)
 * that prints one line per sighting (docs/privacy.md "Scanner line format"):
 *
 *     <kind>,<MAC>,<RSSI>\n        e.g.  ble,DA:A1:19:0B:37:5C,-67
 *
 * kind `wifi` or `ble` (any case); MAC 12 hex digits, optionally separated by `:` or `-` after
 * every pair; RSSI in dBm, an integer from −127 to 20; `\r\n` tolerated. Anything else on a line
 * (boot messages, line noise, a wrong baud rate) makes the line an error, counted by reason.
 *
 * Privacy: the address is parsed byte by byte into a 6-byte scratch Buffer (never a string),
 * handed to the gate, and zeroed when the gate returns or the line fails. Each received chunk is
 * zeroed once parsed (the serial stream's read pool with it). Errors are counts: nothing about a
 * line's bytes is kept, logged or reported. Never throws on input; memory is fixed (no line buffer).
 */

/** Why a line was rejected. */
export type ProbeLineError = "kind" | "address" | "rssi" | "truncated";

export interface ProbeScannerOptions {
  /** The privacy gate. */
  sink: ProbeSink;
  /** Sightings weaker than this (dBm) are dropped before the gate ever sees them. Default: keep all. */
  minRssiDbm?: number;
}

/**
 * Longest line that can be valid: `wifi,` + 17 + `,` + 4 + CR = 28 bytes. Every field is checked as
 * its bytes arrive, so a line fails before it gets longer than this, and the parser then skips to
 * the next LF without holding anything: its state is bounded however long the garbage.
 */
export const MAX_LINE_BYTES = 28;

const enum State {
  Kind,
  Address,
  Rssi,
  Skip,
}

// kind letters accumulated in a small integer: 5 bits per letter, up to 4 letters
const KIND_WIFI = code("wifi");
const KIND_BLE = code("ble");

function code(word: string): number {
  let c = 0;
  for (let i = 0; i < word.length; i++) c = c * 32 + (word.charCodeAt(i) - 0x60);
  return c;
}

function hexValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  const l = b | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x57;
  return -1;
}

export class ProbeScannerParser {
  private readonly scratch = Buffer.alloc(6);
  private state = State.Kind;
  private lineBytes = 0;
  private kind = 0;
  private kindLen = 0;
  private radio: Radio = "wifi";
  private nibbles = 0;
  /** Separator seen in this address (0 none yet); an address uses one kind or none. */
  private sep = 0;
  private rssi = 0;
  private rssiDigits = 0;
  private rssiSign = 1;
  private rssiSigned = false;
  private cr = false;
  private lastWasHex = false;

  /** Lines handed to the gate since start. */
  accepted = 0;
  /** Lines dropped for a weak signal. */
  weak = 0;
  /** Rejected lines by reason since start. */
  readonly errors: Record<ProbeLineError, number> = { kind: 0, address: 0, rssi: 0, truncated: 0 };
  /** Rejected lines since the last `takeErrors()` (per window). */
  private windowErrors = 0;

  constructor(private readonly opts: ProbeScannerOptions) {}

  /** Total rejected lines since start. */
  get errorCount(): number {
    const e = this.errors;
    return e.kind + e.address + e.rssi + e.truncated;
  }

  /** Rejected lines since the previous call. */
  takeErrors(): number {
    const n = this.windowErrors;
    this.windowErrors = 0;
    return n;
  }

  /** Bytes of the current line held in parser state (≤ MAX_LINE_BYTES; 0 while skipping a bad line). */
  get pendingBytes(): number {
    return this.state === State.Skip ? 0 : this.lineBytes;
  }

  /** Parse a chunk from the serial port, then zero it. */
  feed(chunk: Buffer, tNs: number): void {
    try {
      for (let i = 0; i < chunk.length; i++) this.byte(chunk[i]!, tNs);
    } finally {
      chunk.fill(0);
    }
  }

  /** Forget a partial line (port reopened: what follows is not its continuation). */
  reset(): void {
    if (this.lineBytes > 0 && this.state !== State.Skip) this.fail("truncated");
    this.endLine();
  }

  private byte(b: number, tNs: number): void {
    if (b === 0x0a) {
      this.newline(tNs);
      return;
    }
    if (this.state === State.Skip) return;
    this.lineBytes++;
    if (b === 0x0d || this.cr) {
      // CR is only allowed right before LF
      if (this.cr) {
        this.skip(this.field());
        return;
      }
      this.cr = true;
      return;
    }
    switch (this.state) {
      case State.Kind:
        if (b === 0x2c) {
          if (this.kindLen === 4 && this.kind === KIND_WIFI) this.radio = "wifi";
          else if (this.kindLen === 3 && this.kind === KIND_BLE) this.radio = "ble";
          else {
            this.skip("kind");
            return;
          }
          this.state = State.Address;
          return;
        }
        {
          const l = b | 0x20;
          if (l < 0x61 || l > 0x7a || this.kindLen >= 4) {
            this.skip("kind");
            return;
          }
          this.kind = this.kind * 32 + (l - 0x60);
          this.kindLen++;
        }
        return;
      case State.Address: {
        const h = hexValue(b);
        if (h >= 0) {
          if (this.nibbles >= 12) {
            this.skip("address");
            return;
          }
          // a separator, once used, must follow every pair
          if (this.sep !== 0 && this.nibbles % 2 === 0 && this.nibbles > 0 && this.lastWasHex) {
            this.skip("address");
            return;
          }
          const i = this.nibbles >> 1;
          this.scratch[i] = this.nibbles % 2 === 0 ? h << 4 : this.scratch[i]! | h;
          this.nibbles++;
          this.lastWasHex = true;
          return;
        }
        if (b === 0x3a || b === 0x2d) {
          if (this.nibbles === 0 || this.nibbles % 2 !== 0 || this.nibbles >= 12 || !this.lastWasHex) {
            this.skip("address");
            return;
          }
          if (this.sep === 0) {
            if (this.nibbles !== 2) {
              this.skip("address");
              return;
            }
            this.sep = b;
          } else if (this.sep !== b) {
            this.skip("address");
            return;
          }
          this.lastWasHex = false;
          return;
        }
        if (b === 0x2c && this.nibbles === 12 && this.lastWasHex) {
          this.state = State.Rssi;
          return;
        }
        this.skip("address");
        return;
      }
      case State.Rssi:
        if (b >= 0x30 && b <= 0x39) {
          if (this.rssiDigits >= 3) {
            this.skip("rssi");
            return;
          }
          this.rssi = this.rssi * 10 + (b - 0x30);
          this.rssiDigits++;
          return;
        }
        if ((b === 0x2d || b === 0x2b) && !this.rssiSigned && this.rssiDigits === 0) {
          this.rssiSigned = true;
          this.rssiSign = b === 0x2d ? -1 : 1;
          return;
        }
        this.skip("rssi");
        return;
    }
  }

  private newline(tNs: number): void {
    if (this.state === State.Skip) {
      this.endLine();
      return;
    }
    if (this.state === State.Rssi && this.rssiDigits > 0) {
      const rssi = this.rssiSign * this.rssi;
      if (rssi < -127 || rssi > 20) {
        this.fail("rssi");
      } else if (this.opts.minRssiDbm !== undefined && rssi < this.opts.minRssiDbm) {
        this.weak++;
      } else {
        this.accepted++;
        try {
          this.opts.sink.sighting(this.radio, mintRawIdentifier(this.scratch), rssi, tNs);
        } finally {
          this.scratch.fill(0);
        }
      }
    } else if (this.lineBytes > (this.cr ? 1 : 0)) {
      // something, but not a whole line (an empty line is no error)
      this.fail(this.field());
    }
    this.endLine();
  }

  /** The field being parsed, as the reason for a line that ends or breaks inside it. */
  private field(): ProbeLineError {
    if (this.state === State.Address) return "address";
    if (this.state === State.Rssi) return "rssi";
    return this.kindLen > 0 ? "kind" : "truncated";
  }

  private skip(reason: ProbeLineError): void {
    this.fail(reason);
    this.state = State.Skip;
    this.scratch.fill(0);
  }

  private fail(reason: ProbeLineError): void {
    this.errors[reason]++;
    this.windowErrors++;
  }

  private endLine(): void {
    this.scratch.fill(0);
    this.state = State.Kind;
    this.lineBytes = 0;
    this.kind = 0;
    this.kindLen = 0;
    this.nibbles = 0;
    this.sep = 0;
    this.rssi = 0;
    this.rssiDigits = 0;
    this.rssiSign = 1;
    this.rssiSigned = false;
    this.cr = false;
    this.lastWasHex = false;
  }
}
