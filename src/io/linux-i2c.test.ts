import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { i2ctransfer, i2ctransferArgs, parseI2ctransferOutput } from "./linux-i2c.js";

describe("Linux I²C through i2ctransfer (Debian i2c-tools)", () => {
  it("builds i2ctransfer's messages: a write, and a pointer write with a repeated-start read", () => {
    expect(i2ctransferArgs(1, 0x48, [0x01, 0xc3, 0x83], 0)).toEqual(["-y", "1", "w3@0x48", "0x01", "0xc3", "0x83"]);
    expect(i2ctransferArgs(1, 0x49, [0x00], 2)).toEqual(["-y", "1", "w1@0x49", "0x00", "r2"]);
    expect(i2ctransferArgs(3, 0x4b, [], 2)).toEqual(["-y", "3", "r2@0x4b"]);
    expect(parseI2ctransferOutput("0x85 0x83\n", 2)).toEqual([0x85, 0x83]);
    expect(() => parseI2ctransferOutput("Error: Sending messages failed\n", 2)).toThrow(/expected 2 byte/);
  });

  it("runs the tool, returns the bytes it prints, and names the fix when it fails", async () => {
    const dir = mkdtempSync(join(tmpdir(), "roadside-i2c-"));
    try {
      const tool = join(dir, "i2ctransfer");
      const log = join(dir, "calls");
      // a stand-in with the real tool's interface: logs its arguments, prints two bytes for a read, fails for 0x4b
      writeFileSync(
        tool,
        `#!/bin/sh\necho "$@" >> ${log}\ncase "$*" in *0x4b*) echo "Error: Sending messages failed: Remote I/O error" >&2; exit 1;; *r2*) echo "0x12 0x34";; esac\n`,
      );
      chmodSync(tool, 0o755);
      const t = i2ctransfer(1, tool);
      expect(await t(0x48, [0x01, 0xc3, 0x83], 0)).toEqual([]);
      expect(await t(0x48, [0x00], 2)).toEqual([0x12, 0x34]);
      await expect(t(0x4b, [0x00], 2)).rejects.toThrow(/Remote I\/O error; check that I²C is enabled .*\(i2cdetect -y 1\)/);
      expect(readFileSync(log, "utf8").trim().split("\n")[0]).toBe("-y 1 w3@0x48 0x01 0xc3 0x83");
      await expect(i2ctransfer(1, join(dir, "missing"))(0x48, [0], 2)).rejects.toThrow(/apt install i2c-tools/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
