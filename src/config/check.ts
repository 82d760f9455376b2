import type { Board, BoardLine } from "./boards.js";
import type { ConfigIssue } from "./issues.js";
import type { DeviceConfig } from "./schema.js";

/** What semantic checks get: the parsed config, its board (if it exists) and every known board. */
export interface CheckContext {
  config: DeviceConfig;
  board: Board | undefined;
  boards: ReadonlyMap<string, Board>;
  /** Input name → resolved board line, filled by the input check. */
  lines: Map<string, BoardLine>;
  /** Top-level sections that failed the schema: checks skip cross-references into them. */
  failed: ReadonlySet<string>;
  /** True when the schema already reported a problem at or below `path` (the bad value was set aside). */
  touched(path: readonly (string | number)[]): boolean;
}

/** A semantic check: looks at the whole config and reports every problem it finds. */
export type Check = (ctx: CheckContext) => ConfigIssue[];
