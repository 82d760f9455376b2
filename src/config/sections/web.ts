import * as z from "zod";
import { isLocalOnly, parseListen } from "../listen.js";

export const webSection = z
  .strictObject({
    listen: z
      .string()
      .superRefine((v, ctx) => {
        const l = parseListen(v);
        if (typeof l === "string") ctx.addIssue({ code: "custom", message: l, input: v });
      })
      .optional()
      .describe(
        "Serve the technician's status page (read-only) on HOST:PORT, e.g. 127.0.0.1:8080 or 169.254.10.1:8080 for a laptop on a cable. Default: off (nothing listens, nothing is loaded). An address other than loopback or link-local needs tokenFile.",
      ),
    tokenFile: z
      .string()
      .optional()
      .describe(
        "File whose first line is the token the page asks for (open it once as /?token=…), readable by its owner only (chmod 600). Required when listen is not a loopback or link-local address. Relative paths are relative to the config file.",
      ),
  })
  .superRefine((v, ctx) => {
    const l = v.listen === undefined ? undefined : parseListen(v.listen);
    // anyone on the city's network could read the device's state: a token, or only the cable at the pole
    if (l !== undefined && typeof l !== "string" && !isLocalOnly(l.host) && v.tokenFile === undefined)
      ctx.addIssue({
        code: "custom",
        path: ["tokenFile"],
        message: `web.listen ${l.host} is reachable from the network: set web.tokenFile to an owner-only file holding a token, or listen on 127.0.0.1 or a link-local address (169.254.x.x, fe80::)`,
      });
  })
  // optional, not defaulted: a config without it hashes as it did before the page existed
  .optional()
  .describe("The on-device status page for a technician (docs/web.md). Off unless web.listen is set.");
