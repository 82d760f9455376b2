// Reads and validates the device config in a short-lived worker thread and returns the plain result,
// so the commands that keep running (`run`, `sim`, `replay`) never load zod, yaml or the config
// schemas: ~8 MB of a ~20 MB live heap, kept for the life of the process once imported, since ES
// modules are never unloaded (issue 15). Only type imports from the validating modules here.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { ValidationResult } from "./load.js";

/** What the worker loads: a config file, or the built-in demo config (`roadside run` with no --config). */
export type ConfigRequest = { kind: "file"; path: string } | { kind: "demo" };

export interface OffThreadOptions {
  /** The worker's module; default config-worker.js beside this module (dist/config/ or, bundled, dist/app/). */
  worker?: URL;
}

/** `loadConfigFile(path)`, run in a worker thread: the same result, issues and messages. */
export function loadConfigFileOffThread(path: string, opts: OffThreadOptions = {}): Promise<ValidationResult> {
  return loadOffThread({ kind: "file", path }, opts);
}

/** `validateConfig(demoConfig())`, run in a worker thread. */
export function loadDemoConfigOffThread(opts: OffThreadOptions = {}): Promise<ValidationResult> {
  return loadOffThread({ kind: "demo" }, opts);
}

async function loadOffThread(req: ConfigRequest, opts: OffThreadOptions): Promise<ValidationResult> {
  const url = opts.worker ?? new URL("./config-worker.js", import.meta.url);
  if (!existsSync(fileURLToPath(url))) {
    // Run from the TypeScript sources (vitest), there is no compiled worker beside this module, and a
    // worker thread cannot run .ts; loading in this thread gives the same result.
    const { demoConfig } = await import("./defaults.js");
    const { loadConfigFile, validateConfig } = await import("./load.js");
    return req.kind === "file" ? loadConfigFile(req.path) : validateConfig(demoConfig());
  }
  const what = req.kind === "file" ? req.path : "the built-in demo config";
  return new Promise<ValidationResult>((resolve, reject) => {
    let result: ValidationResult | undefined;
    let failure: Error | undefined;
    const worker = new Worker(url, { workerData: req });
    worker.once("message", (m: ValidationResult) => {
      result = m;
      // its result is all it has to give: the caller goes on while the thread and its heap (zod, yaml,
      // the schemas) are torn down, ~10s of ms sooner than waiting for 'exit'
      resolve(m);
      void worker.terminate();
    });
    worker.once("error", (err) => {
      failure = err;
    });
    worker.once("exit", (code) => {
      if (!result)
        reject(
          new Error(
            `cannot load ${what}: the config loader's thread ${failure ? `failed: ${failure.message}` : `exited (code ${code}) without a result`}; ` +
              "reinstall roadside (npm run build) if its files are damaged",
          ),
        );
    });
  });
}
