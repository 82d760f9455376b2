/**
 * The privacy gate's public face. Raw identifiers (`raw.ts`) are deliberately not exported here:
 * only the identifier parsers and the gate itself may import that module (boundary.test.ts).
 */
export { ProbeGate, LOCALLY_ADMINISTERED } from "./probe-gate.js";
export { TagGate } from "./tag-gate.js";
export type { TagGateOptions } from "./tag-gate.js";
export type { GateOptions } from "./gate-base.js";
export { Disclosure, discloseRadio, discloseTags, noiseNotes, suppressed } from "./disclosure.js";
export type { DisclosureSettings, RadioCounts, TagCounts } from "./disclosure.js";
export { CountNoise, cryptoUniform, noiseStd, laplaceScale, geometricAlpha } from "./noise.js";
export type { NoiseMechanism, NoiseSettings, Uniform } from "./noise.js";
export { hllRse, HyperLogLog } from "./hll.js";
export { DistinctCounter } from "./distinct.js";
export { WindowKey } from "./window-key.js";
