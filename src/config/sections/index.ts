/**
 * The public face of src/config/sections/: the schema section of each config key and its semantic checks. Other folders import through this file
 * (importers still naming a module directly move here as they are next edited).
 */
export { binsSection } from "./bins.js";
export type { BinConfig } from "./bins.js";
export { controlSection } from "./control.js";
export { checkDelivery } from "./delivery-checks.js";
export { LANE_TYPES, detectorsSection, loopDetectorSchema, resolveDiagnostics } from "./detectors.js";
export type { LoopDetectorConfig, ResolvedDiagnostics } from "./detectors.js";
export { deviceSection } from "./device.js";
export { healthSection } from "./health.js";
export { identifierPortNames, identifiersSection } from "./identifiers.js";
export type { IdentifiersConfig } from "./identifiers.js";
export { inputsSection } from "./inputs.js";
export { checkIo, ioSection } from "./io.js";
export { checkBins, checkLevelSensors, checkManholes, checkSimSewerBins } from "./level-checks.js";
export type { AdcConfig, RangeSensorConfig } from "./level-sensors.js";
export { manholesSection } from "./manholes.js";
export type { ManholeConfig } from "./manholes.js";
export { mqttSection, publishSection } from "./mqtt.js";
export { outboxSection } from "./outbox.js";
export { simScannerSchema } from "./sim-identifiers.js";
export type { SimReaderConfig, SimScannerConfig } from "./sim-identifiers.js";
export type { SimLaneConfig } from "./sim-traffic.js";
export { simSection } from "./sim.js";
export type { SimFault } from "./sim.js";
export { logSection, stateSection } from "./state.js";
export { webSection } from "./web.js";
export { windowsSection } from "./windows.js";
