import * as z from "zod";
import { duration, show } from "../types.js";
import { byteSize } from "./outbox.js";

export const tlsSection = z
  .strictObject({
    ca: z
      .string()
      .optional()
      .describe(
        "CA certificate(s) (PEM) the broker's certificate must chain to. Default: the system's CAs. Relative paths are relative to the config file.",
      ),
    cert: z.string().optional().describe("Client certificate (PEM) for mutual TLS; needs key."),
    key: z.string().optional().describe("Client private key (PEM) for mutual TLS; must not be readable by group or others (chmod 600)."),
    servername: z
      .string()
      .optional()
      .describe("Name to check the broker's certificate against (SNI), when it differs from the URL's host."),
    verify: z
      .boolean()
      .default(true)
      .describe(
        "Verify the broker's certificate. Default true. false is for a lab only: anyone on the path can then read and forge the device's traffic; it is logged as a warning at every connect.",
      ),
  })
  .describe("TLS settings for mqtts:// URLs.");

export const mqttSection = z
  .strictObject({
    url: z
      .string()
      .refine((u) => /^(mqtts?|wss?|tcp|ssl):\/\/[^/\s]+/.test(u), {
        error: (i) => `${show(i.input)} is not a broker URL; write e.g. mqtt://broker.example:1883 or mqtts://broker.example:8883`,
      })
      .refine((u) => !/^[a-z]+:\/\/[^/@]*:[^/@]*@/i.test(u), {
        error: "do not put a password in the URL (it ends up in logs and backups); use mqtt.username and mqtt.passwordFile",
      })
      .optional()
      .describe(
        "Broker URL (mqtt://, mqtts://). Omitted: roadside starts an embedded broker on 127.0.0.1 (for trying it out, not for production).",
      ),
    prefix: z.string().default("roadside").describe("Topic prefix; topics are {prefix}/{device}/…. Default roadside."),
    protocol: z
      .enum(["auto", "5", "3.1.1"])
      .default("auto")
      .describe("MQTT version. auto (default): try 5, fall back to 3.1.1 if the broker refuses it."),
    clientId: z.string().optional().describe("Client id; default roadside-{device id}."),
    keepaliveS: z
      .number()
      .int()
      .min(5)
      .max(3600)
      .default(30)
      .describe("Keep-alive in seconds. Default 30: the LWT fires within ~45 s of a dead link."),
    embeddedPort: z
      .number()
      .int()
      .min(0)
      .max(65535)
      .default(1883)
      .describe(
        "Port of the embedded broker when url is omitted (0 = any free port). Default 1883; if taken, a free port is used and printed.",
      ),
    username: z.string().optional().describe("User name for the broker."),
    passwordFile: z
      .string()
      .optional()
      .describe(
        "File holding the broker password (one line). Must not be readable by group or others (chmod 600); the password is never logged. Relative paths are relative to the config file.",
      ),
    tls: tlsSection.optional(),
    backoffMin: duration("reconnect delay")
      .default(2)
      .describe(
        "First reconnect delay ceiling; each failed attempt doubles it, and the actual wait is random below it (full jitter), so a fleet does not reconnect at once after a broker restart. Default 2s.",
      ),
    backoffMax: duration("reconnect delay").default(300).describe("Largest reconnect delay ceiling. Default 5m."),
    maxInFlight: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(16)
      .describe("Messages published and not yet acknowledged, at most (lowered to the broker's receive maximum). Default 16."),
  })
  .default({ prefix: "roadside", protocol: "auto", keepaliveS: 30, embeddedPort: 1883, backoffMin: 2, backoffMax: 300, maxInFlight: 16 })
  .describe("Where and how summaries are published.");

export const publishSection = z
  .strictObject({
    encoding: z
      .enum(["cbor", "json"])
      .default("cbor")
      .describe("SenML encoding: cbor (application/senml+cbor, default, compact) or json (application/senml+json, for people)."),
    profile: z
      .enum(["standard", "cellular"])
      .default("standard")
      .describe(
        'standard (default): one message per stream per window (docs/payloads.md). cellular: the streams of one window in one message on …/window, defaults and zero counters as a bit mask, health only on changes and every healthEvery (docs/payloads.md "Cellular profile"), for SIMs priced by the megabyte.',
      ),
    healthEvery: duration("publish.healthEvery")
      .default(43200)
      .describe(
        "cellular profile: the full heartbeat at least this often; in between it is published only when something a technician acts on changed (faults, drops, clock, connection). Default 12h.",
      ),
    budget: z
      .strictObject({
        monthlyBytes: byteSize("publish.budget.monthlyBytes", 64 * 1024).describe(
          "Bytes a month the SIM plan allows (bytes, or e.g. 10MB, 50MiB). The device counts its bytes on the wire (MQTT both ways, TLS records and handshakes estimated) and reports the month's count, the budget and the projection to the plan's reset in health (docs/delivery.md \"Monthly byte budget\").",
        ),
        resetDay: z
          .number()
          .int()
          .min(1)
          .max(28)
          .default(1)
          .describe("Day of the month (UTC midnight) the SIM plan's count starts again, 1–28. Default 1."),
      })
      .optional()
      .describe("A monthly byte budget for a SIM priced by the megabyte. Default: none (bytes are not counted)."),
  })
  .default({ encoding: "cbor", profile: "standard", healthEvery: 43200 })
  .describe("Payload encoding and profile.");
