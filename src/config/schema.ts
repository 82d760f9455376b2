import * as z from "zod";
import { detectorsSection } from "./sections/detectors.js";
import { identifiersSection } from "./sections/identifiers.js";
import { deviceSection } from "./sections/device.js";
import { inputsSection } from "./sections/inputs.js";
import { ioSection } from "./sections/io.js";
import { mqttSection, publishSection } from "./sections/mqtt.js";
import { binsSection } from "./sections/bins.js";
import { manholesSection } from "./sections/manholes.js";
import { controlSection } from "./sections/control.js";
import { healthSection } from "./sections/health.js";
import { outboxSection } from "./sections/outbox.js";
import { simSection } from "./sections/sim.js";
import { logSection, stateSection } from "./sections/state.js";
import { windowsSection } from "./sections/windows.js";
import { webSection } from "./sections/web.js";

/**
 * The one schema of a device config. Types, defaults, the published JSON Schema
 * (docs/config.schema.json) and the `path: message` errors all come from here; semantic checks that
 * need more than one field live in semantic.ts.
 */
export const configSchema = z
  .strictObject({
    $schema: z.string().optional().describe("Path or URL of the JSON Schema, for editors."),
    device: deviceSection,
    inputs: inputsSection,
    detectors: detectorsSection,
    manholes: manholesSection,
    bins: binsSection,
    identifiers: identifiersSection,
    windows: windowsSection,
    mqtt: mqttSection,
    publish: publishSection,
    state: stateSection,
    log: logSection,
    sim: simSection,
    io: ioSection,
    outbox: outboxSection,
    health: healthSection,
    control: controlSection,
    web: webSection,
  })
  .describe("roadside device configuration");

/** A config after parsing: defaults applied, durations in seconds. */
export type DeviceConfig = z.output<typeof configSchema>;
/** A config as written in the file. */
export type DeviceConfigInput = z.input<typeof configSchema>;
export type InputConfig = DeviceConfig["inputs"][string];
export type DetectorConfig = DeviceConfig["detectors"][string];

/** JSON Schema (draft 2020-12) of the config file, for editors. */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
}
