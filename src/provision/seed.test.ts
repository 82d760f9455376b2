import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
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
    const run = (): unknown =>
      writeSeed({
        dir: card,
        force: false,
        board: "raspberry-pi-4",
        id: "p1",
        configText: "device: {}\n",
        placements: [],
        appDir: app,
        log: () => {},
      });
    expect(run).toThrow(SeedError);
    expect(run).toThrow(
      /no --bundle given and this installation cannot build one \(no \S+scripts\/bundle\.sh: an installed roadside carries no build tools\); give a bundle built for arm64 with --bundle FILE/,
    );
    expect(readdirSync(card)).toEqual(["config.txt"]);
  });

  it("without --bundle, a checkout builds one with scripts/bundle.sh for the board's architecture", () => {
    const app = mkdtempSync(join(tmpdir(), "roadside-app-"));
    mkdirSync(join(app, "scripts"));
    writeFileSync(join(app, "scripts", "firstboot.sh"), "#!/bin/bash\n");
    // a stand-in for bundle.sh that writes what the real one writes (tarball, .sha256, .deb) and records its arguments
    writeFileSync(
      join(app, "scripts", "bundle.sh"),
      [
        "set -e",
        'echo "$*" > "$(dirname "$0")/args"',
        'out="$4"; n="roadside-0.1.0-linux-arm64-node20"',
        'mkdir -p "$out/$n" && tar -czf "$out/$n.tar.gz" -C "$out" "$n" && (cd "$out" && sha256sum "$n.tar.gz" > "$n.tar.gz.sha256") && touch "$out/roadside_0.1.0_arm64.deb"',
      ].join("\n"),
    );
    const card = mkdtempSync(join(tmpdir(), "roadside-card-"));
    writeFileSync(join(card, "config.txt"), "\n");
    const lines: string[] = [];
    const r = writeSeed({
      dir: card,
      force: false,
      board: "raspberry-pi-zero-2w",
      id: "p1",
      configText: "device: {}\n",
      placements: [],
      appDir: app,
      log: (l) => lines.push(l),
    });
    expect(readFileSync(join(app, "scripts", "args"), "utf8")).toMatch(/^--arch arm64 --output \S+\n$/);
    expect(lines[0]).toMatch(/^building the bundle for arm64: /);
    expect(readdirSync(join(card, "roadside")).sort()).toEqual([
      "etc",
      "firstboot.sh",
      "roadside-0.1.0-linux-arm64-node20.tar.gz",
      "roadside-0.1.0-linux-arm64-node20.tar.gz.sha256",
    ]);
    expect(r.bundle).toBe(join(card, "roadside", "roadside-0.1.0-linux-arm64-node20.tar.gz"));
    const built = readFileSync(join(app, "scripts", "args"), "utf8")
      .trim()
      .split(" ")[3]!;
    expect(existsSync(built)).toBe(false); // the temporary build folder is gone
    writeSeed({
      dir: card,
      force: false,
      board: "raspberry-pi-3",
      arch: "armhf",
      id: "p1",
      configText: "device: {}\n",
      placements: [],
      appDir: app,
      log: () => {},
    });
    expect(readFileSync(join(app, "scripts", "args"), "utf8")).toMatch(/^--arch armhf /);
  });
});
