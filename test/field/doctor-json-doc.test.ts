import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { freePort } from "../helpers/brokers.js";
import { runCli } from "../helpers/cli.js";
import { makePki } from "../delivery/pki.js";

/** docs/field-guide.md "doctor --json" documents every `check` and every key of its `values`. */
const guide = readFileSync(fileURLToPath(new URL("../../docs/field-guide.md", import.meta.url)), "utf8");

function documented(): Map<string, Set<string>> {
  const section = guide.slice(guide.indexOf("### `doctor --json`"), guide.indexOf("### Before leaving"));
  const out = new Map<string, Set<string>>();
  for (const m of section.matchAll(/^\| ((?:`[a-z]+`(?:, )?)+) \| (.*) \|$/gm)) {
    const names = [...m[1]!.matchAll(/`([a-z]+)`/g)].map((x) => x[1]!);
    if (names.some((n) => ["check", "status", "title", "detail", "fix", "values"].includes(n))) continue;
    for (const n of names) out.set(n, new Set([...m[2]!.matchAll(/`([A-Za-z]+)`/g)].map((x) => x[1]!)));
  }
  return out;
}

describe("doctor --json matches its documented schema", () => {
  it("every check and every values key a run emits is in the field guide's table", async () => {
    const docs = documented();
    expect([...docs.keys()]).toEqual(
      expect.arrayContaining(["config", "input", "trap", "disk", "outbox", "files", "cert", "broker", "service", "journal", "summary"]),
    );
    const dir = mkdtempSync(join(tmpdir(), "roadside-doctor-json-"));
    const pki = makePki();
    const pw = join(dir, "pw");
    writeFileSync(pw, "x\n");
    chmodSync(pw, 0o644);
    const port = await freePort();
    const file = join(dir, "site.yaml");
    writeFileSync(
      file,
      `device: { id: js-1, board: sim }
inputs: { lane1.up: { line: GPIO17 }, lane1.down: { line: GPIO27 }, spare: { line: GPIO5 } }
detectors: { lane1: { loops: [lane1.up, lane1.down] } }
manholes: { mh1: { sensor: { type: maxbotix, model: hrxl, port: { path: sim0 } }, mountHeightMm: 2400, overflowHeightMm: 1500 } }
mqtt: { url: "mqtts://127.0.0.1:${port}", username: u, passwordFile: ${pw}, tls: { ca: ${pki.ca} } }
sim: { seed: 4, traffic: { lane1: { vehiclesPerHour: 1200 } }, faults: [ { at: "5s", kind: stuck-on, target: lane1.down } ] }
`,
    );
    const r = await runCli(["doctor", "-c", file, "--seconds", "40", "--state-dir", join(dir, "state"), "--json"]);
    const lines = r.stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { check: string; status: string; values?: Record<string, unknown> });
    expect(lines.length).toBeGreaterThan(8);
    const seen = new Set<string>();
    for (const l of lines) {
      seen.add(l.check);
      expect(["pass", "warn", "fail", "skip"], JSON.stringify(l)).toContain(l.status);
      const keys = docs.get(l.check);
      expect(keys, `check ${l.check} is not in the field guide's table`).toBeDefined();
      for (const k of Object.keys(l.values ?? {})) expect(keys!.has(k), `${l.check}.values.${k} is not documented`).toBe(true);
    }
    // this run went through the interesting ones
    for (const c of ["input", "trap", "serial", "files", "cert", "broker", "summary"]) expect(seen.has(c), c).toBe(true);
    expect(lines.at(-1)!.check).toBe("summary");
    expect(r.code).toBe(1);
  });
});
