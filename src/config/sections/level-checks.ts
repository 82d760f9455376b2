import { LEVEL_MODELS, levelModel } from "../../sensors/models/index.js";
import { resolveSerialPath } from "../boards.js";
import { serialDeviceKey } from "../serial-device.js";
import type { ConfigIssue } from "../issues.js";
import { closest } from "../issues.js";
import type { Check, CheckContext } from "../check.js";
import { TOPIC_SAFE, topicSafeSuggestion } from "../types.js";
import type { RangeSensorConfig } from "./level-sensors.js";

/** Semantic checks of the manholes and bins sections (appended to CHECKS in semantic.ts). */

/** The model's definition (the schema has already refused unknown ids). */
function model(id: string) {
  const m = levelModel(id);
  if (!m) throw new Error(`no level sensor model ${JSON.stringify(id)}`);
  return m;
}

type Path = (string | number)[];

/** Serial ports, ADC addresses and inputs used by every manhole and bin, to find double use. */
function collectUses(ctx: CheckContext): { ports: [string, Path, RangeSensorConfig][]; adcs: [number, Path][]; inputs: [string, Path][] } {
  const ports: [string, Path, RangeSensorConfig][] = [];
  const adcs: [number, Path][] = [];
  const inputs: [string, Path][] = [];
  for (const [name, m] of Object.entries(ctx.config.manholes)) {
    if (m.sensor.type !== "current-loop") ports.push([name, ["manholes", name, "sensor", "port", "path"], m.sensor]);
    else adcs.push([m.sensor.adc.address, ["manholes", name, "sensor", "adc", "address"]]);
    if (m.cover) inputs.push([m.cover.input, ["manholes", name, "cover", "input"]]);
  }
  for (const [name, b] of Object.entries(ctx.config.bins)) {
    ports.push([name, ["bins", name, "distance", "port", "path"], b.distance]);
    if (b.temperature) adcs.push([b.temperature.adc.address, ["bins", name, "temperature", "adc", "address"]]);
    if (b.tilt) inputs.push([b.tilt.input, ["bins", name, "tilt", "input"]]);
    if (b.lid) inputs.push([b.lid.input, ["bins", name, "lid", "input"]]);
  }
  return { ports, adcs, inputs };
}

export const checkLevelSensors: Check = (ctx) => {
  const out: ConfigIssue[] = [];
  const { config, board, failed } = ctx;
  const { ports, adcs, inputs } = collectUses(ctx);
  // ports: known to the board, one sensor each, except a Modbus line: several slaves, one unit id each
  const byPath = new Map<string, string>();
  const buses = new Map<string, { owner: string; sensor: RangeSensorConfig & { type: "modbus" }; units: Map<number, string> }>();
  for (const [, path, sensor] of ports) {
    const ref = sensor.port.path;
    if (!board) continue;
    const resolved = resolveSerialPath(board, ref);
    if (resolved === undefined) {
      const names = board.serial.map((p) => p.name);
      const hint = closest(ref, names);
      out.push({
        path,
        message: `${JSON.stringify(ref)} is not a serial port of ${board.id}; ${hint ? `did you mean ${hint}? ` : ""}use a device path (/dev/ttyUSB0, /dev/serial/by-id/…) or one of ${names.join(", ") || "none"}`,
      });
      continue;
    }
    // one device under two names (uart0 and /dev/ttyAMA0, a symlink) is one port
    const key = serialDeviceKey(board, ref);
    const here = path.slice(0, 2).join(".");
    if (sensor.type === "modbus") {
      const bus = buses.get(key);
      if (!bus && !byPath.has(key)) {
        buses.set(key, { owner: here, sensor, units: new Map([[sensor.unitId, here]]) });
        byPath.set(key, here);
        continue;
      }
      if (bus) {
        const a = bus.sensor.port;
        const b = sensor.port;
        const same = a.baudRate === b.baudRate && a.dataBits === b.dataBits && a.parity === b.parity && a.stopBits === b.stopBits;
        const twin = bus.units.get(sensor.unitId);
        if (!same)
          out.push({
            path: path.slice(0, -1),
            message: `${resolved} is the RS-485 line of ${bus.owner} at ${a.baudRate} ${a.dataBits}${a.parity[0]!.toUpperCase()}${a.stopBits}; every sensor on one line must use the same settings (set them on the sensor, then here)`,
          });
        else if (twin !== undefined)
          out.push({
            path: [...path.slice(0, -2), "unitId"],
            message: `unit id ${sensor.unitId} is already ${twin} on ${resolved}; give each sensor on the line its own Modbus address (set it on the sensor first)`,
          });
        else bus.units.set(sensor.unitId, here);
        continue;
      }
    }
    const other = byPath.get(key);
    if (other !== undefined)
      out.push({ path, message: `serial port ${resolved} is already used by ${other}; each sensor needs its own port` });
    else byPath.set(key, here);
  }
  const byAdc = new Map<number, string>();
  for (const [addr, path] of adcs) {
    if (board && board.io === "gpiochip" && board.i2c.length === 0) {
      out.push({
        path,
        message: `${board.id} has no I²C bus in its board file, and reads GPIO through the character device (no johnny-five IO plugin): the ADS1115 cannot be read; use a Raspberry Pi board (I²C on /dev/i2c-1) or a Firmata board on USB`,
      });
      continue;
    }
    const other = byAdc.get(addr);
    if (other !== undefined)
      out.push({
        path,
        message: `ADS1115 at 0x${addr.toString(16)} is already used by ${other}; give each sensor its own ADC (set its ADDR pin for 0x48–0x4b)`,
      });
    else byAdc.set(addr, path.slice(0, 2).join("."));
  }
  if (!failed.has("inputs")) {
    const known = Object.keys(config.inputs);
    const used = new Map<string, string>();
    for (const det of Object.entries(config.detectors)) for (const i of det[1].loops) used.set(i, `detector ${det[0]}`);
    for (const [input, path] of inputs) {
      if (!(input in config.inputs)) {
        const hint = closest(input, known);
        out.push({
          path,
          message: `no input named ${JSON.stringify(input)}; ${hint ? `did you mean ${hint}?` : `define it under inputs: (known: ${known.join(", ") || "none"})`}`,
        });
        continue;
      }
      const other = used.get(input);
      if (other !== undefined)
        out.push({ path, message: `input ${JSON.stringify(input)} already feeds ${other}; give each switch its own input` });
      else used.set(input, path.slice(0, 2).join("."));
    }
  }
  return out;
};

export const checkManholes: Check = ({ config }) => {
  const out: ConfigIssue[] = [];
  for (const [name, m] of Object.entries(config.manholes)) {
    const p = ["manholes", name];
    if (!TOPIC_SAFE.test(name))
      out.push({
        path: p,
        message: `manhole name ${JSON.stringify(name)} appears in topics; use letters, digits, _ and - only, e.g. ${JSON.stringify(topicSafeSuggestion(name))}`,
      });
    const s = m.sensor;
    if (s.type !== "current-loop") {
      const mount = m.mountHeightMm;
      const def = model(s.model);
      if (mount === undefined) {
        out.push({
          path: [...p, "mountHeightMm"],
          message: `an ${def.principle} sensor needs mountHeightMm: the height of its face above the channel invert (depth = mountHeightMm − range)`,
        });
      } else {
        const minR = def.minRangeMm;
        if (m.overflowHeightMm >= mount) {
          out.push({
            path: [...p, "overflowHeightMm"],
            message: `overflow height ${m.overflowHeightMm} mm is at or above the sensor (mountHeightMm ${mount}); measure both from the channel invert`,
          });
        } else if (mount - m.overflowHeightMm < minR) {
          out.push({
            path: [...p, "overflowHeightMm"],
            message: `the overflow is ${mount - m.overflowHeightMm} mm below the sensor, inside its ${minR} mm minimum range, so a spill cannot be measured; mount the sensor at least ${minR} mm above the crest`,
          });
        }
        if (mount > def.maxRangeMm) {
          const longer = LEVEL_MODELS.filter((o) => o.interface === def.interface && o.maxRangeMm >= mount).map((o) => o.id);
          out.push({
            path: [...p, "mountHeightMm"],
            message: `${mount} mm is beyond the ${def.name}'s range (${def.maxRangeMm} mm); use a longer-range model${longer.length ? ` (${longer.join(", ")})` : ""}`,
          });
        }
      }
    } else {
      if (m.mountHeightMm !== undefined)
        out.push({
          path: [...p, "mountHeightMm"],
          message: "mountHeightMm is for ultrasonic sensors; a current-loop transducer uses sensor.offsetMm (its height above the invert)",
        });
      if (m.overflowHeightMm > s.offsetMm + s.spanMm) {
        out.push({
          path: [...p, "overflowHeightMm"],
          message: `the transducer measures up to ${s.offsetMm + s.spanMm} mm (offsetMm + spanMm), below the overflow at ${m.overflowHeightMm} mm; use a transducer with a larger span`,
        });
      }
    }
    if (m.sampling.fast > m.sampling.dry)
      out.push({
        path: [...p, "sampling", "fast"],
        message: `the fast interval (${m.sampling.fast} s) must not be longer than the dry-weather one (${m.sampling.dry} s)`,
      });
    if (m.staleAfter < m.sampling.dry * 2)
      out.push({
        path: [...p, "staleAfter"],
        message: `staleAfter (${m.staleAfter} s) must be at least two dry-weather samples (${m.sampling.dry * 2} s), or every quiet spell raises a fault`,
      });
  }
  return out;
};

export const checkBins: Check = ({ config }) => {
  const out: ConfigIssue[] = [];
  for (const [name, b] of Object.entries(config.bins)) {
    const p = ["bins", name];
    if (!TOPIC_SAFE.test(name))
      out.push({
        path: p,
        message: `bin name ${JSON.stringify(name)} appears in topics; use letters, digits, _ and - only, e.g. ${JSON.stringify(topicSafeSuggestion(name))}`,
      });
    if (b.fullDistanceMm >= b.emptyDistanceMm) {
      out.push({
        path: [...p, "fullDistanceMm"],
        message: `fullDistanceMm (${b.fullDistanceMm}) must be less than emptyDistanceMm (${b.emptyDistanceMm}): the sensor looks down, so a fuller bin reads closer`,
      });
    } else if (b.fullDistanceMm < model(b.distance.model).minRangeMm) {
      out.push({
        path: [...p, "fullDistanceMm"],
        message: `${b.fullDistanceMm} mm is inside the sensor's ${model(b.distance.model).minRangeMm} mm minimum range; set fullDistanceMm to at least that (mount the sensor higher)`,
      });
    }
    if (b.lowThreshold >= b.highThreshold)
      out.push({
        path: [...p, "lowThreshold"],
        message: `lowThreshold (${b.lowThreshold} %) must be below highThreshold (${b.highThreshold} %)`,
      });
    if (b.temperature && b.temperature.every > 30) {
      out.push({
        path: [...p, "temperature", "every"],
        message: `${b.temperature.every} s is too slow to see a fire's rate of rise within a minute; sample at most every 30 s`,
      });
    }
  }
  return out;
};

export const checkSimSewerBins: Check = ({ config, failed }) => {
  const out: ConfigIssue[] = [];
  if (!config.sim) return out;
  const pairs: [string, Record<string, unknown>, string[]][] = [];
  if (!failed.has("manholes")) pairs.push(["sewer", config.sim.sewer, Object.keys(config.manholes)]);
  if (!failed.has("bins")) pairs.push(["bins", config.sim.bins, Object.keys(config.bins)]);
  for (const [section, sims, known] of pairs) {
    for (const name of Object.keys(sims)) {
      if (known.includes(name)) continue;
      const hint = closest(name, known);
      out.push({
        path: ["sim", section, name],
        message: `no ${section === "sewer" ? "manhole" : "bin"} named ${JSON.stringify(name)} to simulate; ${hint ? `did you mean ${hint}?` : `known: ${known.join(", ") || "none"}`}`,
      });
    }
  }
  return out;
};
