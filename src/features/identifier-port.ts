import type { TimerHandle } from "../clock/clock.js";
import { NS_PER_S } from "../clock/clock.js";
import { resolveSerialPath } from "../config/boards.js";
import type { IdentifiersConfig } from "../config/sections/identifiers.js";
import type { SerialSpec } from "../io/contract.js";
import type { ManifestStream } from "../control/manifest.js";
import type { GateOptions, Uniform } from "../privacy/index.js";
import type { Feature, FeatureContext } from "./feature.js";

/** Seams of the identifier features (tests pass seeded noise to check it statistically). */
export interface IdentifierFeatureOptions {
  /** Noise randomness; default node:crypto. */
  uniform?: Uniform;
}

/** Gate settings of one sensor from the `identifiers` section. */
export function gateOptions(ctx: FeatureContext, name: string, opts: IdentifierFeatureOptions): Omit<GateOptions, "diagnostics"> {
  const ids = ctx.loaded.config.identifiers;
  return {
    name,
    clock: ctx.clock,
    logger: ctx.logger,
    sink: ctx.summaries,
    k: ids.k,
    noise: ids.noise,
    maxKeyLifetimeS: ids.maxKeyLifetime,
    exactLimit: ids.exactLimit,
    hllPrecision: ids.hllPrecision,
    ...(opts.uniform ? { uniform: opts.uniform } : {}),
  };
}

/** The serial spec of an identifier sensor's port. */
export function serialSpec(ctx: FeatureContext, name: string, port: IdentifiersConfig["scanners"][string]["port"]): SerialSpec {
  return {
    name,
    path: resolveSerialPath(ctx.loaded.board, port.path) ?? port.path,
    baudRate: port.baudRate,
    dataBits: port.dataBits,
    parity: port.parity,
    stopBits: port.stopBits,
  };
}

/** The feature of a set of identifier sensors: opens and closes their ports, describes their streams. */
export function identifierFeature<S extends { port: IdentifierPort }>(
  name: string,
  sensors: S[],
  describe: (s: S) => ManifestStream,
): Feature {
  return {
    name,
    async start() {
      for (const s of sensors) await s.port.start();
    },
    stop() {
      for (const s of sensors) s.port.stop();
    },
    manifest: () => sensors.map(describe),
  };
}

/** What an identifier port needs from its parser. */
export interface ChunkParser {
  feed(chunk: Buffer, tNs: number): void;
  reset(): void;
}

/** First retry of a port that could not be opened at start, and the ceiling of the backoff, s. */
const RETRY_MIN_S = 5;
const RETRY_MAX_S = 300;

/**
 * One identifier sensor's serial port: opened at start (retried with backoff if the sensor is
 * missing, while the rest of the device runs), every chunk to the parser. Nothing here ever
 * looks at, logs or keeps the bytes: error messages name the port, never the data.
 */
export class IdentifierPort {
  state: "closed" | "open" | "reopening" | "missing" = "closed";
  private retry: TimerHandle | undefined;
  private attempt = 0;
  private stopped = false;

  constructor(
    private readonly ctx: FeatureContext,
    private readonly spec: SerialSpec,
    private readonly what: string,
    private readonly parser: ChunkParser,
  ) {}

  async start(): Promise<void> {
    this.stopped = false;
    await this.tryOpen();
  }

  stop(): void {
    this.stopped = true;
    if (this.retry) this.ctx.clock.clearTimer(this.retry);
    this.retry = undefined;
  }

  private async tryOpen(): Promise<void> {
    try {
      const link = await this.ctx.openSerial(this.spec, {
        data: (chunk, tNs) => {
          try {
            this.parser.feed(chunk, tNs);
          } catch (err) {
            // parsers never throw on bytes; this is a bug, and the message carries no data
            this.ctx.logger.error(`${this.what} ${this.spec.name}: parser failed: ${(err as Error).name}`);
            chunk.fill(0);
          }
        },
        state: (s, err) => {
          this.state = s;
          if (s === "reopening") {
            this.parser.reset();
            this.ctx.logger.warn(err?.message ?? `${this.what} ${this.spec.name}: port lost; reopening`, { sensor: this.spec.name });
          } else if (s === "open") {
            this.ctx.logger.info(`${this.what} ${this.spec.name}: port ${this.spec.path} is back`, { sensor: this.spec.name });
          }
        },
      });
      if (this.stopped) {
        // a retry that completed after the device began to stop
        await link.close();
        this.state = "closed";
        return;
      }
      this.state = "open";
      this.attempt = 0;
    } catch (err) {
      this.state = "missing";
      const waitS = Math.min(RETRY_MAX_S, RETRY_MIN_S * 2 ** this.attempt++);
      this.ctx.logger.error(
        `${(err as Error).message}; ${this.what} ${this.spec.name} counts nothing until it opens (retry in ${waitS}s)`,
        { sensor: this.spec.name },
      );
      if (this.stopped) return;
      this.retry = this.ctx.clock.setTimer(this.ctx.clock.monoNs() + waitS * NS_PER_S, () => {
        this.retry = undefined;
        if (!this.stopped) void this.tryOpen();
      });
    }
  }
}
