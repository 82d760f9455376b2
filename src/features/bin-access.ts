import { formatDuration } from "../config/duration.js";
import type { ManifestStream } from "../control/index.js";
import { noiseNotes, TagGate } from "../privacy/index.js";
import { Rdm6300Parser } from "../sensors/rdm6300.js";
import type { FeatureFactory } from "./feature.js";
import type { IdentifierFeatureOptions } from "./identifier-port.js";
import { gateOptions, identifierFeature, IdentifierPort, serialSpec } from "./identifier-port.js";

/**
 * RFID readers at access-controlled bins (pay-as-you-throw): per reader a parser, its privacy gate
 * and a serial port. Card numbers go from the parser to the gate as bytes and become tokens at
 * once. Deposits and distinct users are published on `…/presence/{reader}` (docs/payloads.md).
 */
export function createBinAccessFeature(opts: IdentifierFeatureOptions = {}): FeatureFactory {
  return (ctx) => {
    const ids = ctx.loaded.config.identifiers;
    const entries = Object.entries(ids.readers);
    if (entries.length === 0) return undefined;
    const readers = entries.map(([name, rd]) => {
      const windowS = rd.window ?? ids.window;
      const holder: { parser?: Rdm6300Parser } = {};
      const gate = new TagGate({
        ...gateOptions(ctx, name, opts),
        repeatS: rd.repeat,
        diagnostics: () => [{ n: "errors", u: "count", v: holder.parser?.takeErrors() ?? 0 }],
      });
      const parser = new Rdm6300Parser({ sink: gate });
      holder.parser = parser;
      ctx.windows(windowS).add(gate);
      const port = new IdentifierPort(ctx, serialSpec(ctx, name, rd.port), "RFID reader", parser);
      // no read counts in health: differencing them between heartbeats would undo suppression
      ctx.health.register(`sensor.${name}`, () => ({
        type: "rfid-reader",
        port: port.state,
        badChecksum: parser.errors.checksum,
        badFrame: parser.errors.frame,
        strayBytes: parser.stray,
        keyWatchdog: gate.keyExpiries,
      }));
      return { name, windowS, port };
    });
    return identifierFeature("bin-access", readers, (r) =>
      readerManifest(ctx.topics.stream("presence", r.name), r.name, r.windowS, noiseNotes(ids.noise)),
    );
  };
}

export const binAccessFeature: FeatureFactory = createBinAccessFeature();

function readerManifest(topic: string, name: string, windowS: number, noise: ReturnType<typeof noiseNotes>): ManifestStream {
  const w = formatDuration(windowS);
  return {
    topic,
    kind: "presence",
    name,
    windowS,
    description:
      `How many times residents opened the access-controlled bin ${name} with their card, and how many different cards were used, every ${w}. ` +
      `Card numbers are turned into one-way codes with a secret key that is destroyed every ${w}; no card number is kept, logged or sent, and nobody can tell whether the same card was used in two different windows. Small counts are hidden.`,
    measures: [
      {
        n: "deposits",
        u: "count",
        description: `card presentations in the window (a card held at the reader counts once); ${noise.atLeast}`,
      },
      { n: "users", u: "count", description: `different cards used in the window; ${noise.once}` },
      {
        n: "errors",
        u: "count",
        description: "unreadable card frames in the window (bad checksum or broken frame); not derived from identifiers, no noise",
      },
    ],
  };
}
