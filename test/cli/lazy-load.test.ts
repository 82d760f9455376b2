import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EmbeddedBroker } from "../../src/mqtt/embedded.js";
import { startAedes } from "../helpers/brokers.js";
import { ROADSIDE } from "../helpers/cli.js";

const HOOK = fileURLToPath(new URL("../helpers/module-log.mjs", import.meta.url));

/**
 * The ES modules `roadside ARGS` loads (it runs to its end: --duration): `modules` in every thread,
 * `kept` in the main thread only (a worker's modules go with it: the config worker, src/config/load-off-thread.ts).
 */
async function modulesOf(dir: string, args: string[]): Promise<{ code: number | null; modules: string[]; kept: string[]; stderr: string }> {
  const log = join(dir, `modules-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(log, "");
  const child = spawn(process.execPath, ["--import", HOOK, ROADSIDE, ...args], {
    env: { ...process.env, MODULE_LOG: log },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
  // module-log.mjs writes "THREAD URL", thread 0 the main one
  const lines = readFileSync(log, "utf8").split("\n").filter(Boolean);
  const url = (l: string) => l.slice(l.indexOf(" ") + 1);
  return { code, modules: lines.map(url), kept: lines.filter((l) => l.startsWith("0 ")).map(url), stderr };
}

/** The modules a process loads that only imports dist/REL (as a test of what a module pulls in with it). */
async function importedBy(dir: string, rel: string): Promise<string[]> {
  const log = join(dir, `modules-${rel.replace(/\W/g, "-")}.txt`);
  writeFileSync(log, "");
  const file = fileURLToPath(new URL(`../../dist/${rel}`, import.meta.url));
  const child = spawn(process.execPath, ["--import", HOOK, "--input-type=module", "-e", `await import(${JSON.stringify(file)});`], {
    env: { ...process.env, MODULE_LOG: log },
    stdio: "ignore",
  });
  expect(await new Promise((r) => child.on("exit", r))).toBe(0);
  return readFileSync(log, "utf8").split("\n");
}

const dist = (m: string[], folder: string) => m.filter((u) => u.includes(`/dist/${folder}`));

describe("a command loads only what it uses (issue 15: every module loaded stays in memory)", () => {
  let dir: string;
  let broker: EmbeddedBroker;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "roadside-lazy-"));
    broker = await startAedes();
  });
  afterAll(async () => {
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("run against a broker loads no embedded broker, doctor, provision, install, sim or replay command code", async () => {
    const config = join(dir, "device.json");
    writeFileSync(
      config,
      JSON.stringify({
        device: { id: "lazy-1", board: "sim" },
        inputs: { a: { line: 17 }, b: { line: 27 } },
        detectors: { lane1: { loops: ["a", "b"] } },
        windows: { default: "10s" },
      }),
    );
    const r = await modulesOf(dir, [
      "run",
      "--config",
      config,
      "--broker",
      broker.url,
      "--state-dir",
      join(dir, "state"),
      "--duration",
      "2s",
      "--quiet",
      "--log-level",
      "error",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.modules.some((u) => u.endsWith("/dist/cli/run.js"))).toBe(true);
    expect(r.modules.filter((u) => u.includes("/node_modules/aedes/"))).toEqual([]);
    // mqtt.js's WebSocket and SOCKS transports only for a ws:// broker (src/mqtt/connect.ts)
    expect(r.modules.filter((u) => /\/node_modules\/(ws|socks|ip-address|smart-buffer)\//.test(u))).toEqual([]);
    // the simulated board is a johnny-five board: its Board class only, not the package's index of
    // every component class (3.1 MB of heap against 1.4 MB, issue 15)
    expect(r.modules.some((u) => u.endsWith("/node_modules/johnny-five/lib/board.js"))).toBe(true);
    expect(r.modules.filter((u) => u.endsWith("/node_modules/johnny-five/lib/johnny-five.js"))).toEqual([]);
    expect(dist(r.modules, "doctor/")).toEqual([]);
    expect(dist(r.modules, "provision/")).toEqual([]);
    expect(dist(r.modules, "install/")).toEqual([]);
    for (const cmd of ["doctor", "provision", "install", "sim", "replay", "watch", "validate"])
      expect(dist(r.modules, `cli/${cmd}.js`)).toEqual([]);
    // zod, yaml and the config schemas (~8 MB of live heap for good) load only in the config worker
    expect(r.modules.some((u) => /\/node_modules\/zod\//.test(u))).toBe(true);
    expect(r.kept.filter((u) => /\/node_modules\/(zod|yaml)\//.test(u))).toEqual([]);
    expect(r.kept.filter((u) => /\/dist\/config\/(schema|load|types|sections\/(detectors|identifiers))\.js$/.test(u))).toEqual([]);
  }, 60_000);

  it("sim and the no-config demo validate their config in the worker: zod and yaml stay out of the main thread", async () => {
    const sim = await modulesOf(dir, ["sim", "--duration", "10m", "--log-level", "error"]);
    expect(sim.stderr).toBe("");
    expect(sim.code).toBe(0);
    expect(sim.modules.some((u) => u.endsWith("/dist/cli/sim.js"))).toBe(true);
    expect(sim.kept.filter((u) => /\/node_modules\/(zod|yaml)\//.test(u))).toEqual([]);
    const demo = await modulesOf(dir, [
      "run",
      "--state-dir",
      join(dir, "state-demo-zod"),
      "--duration",
      "1s",
      "--quiet",
      "--log-level",
      "error",
    ]);
    expect(demo.code).toBe(0);
    expect(demo.kept.filter((u) => /\/node_modules\/(zod|yaml)\//.test(u))).toEqual([]);
  }, 60_000);

  it("run with no broker starts the embedded one (aedes is loaded when it is used)", async () => {
    const r = await modulesOf(dir, ["run", "--state-dir", join(dir, "state-demo"), "--duration", "1s", "--quiet", "--log-level", "error"]);
    expect(r.code).toBe(0);
    expect(r.modules.some((u) => u.includes("/node_modules/aedes/"))).toBe(true);
  }, 60_000);

  it("the hardware factory loads johnny-five and firmata-io only when a board opens through them", async () => {
    const modules = await importedBy(dir, "io/factory.js");
    expect(modules.some((u) => u.endsWith("/dist/io/factory.js"))).toBe(true);
    expect(modules.filter((u) => /\/node_modules\/(johnny-five|firmata-io)\//.test(u))).toEqual([]);
  }, 30_000);

  it("the run command on real hardware loads no simulator and no serialport until a board or a port opens", async () => {
    const modules = await importedBy(dir, "cli/run.js");
    expect(modules.some((u) => u.endsWith("/dist/runtime.js"))).toBe(true);
    expect(dist(modules, "sim/")).toEqual([]);
    expect(modules.filter((u) => /\/node_modules\/(@serialport|serialport|johnny-five|firmata-io)\//.test(u))).toEqual([]);
  }, 30_000);

  it("--help names every command without loading any of them", async () => {
    const r = await modulesOf(dir, ["--help"]);
    expect(r.code).toBe(0);
    expect(r.modules.filter((u) => /\/dist\/cli\/(run|sim|replay|doctor|provision|install|watch|validate)\.js$/.test(u))).toEqual([]);
  }, 30_000);
});
