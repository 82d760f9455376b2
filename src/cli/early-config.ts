// `roadside run`'s config, validated in its worker thread from the moment the command is known: the
// ~200 ms of starting the worker and validating overlap the ~100 ms of loading run's own modules on
// a board with two or more cores (issue 15: start-up to the first message). zod-free, like main.ts.
import { loadConfigFileOffThread, loadDemoConfigOffThread } from "../config/load-off-thread.js";
import type { ValidationResult } from "../config/load.js";

/** A config load already under way, and the --config it was for (undefined: the built-in demo). */
export interface EarlyConfig {
  path: string | undefined;
  result: Promise<ValidationResult>;
}

/**
 * Start loading the config `run` will ask for, read from its arguments as parseArgs will (`--config F`,
 * `--config=F`, `-c F`, `-cF`; the last one wins). Nothing for `--help`. The command checks the path
 * against its own parse and loads again if they differ, so a guess here is never used wrongly.
 */
export function startConfigEarly(argv: readonly string[]): EarlyConfig | undefined {
  let path: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") break;
    if (a === "--help" || a === "-h") return undefined;
    if (a === "--config" || a === "-c") path = argv[++i];
    else if (a.startsWith("--config=")) path = a.slice("--config=".length);
    else if (a.startsWith("-c") && a.length > 2) path = a.slice(2);
  }
  const result = path === undefined ? loadDemoConfigOffThread() : loadConfigFileOffThread(path);
  // a command that stops before asking (a usage error) must not leave a rejection unhandled
  result.catch(() => {});
  return { path, result };
}

/** The early load's result if it was for `path` (the --config of run's own parse), else undefined: load again. */
export function earlyResultFor(early: EarlyConfig | undefined, path: string | undefined): Promise<ValidationResult> | undefined {
  return early && early.path === path ? early.result : undefined;
}
