/**
 * The public face of src/clock/: the Clock contract, windows, the real and virtual clocks, the backoff.
 * Other folders import through this file. `cron.ts` (the node-cron ticker) is left out on purpose: it
 * loads node-cron, which only a device running in real time needs, so its importers name it directly.
 */
export type { Clock, TimerHandle, TimerPriority } from "./clock.js";
export { NS_PER_MS, NS_PER_S, nsToS, sToNs } from "./clock.js";
export type { Ticker, Window, WindowListener } from "./windows.js";
export { alignedStart, nextBoundary, observedSeconds, WindowScheduler } from "./windows.js";
export { VirtualClock, yieldToEventLoop } from "./virtual.js";
export { RealClock } from "./real.js";
export { backoffDelay } from "./backoff.js";
