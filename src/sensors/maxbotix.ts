/**
 * The parser of MaxBotix ultrasonic rangefinders, serial output (DOMAIN.md §2). Every model sends,
 * at 9600 8N1, an ASCII `R`, a fixed number of ASCII digits and a carriage return, free-running
 * while its pin 4 (ranging start/stop) is open or high. Units and reserved values differ per model:
 * each has its definition, with the datasheet it comes from, in src/sensors/models/maxbotix.ts.
 */

import type { FrameModel } from "./models/index.js";
import { FRAME_MODEL_IDS, frameModel, Reading } from "./models/index.js";

export { Reading } from "./models/index.js";

/** One model's serial format and reserved values (its definition lives in src/sensors/models/maxbotix.ts). */
export interface MaxbotixModel extends Readonly<FrameModel["frame"]> {
  readonly id: MaxbotixModelId;
  /** Human name for messages. */
  readonly name: string;
}

export type MaxbotixModelId = string;

/** The parser's view of each MaxBotix definition, by id. */
export const MAXBOTIX_MODELS: Readonly<Record<MaxbotixModelId, MaxbotixModel>> = Object.freeze(
  Object.fromEntries(
    FRAME_MODEL_IDS.map((id) => {
      const m = frameModel(id);
      return [id, Object.freeze({ id, name: m.name, ...m.frame })];
    }),
  ),
);

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
