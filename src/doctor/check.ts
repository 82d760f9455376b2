import { spawn } from "node:child_process";
import { accessSync, readFileSync, statfsSync } from "node:fs";
import type { Board } from "../config/boards.js";
import type { ConfigIssue } from "../config/issues.js";
import type { LoadedConfig } from "../config/load.js";
import type { LiveReport } from "./live.js";

/**
 * `roadside doctor`: the on-site checklist. Each check looks at one thing a technician can fix on
 * the ladder and says ✓ or ✗, and for every ✗ what to do. Checks are data in a registry
 * (DOCTOR_CHECKS in ./index.ts), so a feature adds its own (a sensor's frame check) without
 * touching the others.
 */
export type CheckStatus = "pass" | "warn" | "fail" | "skip";

export interface CheckResult {
  status: CheckStatus;
  /** Short label in the list, e.g. `input`, `broker`. */
  label: string;
  /** One line: what was found. */
  title: string;
  /** More lines of evidence, if any. */
  detail?: string[];
  /** What to do about a ✗ or !, one line a technician can act on. */
  fix?: string;
  /**
   * The numbers and names behind the title, for `--json` (docs/field-guide.md "doctor --json"):
   * e.g. `{ input: "lane1.up", edges: 14, seconds: 30 }`. Keys are stable per label.
   */
  values?: Record<string, string | number | boolean | null>;
}

/** The machine, as the checks see it: replaced in tests, never module-level state. */
export interface DoctorEnv {
  readFile(path: string): string;
  exec(cmd: string, args: readonly string[], timeoutMs?: number): Promise<ExecResult>;
  /** Free and total bytes of the file system holding `path`. */
  diskSpace(path: string): { freeBytes: number; totalBytes: number };
  /** Whether `path` can be read and written (R_OK | W_OK). */
  writable(path: string): boolean;
  now(): number;
}

export interface ExecResult {
  /** Exit code; -1 when the program is not installed (ENOENT) or timed out. */
  code: number;
  stdout: string;
  stderr: string;
  missing?: boolean;
}

export interface DoctorOptions {
  /** How long to watch the inputs and serial ports, s. */
  seconds: number;
  /** On the simulated board: run the simulated site in real time (default: virtual, instant). */
  realTime: boolean;
  /** Broker URL overriding mqtt.url. */
  brokerUrl: string | undefined;
  /** Outbox folder. */
  stateDir: string;
  /** Software version, sent in the test publish. */
  version: string;
  /**
   * The file checks `roadside run` makes before it starts (its own function, passed in so doctor
   * cannot drift from it): every problem as a sentence naming the file and the fix.
   */
  checkDelivery?: (loaded: LoadedConfig, configDir: string) => string[];
  /** The user the service runs as (default roadside): files are checked as that user when doctor runs as root. */
  serviceUser?: string;
  /** The systemd unit (default roadside.service). */
  unit?: string;
  /** This process's uid (tests); default process.getuid(). */
  uid?: number;
}

export interface DoctorContext {
  readonly configPath: string;
  /** The config when valid; checks that need it are skipped otherwise. */
  readonly loaded: LoadedConfig | undefined;
  readonly issues: readonly ConfigIssue[];
  readonly boards: ReadonlyMap<string, Board>;
  readonly env: DoctorEnv;
  readonly options: DoctorOptions;
  /** A live status line (on a terminal), e.g. the seconds left of the wiring check. */
  progress(text: string): void;
  /** Open the inputs and serial ports once, watch them for `options.seconds`, close: shared by checks. */
  live(): Promise<LiveReport>;
}

export interface DoctorCheck {
  /** Used with --skip, e.g. `broker`. */
  readonly id: string;
  /** Skipped (not failed) when the config is invalid. */
  readonly needsConfig: boolean;
  run(ctx: DoctorContext): Promise<CheckResult[]>;
}

/** The real machine. */
export const systemEnv: DoctorEnv = {
  readFile: (p) => readFileSync(p, "utf8"),
  exec: (cmd, args, timeoutMs = 5000) =>
    new Promise((resolve) => {
      let stdout = "";
      let stderr = "";
      let done = false;
      const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        finish({ code: -1, stdout, stderr: `${stderr}timed out after ${timeoutMs} ms` });
      }, timeoutMs);
      const finish = (r: ExecResult): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(r);
      };
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.on("error", (err: NodeJS.ErrnoException) => finish({ code: -1, stdout, stderr: err.message, missing: err.code === "ENOENT" }));
      child.on("close", (code) => finish({ code: code ?? -1, stdout, stderr }));
    }),
  diskSpace: (p) => {
    const s = statfsSync(p);
    return { freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
  },
  writable: (p) => {
    try {
      accessSync(p, 6); // R_OK | W_OK
      return true;
    } catch {
      return false;
    }
  },
  now: () => Date.now(),
};

/** Bytes for people: `512 B`, `3.4 kB`, `12.1 GB`. */
export function bytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let v = n / 1000;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}
