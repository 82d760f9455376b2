/**
 * The public face of src/provision/: building, checking and writing a device config, and seeding a card. Other folders import through this file
 * (importers still naming a module directly move here as they are next edited).
 */
export { TLS_PATHS, buildConfig, parseLineRef } from "./build.js";
export type { LaneAnswer, ProvisionAnswers } from "./build.js";
export { SECRETS_DIR, planFiles, retarget } from "./files.js";
export type { Placement } from "./files.js";
export { interview } from "./interview.js";
export { applyOwnership, systemAccounts } from "./owner.js";
export type { FileRole } from "./owner.js";
export { Prompter } from "./prompter.js";
export { DEVICE_ETC, SeedError, writeSeed } from "./seed.js";
export { parseSensorSpec } from "./sensors.js";
export type { SensorKind } from "./sensors.js";
export { UserDataError } from "./userdata.js";
