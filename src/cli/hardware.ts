import type { Clock } from "../clock/index.js";
import type { LoadedConfig } from "../config/load.js";
import { createHardware, type Hardware } from "../io/factory.js";
import type { Logger } from "../log/logger.js";
import { createSimHardware } from "../sim/hardware.js";

/**
 * The composition root's choice of IO backends: the board's own (src/io) plus the simulator for
 * `board: sim`. Kept here, not in src/io, so the production IO path never loads the simulator
 * and io/ never imports what sits above it (test/architecture/imports.test.ts).
 */
export function boardHardware(loaded: LoadedConfig, opts: { clock: Clock; logger: Logger }): Hardware {
  return createHardware(loaded, { ...opts, backends: { sim: (l, o) => createSimHardware(l, o) } });
}
