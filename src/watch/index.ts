/**
 * The public face of src/watch/: the subscriber's model of a fleet, its events, decoders, the live
 * view and the terminal table. Other folders import through this file (see docs/architecture.md for
 * the imports that stay direct so as not to load more at start).
 */
export { decodeMessages } from "./compact.js";
export { AuthFileError, brokerOptions } from "./connect.js";
export type { AlarmEvent, MeasureValue, WatchEvent } from "./events.js";
export { healthView } from "./health.js";
export { InputTally } from "./input-tally.js";
export type { DeviceObserver } from "./live-view.js";
export { journalObserver, LiveView } from "./live-view.js";
export type { DeviceState } from "./model.js";
export { WatchModel } from "./model.js";
export { Screen } from "./screen.js";
export { describe, renderTable } from "./table.js";
