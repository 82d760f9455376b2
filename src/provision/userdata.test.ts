import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { countOurEntries, mergeUserData, RUNCMD_ENTRY, UserDataError } from "./userdata.js";

const FIXTURES = fileURLToPath(new URL("../../test/fixtures/imager/", import.meta.url));
const IMAGER = ["user-data-2.0.3", "user-data-2.0.11"].map((f) => ({ name: f, text: readFileSync(join(FIXTURES, f), "utf8") }));
const dir = mkdtempSync(join(tmpdir(), "roadside-userdata-"));

/**
 * `cloud-init schema -c FILE`, the check cloud-init itself offers. Debian bookworm's cloud-init
 * 22.4 is what the virtual device boots with; CI installs it (apt package cloud-init). A missing
 * cloud-init fails the test: a skipped schema check would let a broken user-data reach a card.
 */
function schema(text: string, name: string): { ok: boolean; out: string } {
  const file = join(dir, name);
  writeFileSync(file, text);
  const r = spawnSync("cloud-init", ["schema", "-c", file], { encoding: "utf8" });
  if (r.error) throw new Error(`cloud-init is not installed (${r.error.message}): apt-get install cloud-init`);
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

describe("user-data merge", () => {
  for (const { name, text } of IMAGER) {
    it(`keeps everything Imager wrote (${name}) and adds one runcmd entry after Imager's`, () => {
      const merged = mergeUserData(text);
      expect(merged.split("\n")[0]).toBe("#cloud-config");
      const before = parse(text) as Record<string, unknown>;
      const after = parse(merged) as Record<string, unknown>;
      const { runcmd: oldRun, ...rest } = before;
      const { runcmd: newRun, ...restAfter } = after;
      expect(restAfter).toEqual(rest); // users, keys, hashes, hostname, rpi:, … all there, unchanged
      expect(newRun).toEqual([...(oldRun as unknown[]), [...RUNCMD_ENTRY]]);
      // the hash survives as the same string (a YAML re-quote must not turn $… into something else)
      const hash = /passwd: "([^"]+)"/.exec(text)![1]!;
      expect(merged).toContain(hash);
      for (const line of text.split("\n").filter((l) => l.startsWith("#"))) expect(merged).toContain(line);
    });

    it(`a re-run leaves the same bytes (${name})`, () => {
      const once = mergeUserData(text);
      const twice = mergeUserData(once);
      expect(twice).toBe(once);
      expect(countOurEntries(twice)).toBe(1);
    });

    it(`passes cloud-init schema (${name})`, () => {
      const r = schema(mergeUserData(text), `${name}.merged`);
      expect(r.out).toContain("Valid cloud-config");
      expect(r.ok).toBe(true);
    });
  }

  it("the schema check can fail (so a pass means something)", () => {
    const r = schema("#cloud-config\nruncmd: 5\n", "broken");
    expect(r.ok).toBe(false);
    expect(r.out).toMatch(/runcmd: 5 is not of type 'array'/);
  });

  it("writes a new user-data when there is none, or only comments", () => {
    const created = mergeUserData(undefined);
    expect(created.startsWith("#cloud-config\nruncmd:\n")).toBe(true);
    expect(countOurEntries(created)).toBe(1);
    expect(mergeUserData(created)).toBe(created);
    expect(schema(created, "created").ok).toBe(true);
    const commented = mergeUserData("#cloud-config\n# set up by hand\n");
    expect(commented).toContain("# set up by hand");
    expect(mergeUserData(commented)).toBe(commented);
  });

  it("replaces an older roadside entry instead of adding another", () => {
    const old = "#cloud-config\nruncmd:\n  - [ bash, /boot/firmware/roadside/firstboot.sh ]\n  - echo after\n";
    const merged = mergeUserData(old);
    expect(countOurEntries(merged)).toBe(1);
    expect((parse(merged) as { runcmd: unknown[] }).runcmd).toEqual(["echo after", [...RUNCMD_ENTRY]]);
  });

  it("refuses user-data it cannot merge into, naming the file and the fix", () => {
    expect(() => mergeUserData("#!/bin/sh\necho hi\n", "/b/user-data")).toThrow(UserDataError);
    expect(() => mergeUserData("#!/bin/sh\necho hi\n", "/b/user-data")).toThrow(/\/b\/user-data is a script, not a #cloud-config file/);
    expect(() => mergeUserData("#cloud-config\nusers: [\n", "/b/user-data")).toThrow(/\/b\/user-data is not valid YAML at line \d+/);
    expect(() => mergeUserData("#cloud-config\nruncmd: { a: 1 }\n", "/b/user-data")).toThrow(
      /runcmd must be a list of commands; it is a mapping/,
    );
    expect(() => mergeUserData("#cloud-config\n- a\n", "/b/user-data")).toThrow(/must be a YAML mapping/);
  });

  it("cloud-init's own code reads the entry and turns it into the runcmd script that runs firstboot.sh", () => {
    // cc_runcmd: util.load_yaml, then util.shellify into /var/lib/cloud/instance/scripts/runcmd
    const file = join(dir, "for-cloud-init");
    writeFileSync(file, mergeUserData(IMAGER[0]!.text));
    const py = [
      "import sys",
      "from cloudinit import util",
      "cfg = util.load_yaml(open(sys.argv[1]).read())",
      "print(util.shellify([c for c in cfg['runcmd'] if 'roadside-firstboot' in str(c)]), end='')",
    ].join("\n");
    const r = spawnSync("/usr/bin/python3", ["-c", py, file], { encoding: "utf8" });
    if (r.error || /No module named 'cloudinit'/.test(r.stderr))
      throw new Error(`cloud-init's Python package is missing: apt-get install cloud-init (${r.stderr || r.error?.message})`);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split("\n")[0]).toBe("#!/bin/sh");
    const root = mkdtempSync(join(tmpdir(), "roadside-runcmd-ci-"));
    spawnSync("mkdir", ["-p", `${root}/boot/firmware/roadside`]);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell script's ${BASH_SOURCE[0]}, not a template
    writeFileSync(`${root}/boot/firmware/roadside/firstboot.sh`, 'echo "firstboot ran from $(dirname "${BASH_SOURCE[0]}")"\n');
    const script = join(root, "runcmd");
    writeFileSync(script, r.stdout.replaceAll("/boot/", `${root}/boot/`));
    const ran = spawnSync("sh", [script], { encoding: "utf8" });
    expect(ran.stdout.trim()).toBe(`firstboot ran from ${root}/boot/firmware/roadside`);
    expect(ran.status).toBe(0);
  });

  it("the entry runs firstboot.sh from /boot/firmware/roadside or /boot/roadside, with bash (FAT has no exec bit)", () => {
    const root = mkdtempSync(join(tmpdir(), "roadside-runcmd-"));
    // run the entry's shell text with the boot folders moved under a temporary root
    const script = RUNCMD_ENTRY[2]!.replaceAll("/boot/", `${root}/boot/`);
    const found = spawnSync("sh", ["-c", script], { encoding: "utf8" });
    expect(found.status).toBe(1);
    expect(found.stderr).toContain("roadside: no firstboot.sh in");
    spawnSync("mkdir", ["-p", `${root}/boot/roadside`]);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell script's ${BASH_SOURCE[0]}, not a template
    writeFileSync(`${root}/boot/roadside/firstboot.sh`, 'echo "ran from $(dirname "${BASH_SOURCE[0]}")"\n');
    const ran = spawnSync("sh", ["-c", script], { encoding: "utf8" });
    expect(ran.stdout.trim()).toBe(`ran from ${root}/boot/roadside`);
    expect(ran.status).toBe(0);
  });
});
