import type { CheckResult, DoctorCheck } from "./check.js";

const PROPS = [
  "LoadState",
  "ActiveState",
  "SubState",
  "UnitFileState",
  "NRestarts",
  "Result",
  "ExecMainCode",
  "ExecMainStatus",
  "ActiveEnterTimestamp",
  "ExecMainExitTimestamp",
] as const;

/** `systemctl show -p A,B` prints `A=value` lines. */
export function parseShow(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const i = line.indexOf("=");
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

/**
 * systemd's ExecMainCode is a siginfo si_code (CLD_EXITED 1, CLD_KILLED 2, CLD_DUMPED 3):
 * with 1 the status is an exit code, otherwise a signal number.
 */
export function describeExit(code: string | undefined, status: string | undefined): string | undefined {
  if (code === undefined || code === "0" || code === "") return undefined;
  const n = Number(status);
  if (code === "1") return `exit code ${n}${n === 1 ? " (runtime failure)" : n === 2 ? " (bad usage or config)" : ""}`;
  const signals: Record<number, string> = { 6: "SIGABRT", 9: "SIGKILL", 11: "SIGSEGV", 15: "SIGTERM" };
  return `killed by signal ${signals[n] ?? n}${n === 6 ? " (the watchdog or an abort)" : n === 9 ? " (out of memory, or stopped by force)" : ""}`;
}

/**
 * On a systemd host: the service's state, its restarts since it was started, how its main process
 * last ended, and the errors it logged since boot (what `iotedge check` and a technician's
 * `systemctl status` would show). Elsewhere (a laptop, a container) it says so and passes on.
 */
export const serviceCheck: DoctorCheck = {
  id: "service",
  needsConfig: false,
  async run(ctx) {
    const unit = ctx.options.unit ?? "roadside.service";
    const show = await ctx.env.exec("systemctl", ["show", unit, "--no-pager", `--property=${PROPS.join(",")}`]);
    if (show.missing) return [{ status: "skip", label: "service", title: "not a systemd host (no systemctl): no service to check" }];
    if (show.code !== 0) {
      const why = (show.stderr.trim().split("\n")[0] ?? "") || `systemctl exited ${show.code}`;
      return [
        {
          status: "skip",
          label: "service",
          title: `systemd is not running here (${why}): no service to check`,
          values: { unit, error: why },
        },
      ];
    }
    const p = parseShow(show.stdout);
    const values: CheckResult["values"] = {
      unit,
      loadState: p["LoadState"] ?? null,
      activeState: p["ActiveState"] ?? null,
      subState: p["SubState"] ?? null,
      enabled: p["UnitFileState"] ?? null,
      restarts: p["NRestarts"] !== undefined ? Number(p["NRestarts"]) : null,
      result: p["Result"] ?? null,
      lastExit: describeExit(p["ExecMainCode"], p["ExecMainStatus"]) ?? null,
      since: p["ActiveEnterTimestamp"] || null,
    };
    if (p["LoadState"] === "not-found") {
      return [
        {
          status: "skip",
          label: "service",
          title: `${unit} is not installed yet`,
          fix: "after doctor passes: sudo roadside install",
          values,
        },
      ];
    }
    const out: CheckResult[] = [];
    const restarts = Number(p["NRestarts"] ?? 0);
    const exit = describeExit(p["ExecMainCode"], p["ExecMainStatus"]);
    const state = `${p["ActiveState"] ?? "?"} (${p["SubState"] ?? "?"})`;
    const enabled = p["UnitFileState"] === "enabled" ? "" : `, ${p["UnitFileState"] ?? "?"} at boot`;
    const restartText = `${restarts} restart${restarts === 1 ? "" : "s"} since it was started${exit ? `; last exit: ${exit}` : ""}`;
    if (p["ActiveState"] === "failed") {
      out.push({
        status: "fail",
        label: "service",
        title: `${unit} failed (${p["Result"] ?? "?"}); ${restartText}${enabled}`,
        fix: `journalctl -u ${unit} -b shows why; fix it, then sudo systemctl restart ${unit}`,
        values,
      });
    } else if (p["ActiveState"] === "active") {
      const status = restarts > 0 || enabled ? "warn" : "pass";
      out.push({
        status,
        label: "service",
        title: `${unit} ${state} since ${p["ActiveEnterTimestamp"] || "?"}; ${restartText}${enabled}`,
        ...(status === "warn"
          ? {
              fix:
                restarts > 0
                  ? `it keeps restarting: journalctl -u ${unit} -b -p warning shows why`
                  : `sudo systemctl enable ${unit}, or it will not start after a power cut`,
            }
          : {}),
        values,
      });
    } else {
      // doctor asks for the service to be stopped while it holds the lines: stopped is expected
      out.push({
        status: restarts > 0 ? "warn" : "pass",
        label: "service",
        title: `${unit} ${state}; ${restartText}${enabled}`,
        fix: `start it again after doctor: sudo systemctl start ${unit}`,
        values,
      });
    }
    const journal = await ctx.env.exec("journalctl", ["-u", unit, "-b", "-p", "err", "--no-pager", "-q", "-o", "short-iso", "-n", "20"]);
    if (journal.code === 0) {
      const lines = journal.stdout.split("\n").filter((l) => l.trim() !== "");
      if (lines.length > 0) {
        out.push({
          status: "warn",
          label: "journal",
          title: `${lines.length}${lines.length === 20 ? "+" : ""} error${lines.length === 1 ? "" : "s"} logged by ${unit} since boot; the latest:`,
          detail: lines.slice(-5),
          fix: `journalctl -u ${unit} -b -p err shows them all`,
          values: { unit, errors: lines.length },
        });
      } else {
        out.push({ status: "pass", label: "journal", title: `no errors logged by ${unit} since boot`, values: { unit, errors: 0 } });
      }
    } else if (!journal.missing) {
      out.push({
        status: "skip",
        label: "journal",
        title: `cannot read the journal (${journal.stderr.trim().split("\n")[0] ?? ""})`,
        fix: "run doctor with sudo, or add the user to group systemd-journal",
      });
    }
    return out;
  },
};
