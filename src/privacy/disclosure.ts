import type { Measure } from "../aggregate/summary.js";
import type { NoiseSettings, Uniform } from "./noise.js";
import { CountNoise, noiseStd } from "./noise.js";

/**
 * What may leave the device of a count derived from identifiers (DOMAIN.md §4): optional noise
 * first, then small-count suppression on the noised value, so the decision to suppress is itself
 * covered by the noise.
 *
 * A suppressed measure is left out of the pack and replaced by a boolean record named
 * `{measure}.suppressed` with value true (docs/payloads.md). Its value is never published, not
 * even as 0: "suppressed" covers 0 … k−1 alike.
 *
 * Complementary disclosure is avoided by construction: no total is published beside its parts
 * (so no suppressed part can be recovered by subtraction), and the measures of a group are
 * suppressed together when the group's head count is below k.
 */
export interface DisclosureSettings {
  /** Counts below k are published as suppressed (k ≥ 2; default 5). */
  k: number;
  noise: NoiseSettings;
}

export class Disclosure {
  readonly k: number;
  private readonly noise: CountNoise;

  constructor(settings: DisclosureSettings, uniform?: Uniform) {
    if (!Number.isInteger(settings.k) || settings.k < 2) throw new RangeError(`k must be a whole number ≥ 2; got ${settings.k}`);
    this.k = settings.k;
    this.noise = new CountNoise(settings.noise, uniform);
  }

  /** Whether counts get noise. */
  get noised(): boolean {
    return this.noise.enabled;
  }

  /** A count as it will be published before suppression: noised (if configured), whole, ≥ 0. */
  noisy(value: number): number {
    const v = this.noise.apply(value);
    return Math.max(v, 0);
  }
}

/** The marker of a suppressed measure. */
export function suppressed(n: string): Measure {
  return { n: `${n}.suppressed`, vb: true };
}

/** True distinct addresses of one radio in one window, split by address type, and its sightings. */
export interface RadioCounts {
  /** Distinct randomised (locally administered) addresses. */
  random: number;
  /** Distinct globally unique (vendor-assigned) addresses. */
  global: number;
  /** Sightings (scanner lines) accepted. */
  sightings: number;
}

/**
 * `{radio}.devices`, `{radio}.sightings`, `{radio}.random` for one radio. The two address-type
 * cells are noised separately and `devices` is their sum; everything of the radio is suppressed
 * when `devices` < k; the share of randomised addresses only when both cells are ≥ k (else it
 * would tell the small cell).
 */
export function discloseRadio(radio: string, c: RadioCounts, d: Disclosure): Measure[] {
  const random = d.noisy(c.random);
  const global = d.noisy(c.global);
  const devices = random + global;
  const sightingsNoisy = d.noisy(c.sightings);
  if (devices < d.k) return [suppressed(`${radio}.devices`), suppressed(`${radio}.sightings`), suppressed(`${radio}.random`)];
  const out: Measure[] = [
    { n: `${radio}.devices`, u: "count", v: devices },
    // every device was seen at least once; keep noised figures consistent (true ones are, except
    // that a HyperLogLog estimate may exceed the exact sightings, which are published as counted)
    { n: `${radio}.sightings`, u: "count", v: d.noised ? Math.max(sightingsNoisy, devices) : sightingsNoisy },
  ];
  if (random >= d.k && global >= d.k) out.push({ n: `${radio}.random`, u: "/", v: Math.round((random / devices) * 10000) / 10000 });
  else out.push(suppressed(`${radio}.random`));
  return out;
}

/** True counts of an RFID reader in one window. */
export interface TagCounts {
  /** Card presentations (a card held in the field counts once). */
  deposits: number;
  /** Distinct cards. */
  users: number;
}

/** `deposits` and `users`, both suppressed when users < k (deposits of fewer than k people). */
export function discloseTags(c: TagCounts, d: Disclosure): Measure[] {
  const users = d.noisy(c.users);
  const deposits = d.noisy(c.deposits);
  if (users < d.k) return [suppressed("deposits"), suppressed("users")];
  return [
    { n: "deposits", u: "count", v: d.noised ? Math.max(deposits, users) : deposits },
    { n: "users", u: "count", v: users },
  ];
}

/**
 * What the manifest says about the noise of each published measure (DOMAIN.md §4: a city publishes
 * the manifest as its transparency record, so it must be exact). Counts noised once have the
 * mechanism's std; `{radio}.devices` is the sum of two noised cells (random + global addresses), so
 * √2 times it; `sightings` and `deposits` are noised once, then raised to at least the devices or
 * users they must cover; the random-address share is a ratio of two noised cells.
 */
export function noiseNotes(noise: NoiseSettings): Record<"once" | "sum2" | "atLeast" | "ratio", string> {
  if (noise.mechanism === "none") {
    const none = "no noise added";
    return { once: none, sum2: none, atLeast: none, ratio: none };
  }
  const std = noiseStd(noise);
  const r = (x: number) => Math.round(x * 100) / 100;
  const how = `${noise.mechanism} noise, ε = ${noise.epsilon}`;
  return {
    once: `${how}: std ${r(std)}`,
    sum2: `the sum of two separately noised counts (${how}): std ${r(std * Math.SQRT2)}`,
    atLeast: `${how}: std ${r(std)}, then raised to at least the distinct count it must cover`,
    ratio: `the ratio of two separately noised counts (${how}, std ${r(std)} each)`,
  };
}
