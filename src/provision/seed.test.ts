import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { boardArches, bundleArch, SeedError, writeSeed } from "./seed.js";

describe("first-boot seed", () => {
  it("knows each board's architectures and reads a bundle's from its name", () => {
    expect(boardArches("raspberry-pi-5")).toEqual(["arm64", "armhf"]);
    expect(boardArches("raspberry-pi-zero-2w")?.[0]).toBe("arm64");
    expect(boardArches("virtual-device")).toEqual(["x64"]);
    expect(boardArches("sim")).toBeUndefined();
    expect(bundleArch("/x/roadside-0.1.0-linux-arm-node20.tar.gz")).toBe("armhf");
    expect(bundleArch("roadside-0.1.0-linux-arm64-node20.tar.gz")).toBe("arm64");
    expect(bundleArch("mine.tar.gz")).toBeUndefined();
  });

  it("an installed roadside (no scripts/bundle.sh) asks for --bundle instead of building one, and writes nothing", () => {
    const app = mkdtempSync(join(tmpdir(), "roadside-app-"));
    mkdirSync(join(app, "scripts"));
    writeFileSync(join(app, "scripts", "firstboot.sh"), "#!/bin/bash\n");
    const card = mkdtempSync(join(tmpdir(), "roadside-card-"));
    writeFileSync(join(card, "config.txt"), "\n");
    const run = (): unknown => writeSeed({ dir: card, force: false, board: "raspberry-pi-4", id: "p1", configText: "device: {}\n", placements: [], appDir: app, log: () => {} });
    expect(run).toThrow(SeedError);
    expect(run).toThrow(/no --bundle given and this installation cannot build one \(no \S+scripts\/bundle\.sh: an installed roadside carries no build tools\); give a bundle built for arm64 with --bundle FILE/);
    expect(readdirSync(card)).toEqual(["config.txt"]);
  });
});
