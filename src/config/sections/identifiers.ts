import * as z from "zod";
import { duration, serialPortSchema, windowLength } from "../types.js";

/** No window key may live longer than an hour, whatever the config says (BlipTrack's 24 h salts are pseudonymisation). */
export const KEY_LIFETIME_CEILING_S = 3600;

const windowOverride = windowLength()
  .optional()
  .describe("Summary window of this sensor; default identifiers.window. Never longer than identifiers.maxKeyLifetime.");

export const probeScannerSchema = z
  .strictObject({
    port: serialPortSchema(115200).describe("Serial port of the scanner (ESP32-class modules print at 115200 8N1)."),
    minRssi: z
      .number()
      .int()
      .min(-127)
      .max(20)
      .optional()
      .describe(
        "Drop sightings weaker than this, dBm, before they reach the privacy gate (e.g. -80 to count only devices near the scanner). Default: keep all.",
      ),
    window: windowOverride,
  })
  .describe("A Wi-Fi/Bluetooth probe scanner printing `<kind>,<MAC>,<RSSI>` lines (docs/privacy.md).");

export const rfidReaderSchema = z
  .strictObject({
    port: serialPortSchema(9600).describe("Serial port of the reader (RDM6300: 9600 8N1)."),
    repeat: duration("repeat interval")
      .pipe(
        z
          .number()
          .min(0.1, { error: "repeat must be at least 100ms: the reader repeats its frame about every 100 ms" })
          .max(60, { error: "repeat must be at most 60s" }),
      )
      .default(2)
      .describe("Reads of one card closer than this are one presentation (the reader repeats its frame while a card is held). Default 2s."),
    window: windowOverride,
  })
  .describe("An RDM6300-class 125 kHz RFID reader at an access-controlled bin (docs/privacy.md).");

export const noiseSchema = z
  .strictObject({
    mechanism: z
      .enum(["none", "geometric", "laplace"])
      .default("none")
      .describe("Differential-privacy noise on published counts: none (default), geometric (integer, recommended) or laplace (rounded)."),
    epsilon: z
      .number()
      .positive({ error: "epsilon must be > 0; smaller means more noise (1 is common)" })
      .max(10)
      .default(1)
      .describe("Privacy loss ε per published count per window; noise scale b = sensitivity/ε. Default 1 (std ≈ 1.4 counts)."),
    sensitivity: z.number().int().min(1).max(100).default(1).describe("Δ: how much one person can change a count. Default 1."),
  })
  .describe("Optional differential-privacy noise (docs/privacy.md).");

export const identifiersSection = z
  .strictObject({
    window: windowLength()
      .default(900)
      .describe(
        "Summary window of identifier counts, and so the life of each window key. Default 15m: BLE private addresses rotate about every 15 min, so longer windows over-count.",
      ),
    maxKeyLifetime: duration("maximum key lifetime")
      .pipe(
        z
          .number()
          .positive()
          .max(KEY_LIFETIME_CEILING_S, { error: `maxKeyLifetime can be at most 1h (${KEY_LIFETIME_CEILING_S}s)` }),
      )
      .default(900)
      .describe("No window key lives longer than this; every window must be at most this long. Default 15m, at most 1h."),
    k: z
      .number()
      .int()
      .min(2, { error: "k must be at least 2: a count of 1 singles out one person" })
      .max(100)
      .default(5)
      .describe("Counts below k are published as suppressed, never as their value. Default 5 (statistics offices use 3–10)."),
    noise: noiseSchema.prefault({}),
    exactLimit: z
      .number()
      .int()
      .min(0)
      .max(1_000_000)
      .default(10_000)
      .describe(
        "Distinct tokens counted exactly per window and counter; above this the count switches to HyperLogLog. Default 10000 (about 0.5 MB of RAM per counter when full; 4 counters per scanner).",
      ),
    hllPrecision: z
      .number()
      .int()
      .min(4)
      .max(18)
      .default(14)
      .describe("HyperLogLog precision p: 2^p one-byte registers, relative error 1.04/√(2^p). Default 14 (16 KiB, 0.8125 %)."),
    scanners: z
      .record(z.string(), probeScannerSchema)
      .default({})
      .describe("Wi-Fi/Bluetooth probe scanners by name; counts on {prefix}/{device}/presence/{name}."),
    readers: z
      .record(z.string(), rfidReaderSchema)
      .default({})
      .describe("RFID readers at access-controlled bins by name; counts on {prefix}/{device}/presence/{name}."),
  })
  .prefault({})
  .describe(
    "Identifier sources (probe scanners, RFID readers) and how their identifiers become counts. Raw identifiers never leave RAM (docs/privacy.md).",
  );

export type IdentifiersConfig = z.output<typeof identifiersSection>;
export type ProbeScannerConfig = z.output<typeof probeScannerSchema>;
export type RfidReaderConfig = z.output<typeof rfidReaderSchema>;

// zod-free, for the runtime (issue 15); kept here for other importers
export { identifierPortNames } from "./identifier-ports.js";
