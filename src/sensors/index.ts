/**
 * The public face of src/sensors/: sensor drivers and parsers. Other folders import through this file
 * (importers still naming a module directly move here as they are next edited).
 */
export { ADS1115_FSR, ADS1115_REG, ADS1115_SPS, Ads1115, currentLoopMm, tmp36Celsius } from "./ads1115.js";
export { TrapPairing } from "./loop-pairing.js";
export type { PassageListener } from "./loop-pairing.js";
export { gFactorSpeed } from "./loop-speed.js";
export { LoopDriver } from "./loop.js";
export type { LoopListener } from "./loop.js";
export { FrameDriver } from "./maxbotix-driver.js";
export { MaxbotixParser, maxbotixFrame } from "./maxbotix.js";
export type { MaxbotixModel } from "./maxbotix.js";
export { MedianSampler } from "./median-sampler.js";
export { ProbeScannerParser } from "./probe-scanner.js";
export type { RangeDriver, RangeDriverContext, SensorHealth } from "./range-driver.js";
export { Rdm6300Parser } from "./rdm6300.js";
export { DebouncedSwitch } from "./switch.js";
export { TrapLatencyEstimator, knownSpeedLatency } from "./trap-latency.js";
