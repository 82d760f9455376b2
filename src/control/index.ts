/**
 * The public face of src/control/: health, heartbeat, remote commands and their signatures, the
 * manifest, the supervisor. Other folders import through this file (see docs/architecture.md for the
 * imports that stay direct so as not to load more at start).
 */
export type { CommandHooks } from "./commands.js";
export { Commands } from "./commands.js";
export { HealthRegistry } from "./health.js";
export type { HealthReport } from "./health-report.js";
export { buildHealthReport } from "./health-report.js";
export { Heartbeat } from "./heartbeat.js";
export type { Manifest, ManifestStream } from "./manifest.js";
export { buildManifest } from "./manifest.js";
export { ServiceNotifier } from "./notify.js";
export { CommandVerifier, DeviceReplayStore, FileReplayStore, loadPublicKey } from "./signing.js";
export type { Generation, SupervisorHooks } from "./supervisor.js";
export { RESTART_EXIT_CODE, Supervisor } from "./supervisor.js";
export type { SystemProbe } from "./system.js";
export { linuxSystemProbe } from "./system.js";
