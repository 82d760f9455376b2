import type { CheckResult, DoctorCheck } from "./check.js";
import type { InputStat, LiveReport } from "./live.js";
import type { InputRole } from "./roles.js";
import { inputRoles } from "./roles.js";

/** IRIS/MnDOT: 38 or more vehicles in 30 s on one lane is chatter, not traffic (DOMAIN.md §1). */
const CHATTER_PER_30S = 38;

/**
 * How far a speed trap's two loop counts may differ before traffic stops explaining it: a vehicle
 * can be on the upstream loop when the watch ends and another on the downstream loop when it
 * begins (2), and a few per cent of vehicles change lanes between the loops (IRIS counts them
 * unpaired; the runtime's unpairedShare default is 25 % over 40 vehicles for a fault, 10 % here
 * because a technician should look long before that).
 */
export function trapTolerance(maxCount: number): number {
  return 2 + Math.ceil(0.1 * maxCount);
}

const where = (s: InputStat): string => (s.line.pin !== undefined ? `pin ${s.line.pin}` : s.line.name);

function judgeInput(s: InputStat, role: InputRole, live: LiveReport): CheckResult {
  const secs = `${live.seconds} s${live.time === "virtual" ? " (simulated)" : ""}`;
  const label = `${s.name} (${s.line.name}${s.line.pin !== undefined ? `, pin ${s.line.pin}` : ""})`;
  const now = s.level === 1 ? "active now" : "idle now";
  const values = {
    input: s.name,
    line: s.line.name,
    pin: s.line.pin ?? null,
    kind: role.kind,
    usedBy: role.owner ?? null,
    edges: s.edges,
    activations: s.rising,
    seconds: live.seconds,
    level: s.level,
    lastEdgeAgoS: s.lastEdgeAgoS === undefined ? null : Math.round(s.lastEdgeAgoS * 10) / 10,
    longestActiveS: Math.round(s.longestActiveS * 10) / 10,
    stuckAfterS: role.stuckAfterS ?? null,
  };
  const wholeWatch = s.edges === 0 && s.level === 1;
  if (role.stuckAfterS !== undefined && s.longestActiveS >= role.stuckAfterS) {
    const held = wholeWatch
      ? `held active for all ${secs}, no edges`
      : `held active (${role.activeMeans}) for ${s.longestActiveS.toFixed(1)} s, longer than the ${role.stuckAfterS} s bound; ${s.edges} edge${s.edges === 1 ? "" : "s"} in ${secs}; ${now}`;
    return {
      status: "fail",
      label: "input",
      title: `${label}: ${held}`,
      detail: [`bound: ${role.boundWhy}`],
      fix: role.stuck(where(s), s.name),
      values,
    };
  }
  if (wholeWatch) {
    // a switch may legitimately be active (a cover lifted for the visit): say so, do not fail
    const status = role.stuckAfterS === undefined || role.kind === "tilt" || role.kind === "lid" ? "warn" : "fail";
    return {
      status,
      label: "input",
      title: `${label}: held active (${role.activeMeans}) for all ${secs}, no edges`,
      fix: role.stuck(where(s), s.name),
      values,
    };
  }
  if (s.edges === 0)
    return { status: "warn", label: "input", title: `${label}: no edges in ${secs}; ${now}`, fix: role.noEdges(where(s)), values };
  if ((role.kind === "loop" || role.kind === "pulse-loop") && (s.rising * 30) / live.seconds >= CHATTER_PER_30S && live.seconds >= 10) {
    return {
      status: "fail",
      label: "input",
      title: `${label}: chatter, ${s.rising} activations in ${secs} is more than a lane carries`,
      fix: "check the card's sensitivity and the loop feeder's shield and splices; raise inputs.NAME.glitchMs if the pulses are short spikes",
      values,
    };
  }
  const title = `${label}: ${s.edges} edge${s.edges === 1 ? "" : "s"} in ${secs}, last ${s.lastEdgeAgoS!.toFixed(1)} s ago; ${now}${role.owner ? "" : " (no sensor uses it)"}`;
  return { status: "pass", label: "input", title, values };
}

/** A speed trap's loops see the same vehicles: counts that differ beyond transit and lane changes mean one loop is failing. */
function judgeTrap(detector: string, up: InputStat, down: InputStat, live: LiveReport): CheckResult {
  const secs = `${live.seconds} s${live.time === "virtual" ? " (simulated)" : ""}`;
  const tolerance = trapTolerance(Math.max(up.rising, down.rising));
  const diff = Math.abs(up.rising - down.rising);
  const values = {
    detector,
    upstream: up.name,
    downstream: down.name,
    upstreamVehicles: up.rising,
    downstreamVehicles: down.rising,
    difference: diff,
    tolerance,
    seconds: live.seconds,
  };
  const counts = `${up.name} counted ${up.rising}, ${down.name} ${down.rising} vehicle${down.rising === 1 ? "" : "s"} in ${secs}`;
  if (diff > tolerance) {
    const low = up.rising < down.rising ? up : down;
    return {
      status: "fail",
      label: "trap",
      title: `${detector}: the speed trap's loops disagree: ${counts} (traffic explains a difference of ${tolerance} at most)`,
      fix: `${low.name} misses vehicles or holds a call: check its card (fault LED, sensitivity) and its loop and feeder; the trap's speeds are wrong until both count alike`,
      values,
    };
  }
  return { status: "pass", label: "trap", title: `${detector}: speed trap loops agree: ${counts}`, values };
}

/** The wiring check: each input's level, its edges, its longest activation against its kind's bound; each speed trap's two counts. */
export const inputsCheck: DoctorCheck = {
  id: "inputs",
  needsConfig: true,
  async run(ctx) {
    const live = await ctx.live();
    if (live.inputsError) {
      const code = live.inputsErrorCode;
      const fix =
        code === "EBUSY" || /busy/i.test(live.inputsError)
          ? "the service (or another program) holds the lines: sudo systemctl stop roadside, run doctor, then start it again"
          : code === "ENOTSUP"
            ? "this version of roadside cannot read this board's inputs: update it (scripts/install.sh)"
            : "check that gpiod is installed (gpiomon --help) and that this user is in group gpio";
      return [
        {
          status: "fail",
          label: "inputs",
          title: `cannot open the inputs: ${live.inputsError}`,
          fix,
          values: { error: live.inputsError, code: code ?? null },
        },
      ];
    }
    if (live.inputs.length === 0) return [{ status: "skip", label: "inputs", title: "no inputs configured" }];
    const config = ctx.loaded!.config;
    const roles = inputRoles(config);
    const out = live.inputs.map((s) => judgeInput(s, roles.get(s.name)!, live));
    for (const [det, d] of Object.entries(config.detectors)) {
      if (d.loops.length !== 2 || d.mode !== "presence") continue;
      const up = live.inputs.find((s) => s.name === d.loops[0]);
      const down = live.inputs.find((s) => s.name === d.loops[1]);
      if (up && down) out.push(judgeTrap(det, up, down, live));
    }
    return out;
  },
};
