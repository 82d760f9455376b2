import * as z from "zod";
import { boardSchema } from "./boards.js";
import { configJsonSchema } from "./schema.js";
import { levelModelsTable } from "../sensors/models/index.js";

/**
 * Generated documentation of the config, so docs/ cannot drift from the code: the JSON Schemas for
 * editors and a Markdown reference of every option with its default and description.
 * `npm run docs` writes them; a test fails when the committed files are stale.
 */
type Json = Record<string, unknown>;

export function boardJsonSchema(): Json {
  return z.toJSONSchema(boardSchema, { io: "input" }) as Json;
}

function typeOf(s: Json | boolean): string {
  if (typeof s !== "object" || s === null) return "any";
  if (Array.isArray(s["enum"])) return (s["enum"] as unknown[]).map((v) => JSON.stringify(v)).join(" \\| ");
  if ("const" in s) return JSON.stringify(s["const"]);
  const any = (s["anyOf"] ?? s["oneOf"]) as Json[] | undefined;
  if (any) return any.map(typeOf).join(" \\| ");
  if (s["type"] === "array") return `list of ${typeOf((s["items"] as Json) ?? {})}`;
  if (s["type"] === "object" && s["additionalProperties"] && typeof s["additionalProperties"] === "object") return "map";
  if (Array.isArray(s["type"])) return (s["type"] as string[]).join(" \\| ");
  return String(s["type"] ?? "any");
}

function rows(s: Json | boolean, path: string, out: string[]): void {
  if (typeof s !== "object" || s === null) return;
  const props = s["properties"] as Record<string, Json> | undefined;
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (k === "$schema") continue;
      const p = path ? `${path}.${k}` : k;
      const def = v["default"] === undefined ? "" : `\`${JSON.stringify(v["default"])}\``;
      const desc = String(v["description"] ?? "").replace(/\|/g, "\\|");
      out.push(`| \`${p}\` | ${typeOf(v)} | ${def} | ${desc} |`);
      rows(v, p, out);
    }
  }
  const extra = s["additionalProperties"];
  if (extra && typeof extra === "object") rows(extra as Json, `${path}.<name>`, out);
  if (s["type"] === "array" && s["items"]) rows(s["items"] as Json, `${path}[]`, out);
  // union members (a discriminated union is a oneOf: manhole sensors, a bin's distance sensor) each list their options
  for (const alt of (s["anyOf"] ?? s["oneOf"] ?? []) as Json[]) if (alt["type"] === "object") rows(alt, path, out);
}

/** docs/config-reference.md */
export function configReference(): string {
  const out: string[] = [];
  rows(configJsonSchema(), "", out);
  return `# Config reference

Generated from the schema (\`src/config/\`) by \`npm run docs\`; do not edit by hand. See
[config.md](config.md) for a guide and examples, and [config.schema.json](config.schema.json) for
editors (VS Code: add \`$schema: ./config.schema.json\` or a \`yaml.schemas\` setting).

Durations are seconds or text such as \`500ms\`, \`30s\`, \`5m\`, \`1h\`. Window lengths must divide an hour.

| Option | Type | Default | Description |
|---|---|---|---|
${out.join("\n")}

## Level sensor models

The \`model\` of a manhole's \`sensor\` or a bin's \`distance\` (\`type: maxbotix\` or \`type: modbus\`),
from the definitions in \`src/sensors/models/\`. Line settings and the Modbus address left out of the
config are the model's factory settings shown here. Register maps marked "not verified" were written
from the manufacturer's manual without the document at hand: check them against it before a field
installation (docs/sewer.md, "Modbus sensors").

${levelModelsTable()}
`;
}

/** Every generated doc: path relative to the repository root → content. */
export function generatedDocs(): Record<string, string> {
  return {
    "docs/config.schema.json": `${JSON.stringify(configJsonSchema(), null, 2)}\n`,
    "docs/board.schema.json": `${JSON.stringify(boardJsonSchema(), null, 2)}\n`,
    "docs/config-reference.md": configReference(),
  };
}
