import * as z from "zod";
import { duration } from "../types.js";

export const controlSection = z
  .strictObject({
    commands: z
      .boolean()
      .default(true)
      .describe("Answer commands on …/cmd/{name}. Default true. ping and health need no key; config and restart need publicKeyFile."),
    publicKeyFile: z
      .string()
      .optional()
      .describe(
        "Ed25519 public key (PEM) that config and restart commands must be signed with. Without it, those commands are refused. Relative paths are relative to the config file.",
      ),
    maxCommandBytes: z
      .number()
      .int()
      .min(256)
      .max(1024 * 1024)
      .default(65536)
      .describe("Largest command payload accepted, bytes. Default 65536; larger ones get an error reply."),
    maxClockSkew: duration("clock skew")
      .default(600)
      .describe("How far a signed command's issuedAt may be from the device's (synchronised) clock. Default 10m."),
    applyTimeout: duration("apply timeout")
      .default(60)
      .describe(
        "How long a new config has to come up (inputs open, features start, broker connects) before the device rolls back to the previous one. Default 60s.",
      ),
  })
  .default({ commands: true, maxCommandBytes: 65536, maxClockSkew: 600, applyTimeout: 60 })
  .describe("Remote commands and their authentication.");
