/**
 * The public face of src/aggregate/: windowed aggregators and the summaries, alarms and health sections they emit. Other folders import through this file
 * (importers still naming a module directly move here as they are next edited).
 */
export type { Alarm, AlarmSink } from "./alarm.js";
export { BinAggregator } from "./bin.js";
export { WindowBuckets, overlapNs } from "./buckets.js";
export { Checkpointer, planRecovery } from "./checkpoint.js";
export type { Checkpointable } from "./checkpoint.js";
export type { HealthSection, HealthValue } from "./health-section.js";
export { LevelAggregator } from "./level.js";
export { percentile } from "./percentile.js";
export { SensorMonitor } from "./sensor-monitor.js";
export type { Measure, StreamKind, Summary, SummarySink } from "./summary.js";
export { DETECTOR_FAULTS, SAMPLE_NS } from "./traffic-diagnostics.js";
export { TrafficAggregator } from "./traffic.js";
