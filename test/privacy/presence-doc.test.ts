import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { decodeSenmlCbor, encodeSenmlJson } from "../../src/publish/senml.js";
import { decodeMessage } from "../../src/publish/envelope.js";

const doc = readFileSync(new URL("../../docs/payloads.md", import.meta.url), "utf8");

describe("docs/payloads.md presence section", () => {
  const section = doc.slice(doc.indexOf("## Presence ("), doc.indexOf("## Manifest ("));

  it("its CBOR example decodes to the SenML JSON shown beside it", () => {
    const hex = /```\n([0-9a-f]+)\n```/.exec(section)?.[1];
    const json = /```json\n(.+)\n```/.exec(section)?.[1];
    expect(hex, "hex block").toBeDefined();
    expect(json, "json block").toBeDefined();
    const pack = decodeSenmlCbor(Buffer.from(hex!, "hex"));
    expect(JSON.parse(encodeSenmlJson(pack).toString())).toEqual(JSON.parse(json!));
    expect(section).toContain(`CBOR (${hex!.length / 2} bytes)`);
    const msg = decodeMessage(Buffer.from(hex!, "hex"));
    expect(msg.kind).toBe("presence");
    expect(msg.measures["ble.random.suppressed"]?.vb).toBe(true);
  });

  it("documents every measure the presence features publish", () => {
    for (const n of ["{r}.devices", "{r}.sightings", "{r}.random", "distinct", "rse", "keys", "errors", "deposits", "users"])
      expect(section).toContain(`| \`${n}\``);
  });
});
