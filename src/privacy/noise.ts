import { randomFillSync } from "node:crypto";

/**
 * Differential-privacy noise for published counts (DOMAIN.md §4). A count whose value one person
 * can change by at most Δ (the sensitivity) gets noise of scale b = Δ/ε:
 * - `laplace`: continuous Laplace(0, b), then rounded to a whole count. Std √2·b
 *   (ORACLE ε = 1, Δ = 1 → √2 ≈ 1.414; P(|X| > 3) = e^−3 ≈ 0.0498).
 * - `geometric`: the two-sided geometric ("discrete Laplace") mechanism, P(X = x) ∝ α^|x| with
 *   α = e^(−ε/Δ) (Ghosh, Roughgarden, Sundararajan 2009). Integer-valued, so no floating-point
 *   rounding artefacts can leak the true value (Mironov 2012); std √(2α)/(1 − α) (ε = 1: ≈ 1.357).
 * The default randomness is node:crypto's CSPRNG: noise a reader could predict protects nothing.
 */
export type NoiseMechanism = "none" | "laplace" | "geometric";

export interface NoiseSettings {
  mechanism: NoiseMechanism;
  /** Privacy loss per published count per window. Smaller = more noise. */
  epsilon: number;
  /** Δ: how much one person can change the count. */
  sensitivity: number;
}

/** A uniform number in the open interval (0, 1). */
export type Uniform = () => number;

/** Uniform (0, 1) from node:crypto, 53 random bits per draw. */
export function cryptoUniform(): Uniform {
  const words = new Uint32Array(2);
  return () => {
    randomFillSync(words);
    // 27 + 26 bits → an integer in [0, 2^53); +0.5 keeps the result off 0 and 1
    return ((words[0]! >>> 5) * 67108864 + (words[1]! >>> 6) + 0.5) / 9007199254740992;
  };
}

/** Laplace(0, b) by inversion. */
export function sampleLaplace(b: number, uniform: Uniform): number {
  const x = uniform() - 0.5;
  if (x === 0) return 0;
  return -b * Math.sign(x) * Math.log(1 - 2 * Math.abs(x));
}

/** Two-sided geometric with parameter α ∈ (0, 1): the difference of two geometric draws. */
export function sampleTwoSidedGeometric(alpha: number, uniform: Uniform): number {
  const la = Math.log(alpha);
  const g1 = Math.floor(Math.log(uniform()) / la);
  const g2 = Math.floor(Math.log(uniform()) / la);
  return g1 - g2;
}

/** Laplace scale b = Δ/ε. */
export function laplaceScale(s: NoiseSettings): number {
  return s.sensitivity / s.epsilon;
}

/** Geometric parameter α = e^(−ε/Δ). */
export function geometricAlpha(s: NoiseSettings): number {
  return Math.exp(-s.epsilon / s.sensitivity);
}

/** Standard deviation of the noise a count gets (before rounding), 0 for none. */
export function noiseStd(s: NoiseSettings): number {
  switch (s.mechanism) {
    case "none":
      return 0;
    case "laplace":
      return Math.SQRT2 * laplaceScale(s);
    case "geometric": {
      const a = geometricAlpha(s);
      return Math.sqrt(2 * a) / (1 - a);
    }
  }
}

/** Adds the configured noise to counts. */
export class CountNoise {
  private readonly uniform: Uniform;

  constructor(
    readonly settings: NoiseSettings,
    uniform?: Uniform,
  ) {
    if (settings.mechanism !== "none" && !(settings.epsilon > 0 && settings.sensitivity > 0)) {
      throw new RangeError(
        `noise needs epsilon > 0 and sensitivity > 0; got epsilon ${settings.epsilon}, sensitivity ${settings.sensitivity}`,
      );
    }
    this.uniform = uniform ?? cryptoUniform();
  }

  get enabled(): boolean {
    return this.settings.mechanism !== "none";
  }

  /** `value` plus noise, as a whole count (may be negative; the caller clamps). */
  apply(value: number): number {
    switch (this.settings.mechanism) {
      case "none":
        return Math.round(value);
      case "laplace":
        return Math.round(value + sampleLaplace(laplaceScale(this.settings), this.uniform));
      case "geometric":
        return Math.round(value) + sampleTwoSidedGeometric(geometricAlpha(this.settings), this.uniform);
    }
  }
}
