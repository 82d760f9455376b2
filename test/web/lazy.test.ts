import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EmbeddedBroker } from "../../src/mqtt/embedded.js";
import { freePort, startAedes } from "../helpers/brokers.js";

/** web.listen off costs nothing: the page's code is not even loaded (issue 17: a few MB at most). */
const HOOK = fileURLToPath(new URL("../helpers/module-log.mjs", import.meta.url));
const BIN = fileURLToPath(new URL("../../bin/roadside.js", import.meta.url));

async function modules(dir: string, config: object): Promise<string[]> {
  const file = join(dir, `c-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(config));
  const log = `${file}.modules`;
  writeFileSync(log, "");
  const child = spawn(
    process.execPath,
    ["--import", HOOK, BIN, "run", "-c", file, "--state-dir", `${file}.state`, "--duration", "2s", "--quiet"],
    {
      env: { ...process.env, MODULE_LOG: log },
      stdio: "ignore",
    },
  );
  expect(await new Promise((r) => child.on("exit", r))).toBe(0);
  return readFileSync(log, "utf8").split("\n").filter(Boolean);
}

describe("the status page is loaded only when web.listen is set", () => {
  let broker: EmbeddedBroker;
  const dir = mkdtempSync(join(tmpdir(), "roadside-weblazy-"));
  beforeAll(async () => {
    broker = await startAedes();
  });
  afterAll(async () => {
    await broker.close();
  });

  it("off: no web module at all; on: the server, not doctor until asked", async () => {
    const base = {
      device: { id: "lazy-web", board: "sim" },
      inputs: { a: { line: 17 } },
      detectors: { lane1: { loops: ["a"] } },
      mqtt: { url: broker.url },
    };
    const of = (urls: string[], folder: string): string[] =>
      urls.filter((u) => u.includes(`/dist/${folder}/`)).map((u) => u.slice(u.indexOf(`/dist/${folder}/`) + folder.length + 7));
    expect(of(await modules(dir, base), "web")).toEqual([]);
    const all = await modules(dir, { ...base, web: { listen: `127.0.0.1:${await freePort()}` } });
    expect(of(all, "doctor")).toEqual([]);
    const on = of(all, "web");
    expect(on).toEqual(expect.arrayContaining(["device-start.js", "device-web.js", "server.js", "assets.js"]));
    expect(on).not.toContain("fleet-web.js");
    expect(on).not.toContain("history.js");
  }, 60_000);
});
