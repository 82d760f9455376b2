import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { decodeSenmlCbor, encodeSenmlJson } from "../../src/publish/senml.js";

const doc = readFileSync(new URL("../../docs/payloads.md", import.meta.url), "utf8");

describe("docs/payloads.md", () => {
  it("its example CBOR message decodes to the SenML JSON shown beside it", () => {
    const example = doc.slice(doc.indexOf("## Example"));
    const hex = /```\n([0-9a-f]+)\n```/.exec(example)?.[1];
    const json = /```json\n(.+)\n```/.exec(example)?.[1];
    expect(hex, "hex block").toBeDefined();
    expect(json, "json block").toBeDefined();
    const pack = decodeSenmlCbor(Buffer.from(hex!, "hex"));
    expect(JSON.parse(encodeSenmlJson(pack).toString())).toEqual(JSON.parse(json!));
    expect(example).toContain(`CBOR (${hex!.length / 2} bytes)`);
  });
});
