import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { ValidationResult } from "../config/load.js";
import { startConfigEarly } from "./early-config.js";
import { runCommand } from "./run.js";

const dir = mkdtempSync(join(tmpdir(), "roadside-early-"));
const good = join(dir, "good.yaml");
writeFileSync(good, "device: { id: early-1, board: sim }\ninputs: { a: { line: 17 } }\n");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("run's config load, started before run's modules load", () => {
  it("reads --config as parseArgs does: --config F, --config=F, -c F, -cF, the last one winning", async () => {
    for (const argv of [
      ["--config", good],
      [`--config=${good}`],
      ["-c", good],
      [`-c${good}`],
      ["--quiet", "-c", "other.yaml", "--config", good],
    ]) {
      const early = startConfigEarly(argv);
      expect(early?.path, argv.join(" ")).toBe(good);
      const r = await early!.result;
      expect(r.ok, argv.join(" ")).toBe(true);
      if (r.ok) expect(r.loaded.config.device.id).toBe("early-1");
    }
  });

  it("no --config is the built-in demo; --help loads nothing; after -- nothing is read", async () => {
    const demo = startConfigEarly(["--duration", "1s"]);
    expect(demo?.path).toBeUndefined();
    expect((await demo!.result).ok).toBe(true);
    expect(startConfigEarly(["--config", good, "--help"])).toBeUndefined();
    expect(startConfigEarly(["-h"])).toBeUndefined();
    expect(startConfigEarly(["--", "--config", good])?.path).toBeUndefined();
  });

  it("a missing file is the same result the command would have had, not a rejection", async () => {
    const r = await startConfigEarly(["--config", join(dir, "missing.yaml")])!.result;
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues[0]!.message).toMatch(/cannot read .*missing\.yaml: no such file/);
  });

  it("run uses the early result only when it was for the --config run parsed itself", async () => {
    const early = (path: string): { path: string; result: Promise<ValidationResult> } => ({
      path,
      result: Promise.resolve({ ok: false, issues: [{ path: ["device"], message: "from the early load" }] }),
    });
    const runWith = async (argv: string[], e: ReturnType<typeof early>): Promise<{ code: number; err: string }> => {
      let err = "";
      const code = await runCommand(argv, { out: () => {}, err: (t) => (err += t), isTTY: false }, e);
      return { code, err };
    };
    const missing = join(dir, "missing.yaml");
    const same = await runWith(["--config", missing], early(missing));
    expect(same.code).toBe(2);
    expect(same.err).toMatch(/from the early load/);
    const other = await runWith(["--config", missing], early(good));
    expect(other.code).toBe(2);
    expect(other.err).not.toMatch(/from the early load/);
    expect(other.err).toMatch(/cannot read .*missing\.yaml/);
  });
});
