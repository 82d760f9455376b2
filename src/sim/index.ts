/**
 * The public face of src/sim/: the hardware simulator, its sessions, traces and accuracy reports. Other folders import through this file
 * (importers still naming a module directly move here as they are next edited).
 */
export { SimAds1115 } from "./ads1115.js";
export { SimFirmata } from "./firmata-device.js";
export { createSimHardware } from "./hardware.js";
export { rdm6300Frame, scannerLine, simProbeAddress } from "./identifier-bytes.js";
export { identifierSeed, simTag } from "./identifiers.js";
export type { BadFrameTruth, DepositTruth, SightingTruth } from "./identifiers.js";
export { SimBoard } from "./io-plugin.js";
export { SimModbusLine, SimModbusSlave } from "./modbus-line.js";
export { TraceRecorder } from "./recorder.js";
export { Rng } from "./rng.js";
export { parseSpeed } from "./runner.js";
export type { Speed } from "./runner.js";
export type { ScenarioFactory, TruthRecord } from "./scenario.js";
export { SimSerialBus } from "./serial.js";
export type { SimPortBinding } from "./serial.js";
export { replay, simulate } from "./session.js";
export type { Progress, RunResult } from "./session.js";
export { SCENARIOS, SimSite } from "./site.js";
export { TraceError, openTraceFile } from "./trace-stream.js";
export type { OpenedTrace } from "./trace-stream.js";
export { parseTrace } from "./trace.js";
export { evaluateTraffic, formatReport } from "./traffic-accuracy.js";
export type { LaneReport } from "./traffic-accuracy.js";
export { DEFAULT_CLASS_MIX, drawVehicle } from "./traffic-model.js";
export { runTrafficSite, trafficDayConfig } from "./traffic-rig.js";
export type { TrafficRun } from "./traffic-rig.js";
export type { VehicleTruth } from "./traffic.js";
