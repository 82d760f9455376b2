#!/usr/bin/env node
// Writes the generated docs (JSON Schemas, config reference) from the compiled schema in dist/.
import { writeFileSync } from "node:fs";
import { generatedDocs } from "../dist/config/docs.js";

for (const [path, text] of Object.entries(generatedDocs())) {
  writeFileSync(new URL(`../${path}`, import.meta.url), text);
  console.log(`wrote ${path}`);
}
