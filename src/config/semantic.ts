import { findLine } from "./boards.js";
import { checkIdentifiers, checkSimIdentifiers } from "./identifiers-checks.js";
import type { ConfigIssue } from "./issues.js";
import { closest, distance } from "./issues.js";
import { checkBins, checkLevelSensors, checkManholes, checkSimSewerBins } from "./sections/level-checks.js";
import { checkIo } from "./sections/io.js";
import { checkSimFaults } from "./sim-faults.js";
import { checkDelivery } from "./sections/delivery-checks.js";
import { LANE_TYPES } from "./sections/detectors.js";
import type { Check } from "./check.js";
import { SIGNAL_NAME, TOPIC_SAFE, topicSafeSuggestion } from "./types.js";

// the check contract lives in ./check.js so the section checks need not import this file (a cycle)
export type { Check, CheckContext } from "./check.js";

export const checkDevice: Check = ({ config, board, boards }) => {
  const out: ConfigIssue[] = [];
  if (!TOPIC_SAFE.test(config.device.id)) {
    out.push({
      path: ["device", "id"],
      message: `${JSON.stringify(config.device.id)} is not safe in MQTT topics; use letters, digits, _ and - only (max 64), e.g. ${JSON.stringify(topicSafeSuggestion(config.device.id))}`,
    });
  }
  if (!board) {
    const ids = [...boards.keys()];
    const hint = closest(config.device.board, ids);
    // raspberry-pi-6 is one letter from every Pi: a guess among equals (raspberry-pi-3) misleads
    const ties = hint ? ids.filter((id) => distance(config.device.board, id) === distance(config.device.board, hint)) : [];
    out.push({
      path: ["device", "board"],
      message: `no board ${JSON.stringify(config.device.board)} in boards/; ${hint && ties.length === 1 ? `did you mean ${hint}? ` : ""}known boards: ${ids.join(", ")}`,
    });
  }
  return out;
};

export const checkInputs: Check = ({ config, board, lines, touched }) => {
  const out: ConfigIssue[] = [];
  const used = new Map<number, string>();
  for (const [name, input] of Object.entries(config.inputs)) {
    const path = ["inputs", name];
    if (!SIGNAL_NAME.test(name)) {
      out.push({ path, message: `input name ${JSON.stringify(name)} may use letters, digits, _, - and . only (max 64)` });
    }
    if ((input.line === undefined) === (input.pin === undefined)) {
      if (touched(path)) continue;
      out.push({
        path,
        message:
          input.line === undefined
            ? "give the input a line (e.g. line: GPIO17) or a header pin (e.g. pin: 11)"
            : "give either line or pin, not both",
      });
      continue;
    }
    if (!board) continue;
    const found = findLine(board, input);
    if (!found) {
      const field = input.pin !== undefined ? "pin" : "line";
      const usable = board.gpio.lines;
      const list =
        field === "pin"
          ? usable
              .filter((l) => l.pin !== undefined)
              .map((l) => l.pin)
              .sort((a, b) => a! - b!)
              .join(", ")
          : `${usable[0]?.name}…${usable[usable.length - 1]?.name}`;
      out.push({
        path: [...path, field],
        message: `${JSON.stringify(input.pin ?? input.line)} is not a usable GPIO ${field} of ${board.id}; use one of ${list} (see boards/${board.id}.json)`,
      });
      continue;
    }
    const other = used.get(found.line);
    if (other !== undefined) {
      out.push({
        path: [...path, input.pin !== undefined ? "pin" : "line"],
        message: `${found.name} is already used by input ${JSON.stringify(other)}; each line can feed one input only`,
      });
      continue;
    }
    used.set(found.line, name);
    lines.set(name, found);
  }
  return out;
};

export const checkDetectors: Check = ({ config, failed, touched }) => {
  const out: ConfigIssue[] = [];
  const inputNames = Object.keys(config.inputs);
  const usedBy = new Map<string, string>();
  for (const [name, det] of Object.entries(config.detectors)) {
    const path = ["detectors", name];
    if (!TOPIC_SAFE.test(name)) {
      out.push({
        path,
        message: `detector name ${JSON.stringify(name)} appears in topics and must use letters, digits, _ and - only; e.g. ${JSON.stringify(topicSafeSuggestion(name))}`,
      });
    }
    det.loops.forEach((input, i) => {
      if (failed.has("inputs")) return;
      if (!(input in config.inputs)) {
        const hint = closest(input, inputNames);
        out.push({
          path: [...path, "loops", i],
          message: `no input named ${JSON.stringify(input)}; ${hint ? `did you mean ${hint}?` : `define it under inputs: (known: ${inputNames.join(", ") || "none"})`}`,
        });
        return;
      }
      const prev = usedBy.get(input);
      if (prev !== undefined)
        out.push({
          path: [...path, "loops", i],
          message: `input ${JSON.stringify(input)} already feeds detector ${JSON.stringify(prev)}; give each detector its own inputs`,
        });
      else usedBy.set(input, name);
    });
    if (det.loops.length === 2 && det.loops[0] === det.loops[1]) {
      out.push({ path: [...path, "loops"], message: "a speed trap needs two different inputs: [upstream, downstream]" });
    }
    if (det.mode === "pulse" && det.loops.length === 2) {
      out.push({
        path: [...path, "mode"],
        message: "pulse-mode cards give counts only, so a speed trap needs presence mode; set mode: presence or use one loop",
      });
    }
    if (det.loops.length === 2 && det.spacingM <= det.loopLengthM && !touched([...path, "spacingM"])) {
      out.push({
        path: [...path, "spacingM"],
        message: `spacingM ${det.spacingM} is not more than loopLengthM ${det.loopLengthM}: the loops would overlap; spacingM is measured from the upstream loop's leading edge to the downstream loop's leading edge`,
      });
    }
    const classes = det.lengthClasses;
    const seen = new Set<string>();
    classes.forEach((c, i) => {
      const cpath = [...path, "lengthClasses", i];
      if (!TOPIC_SAFE.test(c.name))
        out.push({
          path: [...cpath, "name"],
          message: `class name ${JSON.stringify(c.name)} is published as class.${c.name}; use letters, digits, _ and - only, e.g. ${JSON.stringify(topicSafeSuggestion(c.name))}`,
        });
      else if (seen.has(c.name))
        out.push({ path: [...cpath, "name"], message: `class ${JSON.stringify(c.name)} is listed twice; give each class its own name` });
      seen.add(c.name);
      const prev = classes[i - 1];
      if (prev && c.maxM <= prev.maxM)
        out.push({
          path: [...cpath, "maxM"],
          message: `maxM ${c.maxM} must be above the previous class's ${prev.maxM}: list classes shortest first`,
        });
    });
    const d = det.diagnostics;
    const lockedOn = d.lockedOnS ?? LANE_TYPES[det.laneType].lockedOnS;
    if (d.heldPresenceS !== undefined && d.heldPresenceS > lockedOn) {
      out.push({
        path: [...path, "diagnostics", "heldPresenceS"],
        message: `heldPresenceS ${d.heldPresenceS} s is longer than lockedOnS ${lockedOn} s; a held presence becomes a locked-on fault at lockedOnS, so use at most ${lockedOn}`,
      });
    }
  }
  return out;
};

export const checkMqtt: Check = ({ config }) => {
  const out: ConfigIssue[] = [];
  const prefix = config.mqtt.prefix;
  if (prefix.split("/").some((seg) => !TOPIC_SAFE.test(seg))) {
    out.push({
      path: ["mqtt", "prefix"],
      message: `${JSON.stringify(prefix)} is not a safe topic prefix; use segments of letters, digits, _ and - separated by / (no +, #, spaces or empty segments), e.g. "roadside" or "city/roadside"`,
    });
  }
  return out;
};

export const checkSim: Check = ({ config, failed, board }) => {
  const out: ConfigIssue[] = [];
  if (!config.sim) return out;
  if (failed.has("detectors")) return out;
  const dets = Object.keys(config.detectors);
  for (const name of Object.keys(config.sim.traffic)) {
    if (!(name in config.detectors)) {
      const hint = closest(name, dets);
      out.push({
        path: ["sim", "traffic", name],
        message: `no detector named ${JSON.stringify(name)} to simulate; ${hint ? `did you mean ${hint}?` : `known detectors: ${dets.join(", ") || "none"}`}`,
      });
    }
  }
  // any board whose io is sim (sim, virtual-device) takes simulated signals
  if (board ? board.io !== "sim" : config.device.board !== "sim") {
    out.push({
      path: ["sim"],
      message: `simulated signals need a simulated board, device.board: sim (this device runs on ${config.device.board}); remove the sim section or change the board`,
    });
  }
  return out;
};

/**
 * Every semantic check, in order. Feature sections add theirs here; each reports all its problems.
 * Checks run even when the schema found problems elsewhere, so one run lists everything.
 */
export const CHECKS: Check[] = [
  checkDevice,
  checkInputs,
  checkDetectors,
  checkMqtt,
  checkSim,
  checkManholes,
  checkBins,
  checkLevelSensors,
  checkSimSewerBins,
  checkIdentifiers,
  checkSimIdentifiers,
];
CHECKS.push(checkSimFaults); // sim.faults: known kinds, existing targets (src/config/sim-faults.ts)
CHECKS.push(checkIo); // io.firmata only on johnny-five boards
CHECKS.push(checkDelivery); // mqtt TLS/credentials, backoff (src/config/sections/delivery-checks.ts)
