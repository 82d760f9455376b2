import { readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import type { Clock } from "../clock/index.js";
import type { LoadedConfig } from "../config/load.js";
import type { CheckResult } from "../doctor/check.js";
import type { OutboxStats } from "../outbox/outbox.js";
import { DeviceWeb } from "./device-web.js";
import { parseListen } from "../config/listen.js";

export interface StartDeviceWebOptions {
  loaded: LoadedConfig;
  configPath: string;
  configDir: string;
  clock: Clock;
  brokerUrl: string;
  outboxStats: () => OutboxStats;
  stateDir: string;
  version: string;
}

export type StartResult = { web: DeviceWeb; url: string } | { usage: string } | { failure: string };

/**
 * Checks that only read: the ones that open the hardware (the running device holds it; the page
 * shows its live inputs instead) and the broker's test publish are left out.
 */
const READ_ONLY_CHECKS = new Set(["clock", "disk", "outbox", "files", "service"]);

/** The token from web.tokenFile: an owner-only file of this user, first line. */
export function readToken(path: string, uid = process.getuid?.()): string {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch (err) {
    throw new Error(
      `web.tokenFile ${path}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message}; write a token into it (e.g. openssl rand -hex 16 > ${path}; chmod 600 ${path})`,
    );
  }
  if ((st.mode & 0o077) !== 0)
    throw new Error(`web.tokenFile ${path} can be read by others (mode ${(st.mode & 0o777).toString(8)}): chmod 600 ${path}`);
  if (uid !== undefined && st.uid !== uid)
    throw new Error(`web.tokenFile ${path} belongs to uid ${st.uid}, not to the user running roadside (${uid}): chown it`);
  const token = readFileSync(path, "utf8").split(/\r?\n/)[0]?.trim() ?? "";
  if (token.length < 16) throw new Error(`web.tokenFile ${path}: the token is shorter than 16 characters; use e.g. openssl rand -hex 16`);
  return token;
}

/** Start the status page of `web.listen` (the caller checked it is set). */
export async function startDeviceWeb(o: StartDeviceWebOptions): Promise<StartResult> {
  const web = o.loaded.config.web;
  const listen = parseListen(web?.listen ?? "");
  if (typeof listen === "string") return { usage: `web.listen: ${listen}` };
  let token: string | undefined;
  if (web?.tokenFile !== undefined) {
    try {
      token = readToken(resolve(o.configDir, web.tokenFile));
    } catch (err) {
      return { usage: (err as Error).message };
    }
  }
  const page = new DeviceWeb({
    listen,
    token,
    loaded: o.loaded,
    clock: o.clock,
    brokerUrl: o.brokerUrl,
    outboxStats: o.outboxStats,
    doctor: () => readOnlyDoctor(o),
  });
  try {
    return { web: page, url: await page.start() };
  } catch (err) {
    return { failure: `the status page cannot listen on ${web?.listen}: ${(err as Error).message}; the device runs without it` };
  }
}

/** doctor's read-only checks; its code is loaded when the technician first presses the button. */
async function readOnlyDoctor(o: StartDeviceWebOptions): Promise<CheckResult[]> {
  const [{ loadBoards }, { systemEnv }, { DOCTOR_CHECKS, runDoctor }] = await Promise.all([
    import("../config/boards.js"),
    import("../doctor/check.js"),
    import("../doctor/index.js"),
  ]);
  return runDoctor({
    configPath: o.configPath,
    loaded: o.loaded,
    issues: [],
    boards: loadBoards(),
    hardware: () => {
      throw new Error("the status page runs no hardware checks");
    },
    env: systemEnv,
    options: { seconds: 0, realTime: false, brokerUrl: undefined, stateDir: o.stateDir, version: o.version },
    progress: () => {},
    checks: DOCTOR_CHECKS.filter((c) => READ_ONLY_CHECKS.has(c.id)),
  });
}
