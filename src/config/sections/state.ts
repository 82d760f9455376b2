import * as z from "zod";

export const stateSection = z
  .strictObject({
    dir: z
      .string()
      .optional()
      .describe(
        "Folder for the outbox and the sequence counter. Default: $STATE_DIRECTORY (set by systemd's StateDirectory=), else /var/lib/roadside when run as the service user (whose home it is), else ~/.local/state/roadside/{device id}.",
      ),
  })
  .default({})
  .describe("Where the device keeps state that must survive restarts.");

export const logSection = z
  .strictObject({
    level: z.enum(["debug", "info", "warn", "error"]).default("info").describe("Least severe level logged. Default info."),
    format: z
      .enum(["auto", "text", "json"])
      .default("auto")
      .describe("auto (default): readable text on a terminal, one JSON object per line otherwise (journald)."),
  })
  .default({ level: "info", format: "auto" })
  .describe("Logging.");
