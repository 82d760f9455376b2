import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { fakeBundle, imagerCard } from "./provision-card.js";

/**
 * Every `roadside provision` command in docs/field-guide.md, run as printed (with its output moved
 * to a temporary folder), so the worked examples cannot drift from the flags.
 */

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const GUIDE = readFileSync(join(ROOT, "docs", "field-guide.md"), "utf8");

/** The guide's shell commands that run `roadside provision` with flags, continuation lines joined. */
function documentedCommands(): string[] {
  const out: string[] = [];
  for (const block of GUIDE.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const text = block[1]!.replace(/^ {3}/gm, "").replace(/\\\n\s*/g, " ");
    for (const line of text.split("\n")) {
      const cmd = line.replace(/#.*$/, "").trim();
      if (/^(sudo )?(npx )?roadside provision .*--id /.test(cmd)) out.push(cmd);
    }
  }
  return out;
}

/** Split a command line into words as sh would (quotes, no expansion). */
function words(cmd: string): string[] {
  const out: string[] = [];
  for (const m of cmd.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

const dir = mkdtempSync(join(tmpdir(), "roadside-docs-"));
const cwd = join(dir, "work");
mkdirSync(cwd);
for (const [f, text] of Object.entries({
  "city-ca.pem": "-----BEGIN CERTIFICATE-----\n",
  "broker.pw": "hunter2\n",
  "cmd.pub": "-----BEGIN PUBLIC KEY-----\n",
  "pole-0042.crt": "-----BEGIN CERTIFICATE-----\n",
  "pole-0042.key": "-----BEGIN PRIVATE KEY-----\n",
}))
  writeFileSync(join(cwd, f), text);
const bundle = fakeBundle(join(dir, "bundle"));

describe("docs/field-guide.md's provision examples", () => {
  const commands = documentedCommands();

  it("cover every sensor kind, broker credentials and the first-boot seed", () => {
    const all = commands.join(" ");
    for (const flag of [
      "--lane",
      "--manhole",
      "--bin",
      "--probe",
      "--rfid",
      "--username",
      "--password-file",
      "--ca",
      "--control-key",
      "--seed",
      "--bundle",
    ])
      expect(all, flag).toContain(` ${flag} `);
  });

  it.each(commands.map((c, i) => [i + 1, c]))("example %i runs as printed: %s", async (_n, cmd) => {
    const args = words(cmd as string).filter((w) => w !== "sudo" && w !== "npx");
    expect(args.slice(0, 2)).toEqual(["roadside", "provision"]);
    const argv = args.slice(2);
    for (let i = 0; i < argv.length; i++) {
      const v = argv[i + 1];
      if (v === undefined) continue;
      if (argv[i] === "-o" || argv[i] === "--output") argv[i + 1] = join(dir, `${_n}-${basename(v)}`);
      else if (argv[i] === "--seed") argv[i + 1] = imagerCard(join(dir, `card-${_n}`));
      else if (argv[i] === "--bundle") argv[i + 1] = bundle;
      else if (["--ca", "--cert", "--key", "--password-file", "--control-key"].includes(argv[i]!)) argv[i + 1] = join(cwd, v);
    }
    const r = await runCli(["provision", ...argv]);
    expect(r.code, `${cmd}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/^wrote /);
  });
});
