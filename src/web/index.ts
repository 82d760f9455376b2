/**
 * The public face of src/web/: the device's status page and the fleet view of `roadside watch --web`.
 * The CLI loads these lazily, one module at a time (`await import("../web/device-start.js")`), so that
 * a device without a page and `watch` without `--web` load none of it; those dynamic imports name the
 * module, not this file (docs/architecture.md).
 */
export type { StartDeviceWebOptions, StartResult } from "./device-start.js";
export { startDeviceWeb } from "./device-start.js";
export type { DeviceWebOptions } from "./device-web.js";
export { DeviceWeb } from "./device-web.js";
export type { WatchWebOptions } from "./watch-web.js";
export { defaultHistoryPath, watchWeb } from "./watch-web.js";
