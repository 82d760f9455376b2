import { mkdirSync, mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { FileRole } from "./owner.js";
import { applyOwnership, systemAccounts } from "./owner.js";

const dir = mkdtempSync(join(tmpdir(), "roadside-owner-"));

function files(sub: string): { path: string; role: FileRole }[] {
  const d = join(dir, sub);
  mkdirSync(join(d, "secrets"), { recursive: true });
  const list: { path: string; role: FileRole }[] = [
    { path: join(d, "device.yaml"), role: "config" },
    { path: join(d, "ca.pem"), role: "public" },
    { path: join(d, "secrets"), role: "secrets-dir" },
    { path: join(d, "secrets", "broker.pw"), role: "secret" },
  ];
  for (const f of list) if (f.role !== "secrets-dir") writeFileSync(f.path, "x\n", { mode: 0o666 });
  return list;
}

const mode = (p: string): string => (statSync(p).mode & 0o777).toString(8);

describe("owners and modes of what provision writes", () => {
  it("reads the service account from passwd and group files", () => {
    const etc = join(dir, "etc");
    mkdirSync(etc);
    writeFileSync(join(etc, "passwd"), "root:x:0:0:root:/root:/bin/bash\nroadside:x:998:996::/var/lib/roadside:/usr/sbin/nologin\n");
    writeFileSync(join(etc, "group"), "root:x:0:\nroadside:x:996:\n");
    const a = systemAccounts(etc);
    expect([a.uid("roadside"), a.gid("roadside"), a.uid("nobody-here")]).toEqual([998, 996, undefined]);
  });

  // the tests run as root in CI (like provision on a device), so the chown is real
  it.runIf(process.getuid?.() === 0)(
    "as root: config and public files root:roadside 0640, secrets roadside 0600, the secrets folder root:roadside 0750",
    () => {
      const list = files("root");
      const notes = applyOwnership(
        list,
        { uid: (n) => (n === "roadside" ? 4242 : undefined), gid: (n) => (n === "roadside" ? 4343 : undefined) },
        true,
      );
      expect(notes).toEqual([]);
      const got = list.map((f) => [f.role, statSync(f.path).uid, statSync(f.path).gid, mode(f.path)]);
      expect(got).toEqual([
        ["config", 0, 4343, "640"],
        ["public", 0, 4343, "640"],
        ["secrets-dir", 0, 4343, "750"],
        ["secret", 4242, 4343, "600"],
      ]);
    },
  );

  it("without the group roadside: modes set, and a note saying what to run once roadside is installed", () => {
    const list = files("nogroup");
    const notes = applyOwnership(list, { uid: () => undefined, gid: () => undefined }, true);
    expect(list.map((f) => mode(f.path))).toEqual(["640", "640", "750", "600"]);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(
      /^there is no group roadside on this machine yet, so the service could not read .*device\.yaml: install roadside first/,
    );
    expect(notes[0]).toContain("sudo chgrp roadside");
    expect(notes[0]).toMatch(/sudo chown roadside \S+broker\.pw/);
  });

  it("not root: modes only, no notes (nobody else's files to hand over)", () => {
    const list = files("user");
    expect(applyOwnership(list, { uid: () => 1, gid: () => 1 }, false)).toEqual([]);
    expect(list.map((f) => mode(f.path))).toEqual(["640", "640", "750", "600"]);
  });
});
