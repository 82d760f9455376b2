import * as z from "zod";
import { windowLength } from "../types.js";

export const windowsSection = z
  .strictObject({
    default: windowLength().default(60).describe("Default summary window for every stream. Default 60 s."),
  })
  .default({ default: 60 })
  .describe("Summary windows. Every window length must divide an hour, so windows start on the minute.");
