import { URM15_DEFINITIONS } from "./dfrobot-urm15.js";
import { MAXBOTIX_DEFINITIONS } from "./maxbotix.js";
import { TOUGHSONIC_DEFINITIONS } from "./senix-toughsonic.js";
import type { FrameModel, LevelModel, ModbusModel } from "./types.js";
import { VEGAPULS_C_DEFINITIONS } from "./vegapuls-c.js";

export type {
  Datasheet,
  FrameModel,
  LevelModel,
  Measure,
  ModbusModel,
  RegisterBlock,
  RegisterReading,
  SerialDefaults,
  SimTarget,
} from "./types.js";
export { CONFIG_TYPE, Reading } from "./types.js";
import { CONFIG_TYPE } from "./types.js";

/**
 * Every level sensor model roadside reads: the one list. The config schema, its checks, the
 * features, doctor, the simulator and docs/config-reference.md all take models from here. A new
 * model is a definition file next to its family's (and one line here).
 */
export const LEVEL_MODELS: readonly LevelModel[] = [
  ...MAXBOTIX_DEFINITIONS,
  ...VEGAPULS_C_DEFINITIONS,
  ...TOUGHSONIC_DEFINITIONS,
  ...URM15_DEFINITIONS,
];

const byId = new Map(LEVEL_MODELS.map((m) => [m.id, m]));
if (byId.size !== LEVEL_MODELS.length) throw new Error("two level sensor definitions share an id");

/** The definition of a model id, or undefined. */
export function levelModel(id: string): LevelModel | undefined {
  return byId.get(id);
}

function ids<T extends LevelModel>(of: (m: LevelModel) => m is T): [string, ...string[]] {
  const out = LEVEL_MODELS.filter(of).map((m) => m.id);
  if (out.length === 0) throw new Error("no definitions of this interface");
  return out as [string, ...string[]];
}

export const isFrameModel = (m: LevelModel): m is FrameModel => m.interface === "serial-frames";
export const isModbusModel = (m: LevelModel): m is ModbusModel => m.interface === "modbus-rtu";
/** Model ids of `type: maxbotix` and of `type: modbus`. */
export const FRAME_MODEL_IDS = ids(isFrameModel);
export const MODBUS_MODEL_IDS = ids(isModbusModel);

/** A frame model by id; throws for an id the schema would have refused. */
export function frameModel(id: string): FrameModel {
  const m = byId.get(id);
  if (!m || !isFrameModel(m)) throw new Error(`no serial-frame sensor model ${JSON.stringify(id)}; known: ${FRAME_MODEL_IDS.join(", ")}`);
  return m;
}

export function modbusModel(id: string): ModbusModel {
  const m = byId.get(id);
  if (!m || !isModbusModel(m)) throw new Error(`no Modbus sensor model ${JSON.stringify(id)}; known: ${MODBUS_MODEL_IDS.join(", ")}`);
  return m;
}

/** One-line summaries for a schema description: `id: name`. */
export function modelList(models: readonly LevelModel[]): string {
  return models.map((m) => `${m.id}: ${m.name}`).join("; ");
}

/** The Markdown table of models for docs/config-reference.md (generated, so it cannot drift). */
export function levelModelsTable(): string {
  const fmt = (m: LevelModel): string => {
    const s = m.serial;
    const line = `${s.baudRate} ${s.dataBits}${s.parity[0]!.toUpperCase()}${s.stopBits}`;
    const iface =
      m.interface === "modbus-rtu"
        ? `Modbus RTU, unit ${m.modbus.defaultUnitId}, FC ${String(m.modbus.poll.fc).padStart(2, "0")} reg ${m.modbus.poll.address}×${m.modbus.poll.count}`
        : `serial R+${m.frame.digits} digits+CR`;
    const d = m.datasheet;
    const ds = `${d.title}, ${d.section}${d.verified ? "" : " (register map not verified against the document)"}${d.source ? `; map from ${d.source}` : ""}`;
    const type = CONFIG_TYPE[m.interface];
    return `| \`${m.id}\` | \`${type}\` | ${m.name} | ${m.principle} | ${m.minRangeMm}–${m.maxRangeMm} mm | ${iface}, ${line} | ${ds.replace(/\|/g, "\\|")} |`;
  };
  return [
    "| Model | type | Sensor | Principle | Range | Interface (factory settings) | Datasheet |",
    "|---|---|---|---|---|---|---|",
    ...LEVEL_MODELS.map(fmt),
  ].join("\n");
}
