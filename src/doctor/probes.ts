import { valueAt } from "../config/issues.js";
import type { DeviceConfig } from "../config/schema.js";
import { MaxbotixParser } from "../sensors/maxbotix.js";
import { crcOk, readRequest } from "../sensors/modbus/crc.js";
import { EXCEPTION_NAMES } from "../sensors/modbus/bus.js";
import type { FrameModel, ModbusModel } from "../sensors/models/index.js";
import { isFrameModel, isModbusModel, levelModel, Reading } from "../sensors/models/index.js";
import type { ProbeResult, SerialProbe } from "./serial-probe.js";

/** The sensor owning the port at `configPath`: `{ type, model, port, unitId? }`, when it is a level sensor. */
function owner(
  configPath: readonly (string | number)[],
  config: DeviceConfig,
): { type?: string; model?: string; unitId?: number } | undefined {
  if (configPath[configPath.length - 1] !== "port") return undefined;
  return valueAt(config, configPath.slice(0, -1)) as { type?: string; model?: string; unitId?: number } | undefined;
}

function readable(kind: Reading, mm: number): string {
  return kind === Reading.Range ? `${Math.round(mm)} mm` : kind === Reading.NoTarget ? "no target" : "closer than the minimum range";
}

/** Parse a frame model's frames from what the port sent, with a readable first reading. */
function parseFrames(model: FrameModel, data: Buffer): ProbeResult {
  let sample: string | undefined;
  const p = new MaxbotixParser({ id: model.id, name: model.name, ...model.frame }, (kind, mm) => {
    sample ??= readable(kind, mm);
  });
  p.push(data, 0);
  // the first frame may be cut by the start of listening, so one partial frame is not a fault
  const r: ProbeResult = { frames: p.frames, bad: Math.max(0, p.partialFrames - 1) };
  if (sample !== undefined) r.sample = sample;
  return r;
}

/** A serial-frame rangefinder (MaxBotix): the port sits in a `{ type?: "maxbotix", model, port }` object. */
const frameProbe: SerialProbe = {
  forPort(configPath, config) {
    const o = owner(configPath, config);
    const m = o?.model === undefined ? undefined : levelModel(o.model);
    if (!o || (o.type !== undefined && o.type !== "maxbotix") || !m || !isFrameModel(m)) return undefined;
    return (data) => parseFrames(m, data);
  },
};

function modbusOwner(configPath: readonly (string | number)[], config: DeviceConfig): { model: ModbusModel; unitId: number } | undefined {
  const o = owner(configPath, config);
  const m = o?.model === undefined ? undefined : levelModel(o.model);
  if (o?.type !== "modbus" || !m || !isModbusModel(m)) return undefined;
  return { model: m, unitId: o.unitId ?? m.modbus.defaultUnitId };
}

/**
 * Parse a Modbus slave's answers to doctor's polls out of everything on the line: answers from its
 * unit id with the poll's function (CRC checked, then decoded by the definition), exceptions and CRC
 * failures counted as bad.
 */
function parseModbus(model: ModbusModel, unitId: number, data: Buffer): ProbeResult {
  const { fc, count } = model.modbus.poll;
  const length = 5 + 2 * count;
  let frames = 0;
  let bad = 0;
  let sample: string | undefined;
  let i = 0;
  while (i + 5 <= data.length) {
    if (data[i] !== unitId || (data[i + 1]! & 0x7f) !== fc) {
      i++;
      continue;
    }
    const n = data[i + 1]! & 0x80 ? 5 : length;
    const frame = data.subarray(i, i + n);
    if (frame.length < n) break;
    if (!crcOk(frame)) {
      bad++;
      i++;
      continue;
    }
    i += n;
    if (n === 5) {
      bad++;
      sample ??= `exception ${frame[2]} (${EXCEPTION_NAMES[frame[2]!] ?? "unknown"})`;
      continue;
    }
    const regs: number[] = [];
    for (let k = 0; k < count; k++) regs.push(frame.readUInt16BE(3 + 2 * k));
    try {
      const r = model.modbus.decode(regs);
      frames++;
      sample ??= readable(r.kind, r.mm);
    } catch (err) {
      bad++;
      sample ??= (err as Error).message;
    }
  }
  const r: ProbeResult = { frames, bad };
  if (sample !== undefined) r.sample = sample;
  return r;
}

/** A Modbus RTU level sensor: the port sits in a `{ type: "modbus", model, port, unitId }` object. */
const modbusProbe: SerialProbe = {
  forPort(configPath, config) {
    const o = modbusOwner(configPath, config);
    if (!o) return undefined;
    return (data) => parseModbus(o.model, o.unitId, data);
  },
};

/**
 * What doctor writes to a port so its sensor talks: a Modbus sensor answers only when polled, so
 * doctor sends its definition's poll (the same request the device sends). Undefined for sensors
 * that talk on their own.
 */
export function probeRequest(configPath: readonly (string | number)[], config: DeviceConfig): Buffer | undefined {
  const o = modbusOwner(configPath, config);
  if (!o) return undefined;
  const { fc, address, count } = o.model.modbus.poll;
  return readRequest(o.unitId, fc, address, count);
}

/**
 * Frame checks for serial sensors. Identifier ports (probe scanners, RFID readers) have none on
 * purpose: doctor never reads their bytes.
 */
export const SENSOR_PROBES: readonly SerialProbe[] = [frameProbe, modbusProbe];
