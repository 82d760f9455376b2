/**
 * The raw-identifier boundary (DESIGN.md "Privacy boundary").
 *
 * A `RawIdentifier` is the bytes of a MAC address or an RFID tag number, in a Buffer — never a
 * JavaScript string, because strings cannot be wiped and linger in the heap until the GC gets to
 * them. Only the identifier parsers (`src/sensors/probe-scanner.ts`, `src/sensors/rdm6300.ts`) may
 * mint one, and only the privacy gate (`src/privacy/`) may consume one. The type system carries
 * the rule: the brand and the `GATE` mark below can only be named by importing this module, and
 * `boundary.test.ts` fails if any other production module imports it.
 *
 * Lifetime: a RawIdentifier is valid only during the sink call it is passed to. The parser owns the
 * buffer and zeroes it as soon as the call returns; a sink must never keep a reference, copy it,
 * or turn it into a string.
 */

declare const RAW: unique symbol;

/** Bytes of one identifier, between a parser and the gate. See the module comment. */
export type RawIdentifier = Buffer & { readonly [RAW]: true };

/**
 * Marks the privacy gate. Sinks must carry it, so a sink cannot be written as an object literal
 * (which could log or keep the identifier) without importing this module.
 */
export const GATE: unique symbol = Symbol("roadside.privacy-gate");

/** Brand a parser's scratch buffer. For identifier parsers only. */
export function mintRawIdentifier(bytes: Buffer): RawIdentifier {
  return bytes as RawIdentifier;
}

/** Radio a probe scanner heard the address on. */
export type Radio = "wifi" | "ble";

/** Where a probe-scanner parser hands each sighting: the privacy gate. */
export interface ProbeSink {
  readonly [GATE]: true;
  /**
   * One sighting. `address` holds the 6 address bytes, most significant octet first, and is valid
   * only during this call (zeroed afterwards). `rssiDbm` is the signal strength, `tNs` the
   * monotonic arrival time of the chunk that completed the line.
   */
  sighting(radio: Radio, address: RawIdentifier, rssiDbm: number, tNs: number): void;
}

/** Where an RFID-reader parser hands each read: the privacy gate. */
export interface TagSink {
  readonly [GATE]: true;
  /** One valid frame. `tag` holds the 5 data bytes and is valid only during this call. */
  read(tag: RawIdentifier, tNs: number): void;
}
