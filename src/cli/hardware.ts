import type { Clock } from "../clock/index.js";
import type { LoadedConfig } from "../config/load.js";
import { createHardware, type Hardware } from "../io/factory.js";
import type { Logger } from "../log/logger.js";

/**
 * The composition root's choice of IO backends: the board's own (src/io) plus the simulator for
 * `board: sim`. Kept here, not in src/io, so io/ never imports what sits above it
 * (test/architecture/imports.test.ts); the simulator is loaded only for a `sim` board, so a device
 * on real hardware never loads it (issue 15: start-up and memory).
 */
export async function boardHardware(loaded: LoadedConfig, opts: { clock: Clock; logger: Logger }): Promise<Hardware> {
  const sim = loaded.board.io === "sim" ? (await import("../sim/hardware.js")).createSimHardware : undefined;
  return createHardware(loaded, { ...opts, ...(sim ? { backends: { sim } } : {}) });
}
