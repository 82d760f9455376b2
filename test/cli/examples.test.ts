import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const CLI = join(import.meta.dirname, "..", "..", "bin", "roadside.js");
const EXAMPLES = ["examples/manhole.yaml", "examples/bin.yaml"].map((f) => join(import.meta.dirname, "..", "..", f));

// runs the built CLI (dist/, built by `npm test` or `npm run build`), as a technician does
describe("example configs pass `roadside validate`", () => {
  it("validates examples/manhole.yaml and examples/bin.yaml", () => {
    const r = spawnSync(process.execPath, [CLI, "validate", ...EXAMPLES], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/manhole\.yaml: ok \(device mh-0001/);
    expect(r.stdout).toMatch(/bin\.yaml: ok \(device bin-0042/);
  });

  it("exits 2 naming the path when an example is broken", () => {
    const dir = mkdtempSync(join(tmpdir(), "roadside-ex-"));
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, readFileSync(EXAMPLES[0]!, "utf8").replace("overflowHeightMm: 1500", "overflowHeightMm: 2300"));
    const r = spawnSync(process.execPath, [CLI, "validate", bad], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/manholes\.mh1\.overflowHeightMm: the overflow is 100 mm below the sensor/);
  });
});
