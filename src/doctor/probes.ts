import { valueAt } from "../config/issues.js";
import { MAXBOTIX_MODELS, MaxbotixParser, Reading } from "../sensors/maxbotix.js";
import type { MaxbotixModelId } from "../sensors/maxbotix.js";
import type { ProbeResult, SerialProbe } from "./system.js";

/** Parse a MaxBotix model's frames from what the port sent, with a readable first reading. */
function parseMaxbotix(model: MaxbotixModelId, data: Buffer): ProbeResult {
  let sample: string | undefined;
  const p = new MaxbotixParser(MAXBOTIX_MODELS[model], (kind, mm) => {
    sample ??= kind === Reading.Range ? `${mm} mm` : kind === Reading.NoTarget ? "no target" : "closer than the minimum range";
  });
  p.push(data, 0);
  // the first frame may be cut by the start of listening, so one partial frame is not a fault
  const r: ProbeResult = { frames: p.frames, bad: Math.max(0, p.partialFrames - 1) };
  if (sample !== undefined) r.sample = sample;
  return r;
}

/** A MaxBotix rangefinder: the port sits in a `{ type?: "maxbotix", model, port }` object. */
const maxbotixProbe: SerialProbe = {
  forPort(configPath, config) {
    if (configPath[configPath.length - 1] !== "port") return undefined;
    const owner = valueAt(config, configPath.slice(0, -1)) as { type?: string; model?: string } | undefined;
    const model = owner?.model;
    if (!owner || (owner.type !== undefined && owner.type !== "maxbotix") || model === undefined || !(model in MAXBOTIX_MODELS))
      return undefined;
    return (data) => parseMaxbotix(model as MaxbotixModelId, data);
  },
};

/**
 * Frame checks for serial sensors. Identifier ports (probe scanners, RFID readers) have none on
 * purpose: doctor never reads their bytes.
 */
export const SENSOR_PROBES: readonly SerialProbe[] = [maxbotixProbe];
