/**
 * The public face of src/config/: the config schema, loading and validation, boards, durations and issues. Other folders import through this file
 * (importers still naming a module directly move here as they are next edited).
 */
export { findLine, hardwareSerialPaths, loadBoards, resolveSerialPath } from "./boards.js";
export type { Board, BoardLine } from "./boards.js";
export type { Check, CheckContext } from "./check.js";
export { demoConfig } from "./defaults.js";
export { configReference } from "./docs.js";
export { SUGGESTED_WINDOWS, dividesHour, formatDuration, parseDuration } from "./duration.js";
export { closest, formatIssue, formatPath, valueAt } from "./issues.js";
export type { ConfigIssue } from "./issues.js";
export { isLocalOnly, parseListen } from "./listen.js";
export type { Listen } from "./listen.js";
export { configHash, formatIssues, loadConfigFile, parseConfigText, validateConfig } from "./load.js";
export type { LoadedConfig, ValidationResult } from "./load.js";
export { keysAt } from "./schema-walk.js";
export { configSchema } from "./schema.js";
export type { DeviceConfig, DeviceConfigInput } from "./schema.js";
export { serialDeviceKey } from "./serial-device.js";
export { FAULT_KINDS, GENERIC_FAULT_KINDS, faultTargets, serialPortNames } from "./sim-faults.js";
export { TRAFFIC_FAULT_KINDS } from "./traffic-fault-kinds.js";
export type { TrafficFaultKind } from "./traffic-fault-kinds.js";
export { TOPIC_SAFE, duration, serialPortSchema, show, topicSafeSuggestion, windowLength } from "./types.js";
