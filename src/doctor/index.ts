import type { Board } from "../config/boards.js";
import type { ConfigIssue } from "../config/issues.js";
import { formatIssue } from "../config/issues.js";
import type { LoadedConfig } from "../config/load.js";
import { brokerCheck } from "./broker.js";
import type { CheckResult, DoctorCheck, DoctorContext, DoctorEnv, DoctorOptions } from "./check.js";
import type { LiveReport } from "./live.js";
import { watchLive } from "./live.js";
import type { HardwareSource } from "../io/factory.js";
import { boardCheck, clockCheck, diskCheck, gpioCheck, outboxCheck, serialCheck } from "./system.js";
import { inputsCheck } from "./wiring.js";
import { filesCheck } from "./files.js";
import { serviceCheck } from "./service.js";

export type { CheckResult, CheckStatus, DoctorCheck, DoctorContext, DoctorEnv, DoctorOptions } from "./check.js";
export { SERIAL_PROBES } from "./system.js";
export type { SerialProbe } from "./system.js";

/**
 * Every check, in the order a technician works: the board and its GPIO chip, the wiring (inputs,
 * serial sensors), then time, storage and the link to the city. Features append their own checks
 * here (and serial frame parsers to SERIAL_PROBES).
 */
export const DOCTOR_CHECKS: DoctorCheck[] = [
  boardCheck,
  gpioCheck,
  inputsCheck,
  serialCheck,
  clockCheck,
  diskCheck,
  outboxCheck,
  filesCheck,
  brokerCheck,
  serviceCheck,
];

export interface DoctorRun {
  configPath: string;
  loaded: LoadedConfig | undefined;
  issues: readonly ConfigIssue[];
  boards: ReadonlyMap<string, Board>;
  env: DoctorEnv;
  options: DoctorOptions;
  progress: (text: string) => void;
  /** Checks to run (default DOCTOR_CHECKS) and ids to leave out. */
  checks?: readonly DoctorCheck[];
  skip?: ReadonlySet<string>;
  /** Each result as soon as it is known. */
  onResult?: (r: CheckResult) => void;
  /** The board's IO backends, chosen by the composition root (src/cli/hardware.ts). */
  hardware: HardwareSource;
}

/**
 * Run the checks one after another (they share the hardware, so never two at once), each in its
 * own error boundary: a check that throws is a ✗ naming the error, and the others still run.
 */
export async function runDoctor(run: DoctorRun): Promise<CheckResult[]> {
  let live: Promise<LiveReport> | undefined;
  const ctx: DoctorContext = {
    configPath: run.configPath,
    loaded: run.loaded,
    issues: run.issues,
    boards: run.boards,
    env: run.env,
    options: run.options,
    progress: run.progress,
    live: () =>
      (live ??= watchLive(run.loaded!, {
        seconds: run.options.seconds,
        realTime: run.options.realTime,
        progress: run.progress,
        hardware: run.hardware,
      })),
  };
  const results: CheckResult[] = [];
  const add = (r: CheckResult): void => {
    results.push(r);
    run.onResult?.(r);
  };
  add(
    run.loaded
      ? {
          status: "pass",
          label: "config",
          title: `${run.configPath} is valid: device ${run.loaded.config.device.id} on ${run.loaded.board.name}, ${Object.keys(run.loaded.config.inputs).length} inputs, ${Object.keys(run.loaded.config.detectors).length} detectors`,
          values: {
            config: run.configPath,
            device: run.loaded.config.device.id,
            board: run.loaded.board.id,
            inputs: Object.keys(run.loaded.config.inputs).length,
            detectors: Object.keys(run.loaded.config.detectors).length,
            problems: 0,
          },
        }
      : {
          status: "fail",
          label: "config",
          title: `${run.configPath} has ${run.issues.length} problem${run.issues.length === 1 ? "" : "s"}`,
          detail: run.issues.map(formatIssue),
          fix: `fix each line above (roadside validate ${run.configPath}), or write a new one with roadside provision`,
          values: { config: run.configPath, problems: run.issues.length },
        },
  );
  for (const check of run.checks ?? DOCTOR_CHECKS) {
    if (run.skip?.has(check.id)) continue;
    if (check.needsConfig && !run.loaded) continue;
    try {
      for (const r of await check.run(ctx)) add(r);
    } catch (err) {
      add({
        status: "fail",
        label: check.id,
        title: `the ${check.id} check failed: ${(err as Error).message}`,
        fix: "report this with the output of roadside doctor",
      });
    }
  }
  return results;
}
