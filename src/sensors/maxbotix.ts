/**
 * MaxBotix ultrasonic rangefinders, serial output (DOMAIN.md §2). Every model sends, at 9600 8N1,
 * an ASCII `R`, a fixed number of ASCII digits and a carriage return, free-running while its pin 4
 * (ranging start/stop) is open or high. Units and the reserved values differ per model, so each
 * model has its own row here, next to the datasheet it comes from.
 */

/** One model's serial format and reserved values. */
export interface MaxbotixModel {
  readonly id: MaxbotixModelId;
  /** Digits between `R` and CR. */
  readonly digits: number;
  /** Millimetres per reported unit. */
  readonly mmPerUnit: number;
  /** Reported value for targets at or inside the minimum range: not a level (too close to tell). */
  readonly minReport: number;
  /** Values at or above this mean "no target" (nothing in range): not a level. */
  readonly noTargetFrom: number;
  /** Human name for messages. */
  readonly name: string;
}

export type MaxbotixModelId = "hrxl" | "hrxl-10m" | "xl" | "lv";

export const MAXBOTIX_MODELS: Readonly<Record<MaxbotixModelId, MaxbotixModel>> = Object.freeze({
  // HRXL-MaxSonar-WR datasheet (MB7360/7369/7380/7389, 5 m), "Serial output": R + 4 ASCII digits in
  // mm + CR, 9600 8N1. Range 300–4999 mm; targets closer than 300 mm read 300; 5000 = no target.
  hrxl: { id: "hrxl", digits: 4, mmPerUnit: 1, minReport: 300, noTargetFrom: 5000, name: "HRXL-MaxSonar (5 m)" },
  // HRXL-MaxSonar-WR 10 m models (MB7363/7366/7383/7386): same frame; 9999 = no target.
  "hrxl-10m": { id: "hrxl-10m", digits: 4, mmPerUnit: 1, minReport: 300, noTargetFrom: 9999, name: "HRXL-MaxSonar (10 m)" },
  // XL-MaxSonar-WR datasheet (MB70xx), "Pin 5 serial output": R + 3 ASCII digits in cm + CR.
  // Minimum report 20 cm (closer targets read 20); 765 cm is the maximum and means no target.
  xl: { id: "xl", digits: 3, mmPerUnit: 10, minReport: 20, noTargetFrom: 765, name: "XL-MaxSonar (cm)" },
  // LV-MaxSonar-EZ datasheet (MB1000–MB1040), "Pin 5-TX": R + 3 ASCII digits in inches (max 255)
  // + CR, RS-232 polarity at TTL levels. Objects from 0 to 6 in read 6; range ends at 254 in, so 255
  // means nothing in range.
  lv: { id: "lv", digits: 3, mmPerUnit: 25.4, minReport: 6, noTargetFrom: 255, name: "LV-MaxSonar-EZ (inches)" },
});

/**
 * What a complete frame said: `Range` (mm is the distance to the target), `MinRange` (at or inside
 * the minimum range: something is too close to measure), `NoTarget` (nothing in range).
 */
export const Reading = Object.freeze({ Range: 0, MinRange: 1, NoTarget: 2 } as const);
export type Reading = (typeof Reading)[keyof typeof Reading];

/** Receives parsed frames (hot path: primitives only). `mm` is NaN unless `kind` is `Reading.Range`. */
export type ReadingSink = (kind: Reading, mm: number, tNs: number) => void;

const R = 0x52;
const CR = 0x0d;
const D0 = 0x30;
const D9 = 0x39;

/**
 * Streaming parser for one MaxBotix serial port. Feed it byte chunks as they arrive; frames may span
 * chunks and a chunk may hold many frames. It never throws and allocates nothing per byte: bad bytes
 * are counted and skipped, and the parser resynchronises on the next `R`.
 *
 * Counters (for health): `frames` good frames (any kind), `garbageBytes` bytes outside any frame,
 * `partialFrames` frames started but cut short or malformed (an `R` in the middle, a wrong digit
 * count, a stray byte), and per kind `ranges`, `minRange`, `noTarget`.
 */
export class MaxbotixParser {
  bytes = 0;
  frames = 0;
  ranges = 0;
  minRange = 0;
  noTarget = 0;
  garbageBytes = 0;
  partialFrames = 0;
  /** Bytes since the last good frame (a wrong baud rate shows as many bytes and no frames). */
  bytesSinceFrame = 0;
  /** Good frames in a row that were no-target or min-range (a blind or flooded sensor). */
  blindStreak = 0;

  private inFrame = false;
  private count = 0;
  private value = 0;

  constructor(
    readonly model: MaxbotixModel,
    private readonly sink: ReadingSink,
  ) {}

  push(chunk: Uint8Array, tNs: number): void {
    const digits = this.model.digits;
    this.bytes += chunk.length;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      this.bytesSinceFrame++;
      if (b === R) {
        if (this.inFrame) this.partialFrames++;
        this.inFrame = true;
        this.count = 0;
        this.value = 0;
        continue;
      }
      if (!this.inFrame) {
        this.garbageBytes++;
        continue;
      }
      if (b >= D0 && b <= D9) {
        if (this.count < digits) {
          this.value = this.value * 10 + (b - D0);
          this.count++;
        } else {
          // too many digits: not this model's frame (or a wrong model configured)
          this.partialFrames++;
          this.garbageBytes++;
          this.inFrame = false;
        }
        continue;
      }
      this.inFrame = false;
      if (b === CR && this.count === digits) {
        this.complete(tNs);
      } else {
        this.partialFrames++;
        if (b !== CR) this.garbageBytes++;
      }
    }
  }

  /** Forget a frame in progress (after a port reopen: its first bytes are gone). */
  reset(): void {
    if (this.inFrame) this.partialFrames++;
    this.inFrame = false;
  }

  private complete(tNs: number): void {
    const m = this.model;
    const v = this.value;
    this.frames++;
    this.bytesSinceFrame = 0;
    if (v >= m.noTargetFrom) {
      this.blindStreak++;
      this.noTarget++;
      this.sink(Reading.NoTarget, Number.NaN, tNs);
    } else if (v <= m.minReport) {
      this.blindStreak++;
      this.minRange++;
      this.sink(Reading.MinRange, Number.NaN, tNs);
    } else {
      this.ranges++;
      this.blindStreak = 0;
      this.sink(Reading.Range, v * m.mmPerUnit, tNs);
    }
  }
}

/** The frame a model sends for a distance (the simulator's side of the datasheet). */
export function maxbotixFrame(model: MaxbotixModel, mm: number | "no-target" | "min-range"): string {
  let units: number;
  if (mm === "no-target") units = model.noTargetFrom;
  else if (mm === "min-range") units = model.minReport;
  else units = Math.min(model.noTargetFrom, Math.max(model.minReport, Math.round(mm / model.mmPerUnit)));
  return `R${String(units).padStart(model.digits, "0")}\r`;
}
