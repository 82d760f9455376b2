import type { LoadedConfig } from "../config/load.js";
import { formatDuration } from "../config/duration.js";
import { hllRse, noiseStd } from "../privacy/index.js";
import type { Topics } from "../publish/index.js";

/**
 * The transparency record (DESIGN.md `…/manifest`, retained): what this device measures, how often,
 * in which units, with which software and config, and — when it handles identifiers — exactly how
 * it keeps them from leaving RAM. A city can publish it as is; residents can read it; an auditor
 * can check every privacy parameter against the config hash. Published as JSON
 * (application/json) on every connect. Documented in docs/payloads.md "Manifest".
 */
export interface ManifestStream {
  /**
   * Full topic of the stream. In the cellular profile its windows travel in the packs on the
   * manifest's `windowTopic` instead, and decoders (`roadside watch`) show them under this topic.
   */
  topic: string;
  kind: string;
  name: string;
  /** Window length, s (absent for event streams such as alarms). */
  windowS?: number;
  /** What it says, in words. */
  description: string;
  /** Measures: SenML name, unit, and what it means. */
  measures: { n: string; u?: string; description: string }[];
  /**
   * A manhole's level stream: the depths above the invert, m, at which it overflows and raises
   * the high-level alert (`overflowHeightMm`, `alertShare` of its config), so a chart can draw them.
   */
  limits?: { overflowDepthM: number; alertDepthM: number };
}

/** How identifiers become counts (present when the device has probe scanners or RFID readers). */
export interface ManifestPrivacy {
  /** The whole method in a few sentences a resident can read. */
  summary: string[];
  /** Identifier sources: stream name, what it reads, window length (s) = key lifetime. */
  sources: { name: string; reads: "wifi-ble-addresses" | "rfid-cards"; windowS: number }[];
  /** How a token is made from an identifier. */
  token: "HMAC-SHA256(window key, identifier), first 52 bits";
  /** Where the window key comes from and where it lives. */
  key: { source: "node:crypto CSPRNG"; bytes: 32; storage: "RAM only"; replaced: "at every window end"; maxLifetimeS: number };
  /** Counts below k are published as `{measure}.suppressed` = true, never as the value. */
  suppression: { k: number };
  /** Differential-privacy noise on published counts. */
  noise: { mechanism: "none" } | { mechanism: "geometric" | "laplace"; epsilon: number; sensitivity: number; std: number };
  /** Distinct counting: exact set up to `exactLimit` tokens per counter, then HyperLogLog. */
  distinct: { exactLimit: number; hllPrecision: number; hllRelativeError: number };
  /** What is kept where. */
  retention: string[];
}

export interface Manifest {
  manifest: 1;
  device: string;
  site?: string;
  board: string;
  software: { name: "roadside"; version: string };
  /** sha256 of the parsed config (defaults applied). */
  configHash: string;
  /** Payload schema version of the data messages. */
  payloadSchema: number;
  encoding: "application/senml+cbor" | "application/senml+json";
  /** `publish.profile`: standard, one message per stream; cellular, one pack per window (docs/payloads.md "Cellular profile"). */
  profile: "standard" | "cellular";
  /** Cellular profile only: the topic every stream's windows are published on, `{prefix}/{device}/window`. */
  windowTopic?: string;
  streams: ManifestStream[];
  /** What the device never collects or keeps, in words. */
  notCollected: string[];
  /** Present when identifier sources are configured. */
  privacy?: ManifestPrivacy;
}

export interface ManifestOptions {
  version: string;
  topics: Topics;
  payloadSchema: number;
  streams: ManifestStream[];
}

export function buildManifest(loaded: LoadedConfig, opts: ManifestOptions): Manifest {
  const { config } = loaded;
  const m: Manifest = {
    manifest: 1,
    device: config.device.id,
    board: loaded.board.id,
    software: { name: "roadside", version: opts.version },
    configHash: loaded.hash,
    payloadSchema: opts.payloadSchema,
    encoding: config.publish.encoding === "json" ? "application/senml+json" : "application/senml+cbor",
    profile: config.publish.profile,
    // a subscriber that reads the stream topics alone would hear nothing from a cellular device
    ...(config.publish.profile === "cellular" ? { windowTopic: opts.topics.window() } : {}),
    streams: opts.streams,
    notCollected: [
      "No images, audio or video.",
      "No vehicle or person identifiers (licence plates, device addresses, card numbers) are published, logged or stored.",
      "Raw signals are aggregated on the device; only window summaries and alarms leave it.",
    ],
  };
  if (config.device.site !== undefined) m.site = config.device.site;
  const privacy = identifierPrivacy(loaded);
  if (privacy) m.privacy = privacy;
  return m;
}

/** The privacy block, from the `identifiers` section; undefined when no identifier source is configured. */
export function identifierPrivacy(loaded: LoadedConfig): ManifestPrivacy | undefined {
  const ids = loaded.config.identifiers;
  const sources: ManifestPrivacy["sources"] = [
    ...Object.entries(ids.scanners).map(([name, s]) => ({ name, reads: "wifi-ble-addresses" as const, windowS: s.window ?? ids.window })),
    ...Object.entries(ids.readers).map(([name, r]) => ({ name, reads: "rfid-cards" as const, windowS: r.window ?? ids.window })),
  ];
  if (sources.length === 0) return undefined;
  const windows = [...new Set(sources.map((s) => s.windowS))]
    .sort((a, b) => a - b)
    .map(formatDuration)
    .join(" or ");
  const rse = Math.round(hllRse(ids.hllPrecision) * 1e6) / 1e6;
  const noise: ManifestPrivacy["noise"] =
    ids.noise.mechanism === "none"
      ? { mechanism: "none" }
      : {
          mechanism: ids.noise.mechanism,
          epsilon: ids.noise.epsilon,
          sensitivity: ids.noise.sensitivity,
          std: Math.round(noiseStd(ids.noise) * 1000) / 1000,
        };
  const summary = [
    "This device counts Wi-Fi and Bluetooth devices and/or RFID bin cards. It never stores, logs or sends a device address or card number.",
    `Each address or card number is scrambled the moment it arrives, with a secret random key that exists only in the device's memory. The key is destroyed and replaced every ${windows} (never after more than ${formatDuration(ids.maxKeyLifetime)}), so the same phone or card cannot be recognised from one window to the next — not by the operator, not by anyone who takes the device.`,
    `Only counts per window leave the device. A count below ${ids.k} is published as "suppressed", never as its number.`,
    ids.noise.mechanism === "none"
      ? "Counts are published as counted (no random noise added)."
      : `Random noise (${ids.noise.mechanism}, ε = ${ids.noise.epsilon}) is added to every published count, typically ±${Math.round(noiseStd(ids.noise) * 10) / 10}, so no single person changes a published number in a way anyone could notice.`,
  ];
  return {
    summary,
    sources,
    token: "HMAC-SHA256(window key, identifier), first 52 bits",
    key: {
      source: "node:crypto CSPRNG",
      bytes: 32,
      storage: "RAM only",
      replaced: "at every window end",
      maxLifetimeS: ids.maxKeyLifetime,
    },
    suppression: { k: ids.k },
    noise,
    distinct: { exactLimit: ids.exactLimit, hllPrecision: ids.hllPrecision, hllRelativeError: rse },
    retention: [
      "Identifiers: only between the serial parser and the privacy gate, as bytes, zeroed within microseconds; never as text.",
      "Tokens and keys: RAM only, dropped and zeroed at the window end.",
      "Disk and network: only the published counts (outbox until the broker has them).",
      "Logs and health: counts of malformed frames only; never identifiers, tokens or unpublished counts.",
    ],
  };
}
