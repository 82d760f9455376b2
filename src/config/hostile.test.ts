import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { formatIssues, parseConfigText, validateConfig } from "./load.js";

// Hostile and malformed config text (issue 12): every one must give `path: message` lines and exit
// code 2, never a stack trace, within bounded time and memory. The same code checks configs sent
// with a signed `config` command, on the device's event loop.

const BASE = "device:\n  id: pole-1\n  board: sim\n";
const bomb = ["a: &a [x, x, x, x, x, x, x, x, x]"];
for (const [i, n] of ["b", "c", "d", "e", "f", "g", "h"].entries())
  bomb.push(`${n}: &${n} [${Array(9).fill(`*${"abcdefg"[i]}`).join(", ")}]`);
const many = (n: number): string => `${BASE}mqtt:\n${Array.from({ length: n }, (_, i) => `  k${i}: ${i}\n`).join("")}`;

const CORPUS: Record<string, { text: string; expect: RegExp }> = {
  "alias bomb": { text: `${bomb.join("\n")}\n`, expect: /^\(top level\): aliases \(\*name\) expand to too much data/ },
  "undefined alias": { text: `${BASE}mqtt: *x\n`, expect: /^mqtt: the alias \*x names no anchor/ },
  "!!binary": {
    text: `${BASE}mqtt:\n  url: !!binary ${Buffer.alloc(3000, 7).toString("base64")}\n`,
    expect: /^mqtt\.url: the YAML tag tag:yaml\.org,2002:binary is not supported/,
  },
  "!!set and a custom tag": {
    text: `${BASE}mqtt: !!set {a, b}\nwindows: !foo bar\n`,
    expect: /^mqtt: the YAML tag .*set is not supported/,
  },
  "20k unknown keys": { text: many(20_000), expect: /^mqtt\.k0: unknown setting; remove it/ },
  "deep flow nesting (YAML)": {
    text: `${BASE}sim: ${"[".repeat(100_000)}${"]".repeat(100_000)}\n`,
    expect: /^line 4, column \d+: brackets nested deeper than 64 levels/,
  },
  "deep nesting (JSON)": {
    text: `{"device":{"id":"p","board":"sim"},"sim":${'{"a":'.repeat(50_000)}1${"}".repeat(50_000)}}`,
    expect: /^line 1, column \d+: brackets nested deeper than 64 levels/,
  },
  "deep block nesting": {
    text: `${BASE}sim:\n${Array.from({ length: 200 }, (_, i) => `${" ".repeat(i + 1)}k:\n`).join("")}`,
    expect: /^sim\.k\.k\.k\.k\.k\.k\.k: nested deeper than 64 levels/,
  },
  "huge string": {
    text: `${BASE}site: "${"A".repeat(5_000_000)}"\n`,
    expect: /^\(top level\): the config is \d+ bytes; .* the limit is 1048576 bytes/,
  },
  "long string value": { text: `${BASE}mqtt: { url: ${"x".repeat(500_000)} }\nwindows: 7\n`, expect: /^mqtt\.url: / },
  "syntax error on a long line": {
    text: `${BASE}mqtt: {url: ${"x".repeat(300_000)}\n`,
    expect: /^line \d+, column \d+: .*; fix the YAML syntax$/,
  },
  "long unknown key (JSON)": {
    text: JSON.stringify({ device: { id: "p", board: "sim" }, ["k".repeat(400_000)]: 1 }),
    expect: /^\["kkkk.*… \(\d+ more characters\)\]: unknown section/,
  },
  "duplicate keys": { text: `${BASE}mqtt: {}\nmqtt: {}\n`, expect: /^mqtt: this key appears twice/ },
};

describe("hostile config input", () => {
  for (const [name, c] of Object.entries(CORPUS)) {
    it(`${name}: path: message lines, no raw input echoed, no exception`, () => {
      const r = parseConfigText(c.text);
      expect(r.ok).toBe(false);
      const lines = r.ok ? [] : formatIssues(r.issues);
      expect(lines.length).toBeGreaterThan(0);
      expect(lines[0]).toMatch(c.expect);
      for (const l of lines) {
        expect(l).toMatch(/^[^\n]+: [^\n]+$/);
        expect(l.length).toBeLessThan(700);
      }
      expect(lines.length).toBeLessThanOrEqual(1001);
    });
  }

  it("a JSON object nested 10,000 deep (a remote config command) is one issue, not a stack overflow", () => {
    let v: unknown = 1;
    for (let i = 0; i < 10_000; i++) v = { a: v };
    const r = validateConfig({ device: { id: "p", board: "sim" }, sim: v });
    expect(r.ok).toBe(false);
    expect(formatIssues(r.issues)).toEqual(["sim.a.a.a.a.a.a.a: nested deeper than 64 levels; a config needs a handful"]);
  });

  // A real process under a heap cap: exit code 2 and `path: message` lines for every file; a process
  // that ran out of memory or threw would exit 1 (or be killed), one that hung would hit the time cap.
  it("roadside validate exits 2 on every hostile file under a 256 MB heap and a 60 s cap each", async () => {
    const dir = mkdtempSync(join(tmpdir(), "roadside-hostile-"));
    const bin = fileURLToPath(new URL("../../bin/roadside.js", import.meta.url));
    for (const [name, c] of Object.entries(CORPUS)) {
      const file = join(dir, `${name.replace(/[^a-z0-9]+/gi, "-")}.yaml`);
      writeFileSync(file, c.text);
      const child = spawn(process.execPath, ["--max-old-space-size=256", "--stack-size=984", bin, "validate", file], {
        stdio: ["ignore", "pipe", "pipe"],
        timeout: 60_000,
      });
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      child.stderr.on("data", (d: Buffer) => (out += d.toString()));
      const code = await new Promise<number | string>((resolve) => child.on("exit", (c2, sig) => resolve(c2 ?? sig ?? -1)));
      expect(code, `${name}: ${out.slice(0, 400)}`).toBe(2);
      expect(out, name).not.toMatch(/\n\s+at /); // no stack trace
      expect(out.length, name).toBeLessThan(1001 * 700);
    }
  }, 600_000);
});
