import { formatDuration } from "../config/duration.js";
import type { ManifestStream } from "../control/index.js";
import { noiseNotes, ProbeGate } from "../privacy/index.js";
import { ProbeScannerParser } from "../sensors/probe-scanner.js";
import type { FeatureFactory } from "./feature.js";
import type { IdentifierFeatureOptions } from "./identifier-port.js";
import { gateOptions, identifierFeature, IdentifierPort, serialSpec } from "./identifier-port.js";

/**
 * Wi-Fi/Bluetooth probe scanners: per scanner a parser, its privacy gate and a serial port.
 * Addresses go from the parser to the gate as bytes and become tokens at once; the feature itself
 * never sees them. Counts are published on `…/presence/{scanner}` (docs/payloads.md).
 */
export function createPresenceFeature(opts: IdentifierFeatureOptions = {}): FeatureFactory {
  return (ctx) => {
    const ids = ctx.loaded.config.identifiers;
    const entries = Object.entries(ids.scanners);
    if (entries.length === 0) return undefined;
    const scanners = entries.map(([name, sc]) => {
      const windowS = sc.window ?? ids.window;
      const holder: { parser?: ProbeScannerParser } = {};
      const gate = new ProbeGate({
        ...gateOptions(ctx, name, opts),
        diagnostics: () => [{ n: "errors", u: "count", v: holder.parser?.takeErrors() ?? 0 }],
      });
      const parser = new ProbeScannerParser({ sink: gate, ...(sc.minRssi !== undefined ? { minRssiDbm: sc.minRssi } : {}) });
      holder.parser = parser;
      ctx.windows(windowS).add(gate);
      const port = new IdentifierPort(ctx, serialSpec(ctx, name, sc.port), "probe scanner", parser);
      // health carries no sighting counts: differencing them between heartbeats would undo suppression
      ctx.health.register(`sensor.${name}`, () => ({
        type: "probe-scanner",
        port: port.state,
        malformedLines: parser.errorCount,
        badKind: parser.errors.kind,
        badAddress: parser.errors.address,
        badRssi: parser.errors.rssi,
        truncated: parser.errors.truncated,
        keyWatchdog: gate.keyExpiries,
      }));
      return { name, sc, windowS, port };
    });
    return identifierFeature("presence", scanners, (s) =>
      scannerManifest(ctx.topics.stream("presence", s.name), s.name, s.windowS, s.sc.minRssi, noiseNotes(ids.noise)),
    );
  };
}

export const presenceFeature: FeatureFactory = createPresenceFeature();

function scannerManifest(
  topic: string,
  name: string,
  windowS: number,
  minRssi: number | undefined,
  noise: ReturnType<typeof noiseNotes>,
): ManifestStream {
  const w = formatDuration(windowS);
  return {
    topic,
    kind: "presence",
    name,
    windowS,
    description:
      `How many different phones and other Wi-Fi or Bluetooth devices the scanner ${name} noticed nearby, every ${w}. ` +
      `A device's address is turned into a one-way code with a secret key the moment it arrives; the key is random, exists only in the device's memory, and is destroyed and replaced every ${w}, so nobody — not even the operator — can tell whether a device seen now is the one seen ${w} ago. Only counts leave the device, and small counts are hidden.` +
      (minRssi !== undefined ? ` Only devices received at ${minRssi} dBm or stronger are counted.` : ""),
    measures: [
      {
        n: "wifi.devices",
        u: "count",
        description: `different Wi-Fi addresses seen in the window (a phone that changes its address counts again); ${noise.sum2}`,
      },
      { n: "wifi.sightings", u: "count", description: `Wi-Fi probe requests received in the window; ${noise.atLeast}` },
      {
        n: "wifi.random",
        u: "/",
        description: `share of the Wi-Fi addresses that were randomised (locally administered) by the phone; ${noise.ratio}`,
      },
      {
        n: "ble.devices",
        u: "count",
        description: `different Bluetooth LE addresses seen in the window (private addresses change about every 15 minutes); ${noise.sum2}`,
      },
      { n: "ble.sightings", u: "count", description: `Bluetooth LE advertisements reported in the window; ${noise.atLeast}` },
      { n: "ble.random", u: "/", description: `share of the Bluetooth addresses that were random (private) addresses; ${noise.ratio}` },
      {
        n: "errors",
        u: "count",
        description:
          "malformed scanner lines in the window (wiring, baud rate or firmware trouble); not derived from identifiers, no noise",
      },
      { n: "distinct", description: "exact (counted exactly) or hll (estimated with HyperLogLog, see rse); no noise" },
    ],
  };
}
