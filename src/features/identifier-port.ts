import { resolveSerialPath } from "../config/board-data.js";
import type { IdentifiersConfig } from "../config/sections/identifiers.js";
import type { SerialSpec } from "../io/contract.js";
import type { ManifestStream } from "../control/index.js";
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

/**
 * One identifier sensor's serial port: opened at start, every chunk to the parser. A sensor missing
 * at start or unplugged later is the link's to retry (SerialOpenOptions.retry: one retry layer per
 * port, with the shared jittered backoff), while the rest of the device runs. Nothing here ever
 * looks at, logs or keeps the bytes: error messages name the port, never the data.
 */
export class IdentifierPort {
  state: "closed" | "open" | "reopening" | "missing" = "closed";

  constructor(
    private readonly ctx: FeatureContext,
    private readonly spec: SerialSpec,
    private readonly what: string,
    private readonly parser: ChunkParser,
  ) {}

  async start(): Promise<void> {
    this.state = "closed";
    let opened = false;
    let missing = false;
    try {
      await this.ctx.openSerial(
        this.spec,
        {
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
            if (s === "reopening" && !opened) {
              // missing at start: the link keeps trying with its backoff
              missing = true;
              this.state = "missing";
              this.ctx.logger.error(
                `${err?.message ?? `${this.what} ${this.spec.name}: cannot open`}; ${this.what} ${this.spec.name} counts nothing until it opens (retrying)`,
                {
                  sensor: this.spec.name,
                },
              );
              return;
            }
            const was = this.state;
            this.state = s;
            if (s === "reopening") {
              this.parser.reset();
              this.ctx.logger.warn(err?.message ?? `${this.what} ${this.spec.name}: port lost; reopening`, { sensor: this.spec.name });
            } else if (s === "open") {
              opened = true;
              this.ctx.logger.info(`${this.what} ${this.spec.name}: port ${this.spec.path} ${was === "missing" ? "is open" : "is back"}`, {
                sensor: this.spec.name,
              });
            }
          },
        },
        { retry: true },
      );
      if (!missing) {
        opened = true;
        this.state = "open";
      }
    } catch (err) {
      // not a fault the link can wait out (no serial support on this device, a port already open)
      this.state = "missing";
      this.ctx.logger.error(`${(err as Error).message}; ${this.what} ${this.spec.name} counts nothing`, { sensor: this.spec.name });
    }
  }

  /** Nothing to do: the device closes the port's link when it stops (runtime.ts), which ends any retry. */
  stop(): void {}
}
