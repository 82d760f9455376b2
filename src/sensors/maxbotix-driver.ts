import type { FrameModel } from "./models/index.js";
import { MaxbotixParser } from "./maxbotix.js";
import type { RangeDriver, RangeDriverContext, SensorHealth } from "./range-driver.js";

/**
 * A free-running serial rangefinder (pin 4 open): every frame is parsed as it arrives.
 *
 * Why free-running and not triggered: the sensors take no commands over serial, and triggering
 * needs a fourth conductor to pin 4 through the manhole's cable gland. Parsing ~6 frames a second
 * costs microseconds; the sampling interval decides what becomes a sample.
 */
export class FrameDriver implements RangeDriver {
  readonly parser: MaxbotixParser;

  constructor(
    readonly model: FrameModel,
    private readonly ctx: RangeDriverContext,
  ) {
    this.parser = new MaxbotixParser({ id: model.id, name: model.name, ...model.frame }, ctx.reading);
  }

  async open(): Promise<void> {
    await this.ctx.openSerial(
      this.ctx.spec,
      {
        data: (chunk, tNs) => this.parser.push(chunk, tNs),
        state: (s, err) => {
          this.ctx.port(s !== "open", err);
          this.parser.reset();
        },
      },
      { retry: true },
    );
  }

  async close(): Promise<void> {
    // the device closes every link it opened
  }

  garbled(): boolean {
    return this.parser.bytesSinceFrame >= 32;
  }

  blind(): boolean {
    return this.parser.blindStreak >= 3;
  }

  health(): SensorHealth {
    const p = this.parser;
    return {
      model: this.model.id,
      bytes: p.bytes,
      frames: p.frames,
      ranges: p.ranges,
      noTarget: p.noTarget,
      minRange: p.minRange,
      garbageBytes: p.garbageBytes,
      partialFrames: p.partialFrames,
    };
  }
}
