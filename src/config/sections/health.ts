import * as z from "zod";
import { duration } from "../types.js";

export const healthSection = z
  .strictObject({
    interval: duration("health interval")
      .default(60)
      .refine((s) => s === 0 || (s >= 5 && s <= 86400), { error: "health interval must be 0 (off) or between 5s and 1d" })
      .describe("How often the …/health heartbeat is published. Default 60s; 0 turns it off (the health command still answers)."),
    cpuTempFile: z
      .string()
      .default("/sys/class/thermal/thermal_zone0/temp")
      .describe(
        "Where the CPU temperature is read (millidegrees Celsius). Default the Raspberry Pi SoC's thermal zone; if missing, the heartbeat says null.",
      ),
  })
  .default({ interval: 60, cpuTempFile: "/sys/class/thermal/thermal_zone0/temp" })
  .describe("The health heartbeat.");
