import { resolveSerialPath } from "./boards.js";
import { serialDeviceKey } from "./serial-device.js";
import { formatDuration } from "./duration.js";
import type { ConfigIssue } from "./issues.js";
import { closest } from "./issues.js";
import type { Check } from "./check.js";
import { TOPIC_SAFE, topicSafeSuggestion } from "./types.js";

/**
 * Semantic checks of the `identifiers` section: names that go into topics, windows no longer than
 * the key lifetime (so no key outlives its maximum), serial ports that exist on the board and are
 * used once.
 */
export const checkIdentifiers: Check = ({ config, board, failed, touched }) => {
  const out: ConfigIssue[] = [];
  if (failed.has("identifiers")) return out;
  const ids = config.identifiers;
  const maxS = ids.maxKeyLifetime;
  if (!touched(["identifiers", "window"]) && !touched(["identifiers", "maxKeyLifetime"]) && ids.window > maxS) {
    out.push({
      path: ["identifiers", "window"],
      message: `window ${formatDuration(ids.window)} is longer than maxKeyLifetime ${formatDuration(maxS)}: each window's key would outlive its maximum; shorten the window or raise maxKeyLifetime (at most 1h)`,
    });
  }
  const names = new Map<string, string>();
  const ports = new Map<string, string>();
  // every other serial sensor's device: an identifier sensor shares its port with none of them, or
  // its bytes (MAC addresses, tags) would reach a parser and a trace outside the privacy gate
  const others = new Map<string, string>();
  for (const [n, m] of Object.entries(config.manholes ?? {}))
    if (m.sensor.type !== "current-loop") others.set(serialDeviceKey(board, m.sensor.port.path), `manholes.${n}`);
  for (const [n, b] of Object.entries(config.bins ?? {})) others.set(serialDeviceKey(board, b.distance.port.path), `bins.${n}`);
  const sensors: [group: "scanners" | "readers", name: string, s: { port: { path: string }; window?: number | undefined }][] = [
    ...Object.entries(ids.scanners).map(([n, s]) => ["scanners", n, s] as ["scanners", string, typeof s]),
    ...Object.entries(ids.readers).map(([n, s]) => ["readers", n, s] as ["readers", string, typeof s]),
  ];
  for (const [group, name, s] of sensors) {
    const path = ["identifiers", group, name];
    if (!TOPIC_SAFE.test(name)) {
      out.push({
        path,
        message: `name ${JSON.stringify(name)} appears in topics (…/presence/${name}) and must use letters, digits, _ and - only; e.g. ${JSON.stringify(topicSafeSuggestion(name))}`,
      });
    }
    const other = names.get(name);
    if (other !== undefined)
      out.push({
        path,
        message: `${JSON.stringify(name)} is also the name of a ${other === "scanners" ? "scanner" : "reader"}; both would publish on …/presence/${name}: rename one`,
      });
    names.set(name, group);
    if (s.window !== undefined && s.window > maxS && !touched([...path, "window"])) {
      out.push({
        path: [...path, "window"],
        message: `window ${formatDuration(s.window)} is longer than identifiers.maxKeyLifetime ${formatDuration(maxS)}; shorten it or raise maxKeyLifetime (at most 1h)`,
      });
    }
    if (touched([...path, "port"])) continue;
    const ref = s.port.path;
    const resolved = board ? resolveSerialPath(board, ref) : ref;
    if (board && resolved === undefined) {
      const known = board.serial.map((p) => p.name);
      const hint = closest(ref, known);
      out.push({
        path: [...path, "port", "path"],
        message: `no serial port ${JSON.stringify(ref)} on board ${board.id}; ${hint ? `did you mean ${hint}? ` : ""}use one of ${known.join(", ") || "(none)"} or a device path such as /dev/ttyUSB0`,
      });
      continue;
    }
    const key = serialDeviceKey(board, ref);
    const user = ports.get(key) ?? others.get(key);
    if (user !== undefined) {
      out.push({
        path: [...path, "port", "path"],
        message: `serial port ${ref} is already used by ${user}${ports.has(key) ? "" : " (the same device under another name or the same path)"}; each sensor needs its own port${ports.has(key) ? "" : ", and an identifier sensor's bytes must reach no other parser and no trace"}`,
      });
    } else ports.set(key, name);
  }
  return out;
};

/** `sim.identifiers` may only simulate configured scanners and readers. */
export const checkSimIdentifiers: Check = ({ config, failed }) => {
  const out: ConfigIssue[] = [];
  if (!config.sim || failed.has("identifiers") || failed.has("sim")) return out;
  const ids = config.identifiers;
  for (const group of ["scanners", "readers"] as const) {
    const known = Object.keys(ids[group]);
    for (const name of Object.keys(config.sim.identifiers[group])) {
      if (name in ids[group]) continue;
      const hint = closest(name, known);
      out.push({
        path: ["sim", "identifiers", group, name],
        message: `no ${group === "scanners" ? "scanner" : "reader"} named ${JSON.stringify(name)} under identifiers.${group} to simulate; ${hint ? `did you mean ${hint}?` : `known: ${known.join(", ") || "none"}`}`,
      });
    }
  }
  return out;
};
