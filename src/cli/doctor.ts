import { hardwareSerialPaths, loadBoards } from "../config/boards.js";
import type { LoadedConfig } from "../config/load.js";
import { loadConfigFile } from "../config/load.js";
import type { CheckResult } from "../doctor/index.js";
import { DOCTOR_CHECKS, runDoctor } from "../doctor/index.js";
import { boardHardware } from "./hardware.js";
import { systemEnv } from "../doctor/check.js";
import type { Io } from "./args.js";
import { EXIT, parse, UsageError } from "./args.js";
import { checkDelivery, stateDir } from "./run.js";
import { useColor } from "./color.js";
import { version } from "./version.js";

export const DOCTOR_HELP = `Usage: roadside doctor [options]

The on-site checklist: checks the config, the board, the GPIO chip, the
wiring of every input (its level now and its edges while it watches:
"lane2.up (GPIO22, pin 15): 14 edges in 30 s, last 0.8 s ago"; an input
held active longer than its sensor allows, e.g. a loop past its
heldPresenceS, is a fault), that each speed trap's two loops count alike,
each serial sensor, the clock, the disk and the outbox, the password, key
and certificate files as roadside run checks them (as the service user
when run with sudo; certificates expiring within 30 days are a warning,
expired ones a failure), the broker (a QoS 1 test publish to
{prefix}/{device}/doctor), and on a systemd host the service: its state,
restarts, last exit and the errors it logged since boot. Prints ✓, !
(warning) or ✗ for each, and for each ✗ or ! what to do. Stop the service
first (sudo systemctl stop roadside): it holds the GPIO lines.

Options:
  -c, --config FILE     device config (default /etc/roadside/device.yaml)
  -s, --seconds N       how long to watch the inputs and serial ports (default 30)
  -b, --broker URL      broker to test instead of mqtt.url
      --state-dir DIR   outbox folder (default as for roadside run)
      --skip IDS        leave checks out, comma-separated: ${DOCTOR_CHECKS.map((c) => c.id).join(", ")}
      --real-time       on board sim, run the simulated site in real time
                        (default: accelerated virtual time, done at once)
      --strict          warnings (!) fail too
      --json            one JSON object per result, one per line, then a summary
                        line (schema: docs/field-guide.md "doctor --json")
  -h, --help            show this help

Colours only on a terminal, never with NO_COLOR set.

Exit codes: 0 every check passed (warnings allowed, unless --strict), 1 a
check failed, 2 bad usage or the config has problems.
`;

const MARK = { pass: "✓", warn: "!", fail: "✗", skip: "-" } as const;
const COLOR = { pass: 32, warn: 33, fail: 31, skip: 90 } as const;

export async function doctorCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, {
    config: { type: "string", short: "c" },
    seconds: { type: "string", short: "s" },
    broker: { type: "string", short: "b" },
    "state-dir": { type: "string" },
    skip: { type: "string" },
    "real-time": { type: "boolean" },
    strict: { type: "boolean" },
    json: { type: "boolean" },
  });
  if (values.help) {
    io.out(DOCTOR_HELP);
    return EXIT.ok;
  }
  const seconds = values.seconds === undefined ? 30 : Number(values.seconds);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600)
    throw new UsageError(`--seconds ${JSON.stringify(values.seconds)}: give a number of seconds from 1 to 3600`);
  const skip = new Set(
    (values.skip ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  );
  const known = DOCTOR_CHECKS.map((c) => c.id);
  for (const s of skip) if (!known.includes(s)) throw new UsageError(`--skip ${s}: no such check; checks: ${known.join(", ")}`);
  if (values.broker !== undefined && !/^(mqtts?|wss?|tcp|ssl):\/\/[^/\s]+/.test(values.broker))
    throw new UsageError(`--broker ${JSON.stringify(values.broker)} is not a broker URL`);

  const configPath = values.config ?? "/etc/roadside/device.yaml";
  const result = loadConfigFile(configPath);
  const loaded: LoadedConfig | undefined = result.ok ? result.loaded : undefined;
  const color = useColor(io.isTTY) && !values.json;
  const paint = (code: number, s: string): string => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  let progressShown = false;
  const progress = (text: string): void => {
    if (!io.isTTY || values.json) return;
    io.out(`\r\x1b[K${text ? paint(90, text.slice(0, (process.stdout.columns || 100) - 1)) : ""}`);
    progressShown = text !== "";
  };
  const print = (r: CheckResult): void => {
    if (values.json) {
      io.out(`${JSON.stringify(jsonResult(r))}\n`);
      return;
    }
    if (progressShown) progress("");
    io.out(`${paint(COLOR[r.status], MARK[r.status])} ${r.label.padEnd(7)} ${r.title}\n`);
    for (const d of r.detail ?? []) io.out(`          ${d}\n`);
    if (r.fix && r.status !== "pass") io.out(`          ${paint(COLOR[r.status], "fix:")} ${r.fix}\n`);
  };

  if (!values.json) {
    io.out(
      loaded
        ? `roadside doctor: ${loaded.config.device.id} on ${loaded.board.name}, config ${configPath}\n\n`
        : `roadside doctor: config ${configPath}\n\n`,
    );
    if (loaded && seconds >= 5 && Object.keys(loaded.config.inputs).length > 0 && !skip.has("inputs")) {
      io.out(
        `(the wiring check watches the inputs for ${seconds} s${loaded.board.io === "sim" && !values["real-time"] && hardwareSerialPaths(loaded.board).size === 0 ? ", in simulated time" : ""})\n`,
      );
    }
  }
  const results = await runDoctor({
    configPath,
    loaded,
    issues: result.ok ? [] : result.issues,
    boards: loadBoards(),
    hardware: boardHardware,
    env: systemEnv,
    options: {
      seconds,
      realTime: values["real-time"] === true,
      brokerUrl: values.broker,
      stateDir: loaded ? stateDir(loaded, values["state-dir"]) : (values["state-dir"] ?? "."),
      version: version(),
      checkDelivery,
    },
    progress,
    skip,
    onResult: print,
  });
  const count = (s: CheckResult["status"]): number => results.filter((r) => r.status === s).length;
  const failed = count("fail") + (values.strict ? count("warn") : 0);
  const code = !loaded ? EXIT.usage : failed > 0 ? EXIT.failure : EXIT.ok;
  if (values.json) {
    io.out(
      `${JSON.stringify({ check: "summary", status: code === EXIT.ok ? "pass" : "fail", title: `${count("pass")} passed, ${count("warn")} warnings, ${count("fail")} failed, ${count("skip")} skipped`, values: { passed: count("pass"), warnings: count("warn"), failed: count("fail"), skipped: count("skip"), exitCode: code } })}\n`,
    );
  }
  if (!values.json) {
    io.out(
      `\n${count("pass")} passed, ${count("warn")} warning${count("warn") === 1 ? "" : "s"}, ${count("fail")} failed${count("skip") ? `, ${count("skip")} skipped` : ""}\n`,
    );
    if (failed === 0) io.out("all checks passed: install the service with roadside install, then watch the data with roadside watch\n");
  }
  return code;
}

/** One line of `doctor --json` (docs/field-guide.md "doctor --json"). */
export function jsonResult(r: CheckResult): Record<string, unknown> {
  return {
    check: r.label,
    status: r.status,
    title: r.title,
    ...(r.values ? { values: r.values } : {}),
    ...(r.detail ? { detail: r.detail } : {}),
    ...(r.fix ? { fix: r.fix } : {}),
  };
}
