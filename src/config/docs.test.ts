import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { generatedDocs } from "./docs.js";

describe("generated config docs", () => {
  it.each(Object.entries(generatedDocs()))("%s is up to date (run `npm run docs` after changing the schema)", (path, text) => {
    const committed = readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");
    expect(committed).toBe(text);
  });
});
