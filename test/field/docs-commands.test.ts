import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse as parseYaml, stringify } from "yaml";
import { ROADSIDE, runCli } from "../helpers/cli.js";

/**
 * The commands the docs show, run as a reader would type them (a `roadside` on PATH, bash), and the
 * facts the docs state checked against the code they describe.
 */
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const doc = (p: string): string => readFileSync(join(ROOT, p), "utf8");

/** A folder with a `roadside` on PATH that runs this checkout. */
function shell(): { dir: string; run: (script: string) => { status: number | null; stdout: string; stderr: string } } {
  const dir = mkdtempSync(join(tmpdir(), "roadside-docs-"));
  mkdirSync(join(dir, "bin"));
  writeFileSync(join(dir, "bin", "roadside"), `#!/bin/sh\nexec "${process.execPath}" "${ROADSIDE}" "$@"\n`);
  chmodSync(join(dir, "bin", "roadside"), 0o755);
  return {
    dir,
    run: (script) =>
      spawnSync("bash", ["-eo", "pipefail", "-c", script], {
        cwd: dir,
        encoding: "utf8",
        env: { ...process.env, PATH: `${join(dir, "bin")}:${process.env["PATH"]}` },
        timeout: 300_000,
      }),
  };
}

/** The `$ …` lines of a fenced block (with `\` continuations joined), and the block's other lines. */
function commands(block: string): string[] {
  const out: string[] = [];
  let cur: string | undefined;
  for (const raw of block.split("\n")) {
    const line = raw.trim();
    if (cur !== undefined) cur += ` ${line.replace(/\\$/, "").trim()}`;
    else if (line.startsWith("$ ")) cur = line.slice(2).replace(/\\$/, "").trim();
    if (cur !== undefined && !line.endsWith("\\")) {
      out.push(cur);
      cur = undefined;
    }
  }
  return out;
}

describe("docs/simulator.md: record a seeded day, replay it, compare", () => {
  it("steps 1–3 run as written and end with `same summaries`", () => {
    const text = doc("docs/simulator.md");
    const section = text.slice(text.indexOf("## Record a seeded simulated day"), text.indexOf("4. Check any number"));
    const blocks = [...section.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1]!, body: m[2]!.replace(/^ {3}/gm, "") }));
    const yamlBlock = blocks.find((b) => b.lang === "yaml")!;
    const cmds = blocks.flatMap((b) => commands(b.body));
    expect(cmds).toHaveLength(3);
    const sh = shell();
    writeFileSync(join(sh.dir, "site.yaml"), yamlBlock.body);
    const r = sh.run(cmds.join("\n"));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("same summaries");
    // and the runs really printed a day of summaries, as the doc's example shows them
    const live = readFileSync(join(sh.dir, "live.txt"), "utf8").split("\n");
    expect(live.filter((l) => l.includes("seq")).length).toBeGreaterThan(500);
    const shown = blocks.flatMap((b) => b.body.split("\n")).filter((l) => /^\d\d:\d\d:\d\d {2}traffic\//.test(l));
    expect(shown.length).toBeGreaterThanOrEqual(3);
    for (const line of shown) {
      const [time, stream, len] = line.split(/ {2,}/);
      const vol = /volume \d+/.exec(line)![0];
      const seq = /seq \d+/.exec(line)![0];
      const real = live.find((l) => l.includes(`  ${seq}`) && (l.endsWith(seq) || l.includes(`${seq}  `)));
      expect(real, `${seq} in live.txt`).toBeDefined();
      expect(real!.startsWith(`${time}  ${stream}`), `${line}\nvs\n${real}`).toBe(true);
      expect(real).toContain(`  ${len}  ${vol}  `);
      expect(line.includes("time jump")).toBe(real!.includes("time jump"));
    }
  }, 300_000);
});

describe("facts the docs state", () => {
  it("README lists every board in boards/", () => {
    const ids = readdirSync(join(ROOT, "boards"))
      .filter((f) => f.endsWith(".json"))
      .map((f) => f.replace(/\.json$/, ""));
    const text = doc("README.md");
    const m = /Boards are data in `boards\/` \(([^)]*)\)/.exec(text.replace(/\n/g, " "));
    expect(m, "README's board list").not.toBeNull();
    const listed = [...m![1]!.matchAll(/`([^`]+)`/g)].map((x) => x[1]);
    expect(listed.sort()).toEqual(ids.sort());
  });

  it("examples/manhole.yaml's instructions for each Raspberry Pi give a config that validates", async () => {
    const text = doc("examples/manhole.yaml");
    const rows = [...text.matchAll(/^#\s+((?:raspberry-pi-[\w-]+(?:, )?)+): (\S+)$/gm)];
    expect(rows.length).toBeGreaterThanOrEqual(2);
    const config = parseYaml(text) as {
      device: Record<string, unknown>;
      manholes: Record<string, { sensor: { port: { path: string } } }>;
      sim?: unknown;
    };
    delete config.sim;
    const dir = mkdtempSync(join(tmpdir(), "roadside-manhole-"));
    const seen: string[] = [];
    for (const [, boards, port] of rows) {
      for (const board of boards!.split(", ")) {
        config.device["board"] = board;
        for (const m of Object.values(config.manholes)) m.sensor.port.path = port!;
        const file = join(dir, `${board}.yaml`);
        writeFileSync(file, stringify(config));
        const v = await runCli(["validate", file]);
        expect(v.code, `${board} with port ${port}: ${v.stdout}${v.stderr}`).toBe(0);
        seen.push(board);
      }
    }
    expect(seen).toContain("raspberry-pi-5");
  });

  it("an unknown board that is one digit from several guesses none of them (raspberry-pi-6); a typo still gets its hint", async () => {
    const dir = mkdtempSync(join(tmpdir(), "roadside-board-"));
    writeFileSync(join(dir, "six.yaml"), "device: { id: x, board: raspberry-pi-6 }\n");
    writeFileSync(join(dir, "typo.yaml"), "device: { id: x, board: raspbery-pi-5 }\n");
    const six = await runCli(["validate", join(dir, "six.yaml")]);
    expect(six.code).toBe(2);
    expect(six.stdout + six.stderr).toContain('device.board: no board "raspberry-pi-6" in boards/; known boards: ');
    expect(six.stdout + six.stderr).not.toContain("did you mean");
    const typo = await runCli(["validate", join(dir, "typo.yaml")]);
    expect(typo.stdout + typo.stderr).toContain("did you mean raspberry-pi-5?");
    const prov = await runCli(["provision", "--id", "x", "--board", "raspberry-pi-6", "--lane", "l=GPIO17", "-o", join(dir, "p.yaml")]);
    expect(prov.code).toBe(2);
    expect(prov.stdout + prov.stderr).not.toContain("did you mean raspberry-pi-3");
  });
});
