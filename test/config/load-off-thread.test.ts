// The config worker (src/config/load-off-thread.ts, issue 15) gives what loadConfigFile gives, in the
// compiled worker the commands use (dist/, built by `npm run build`), and fails with the config's
// name, never hangs, when its thread dies or posts nothing.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoConfig } from "../../src/config/defaults.js";
import { formatIssues, loadConfigFile, validateConfig } from "../../src/config/load.js";
import { loadConfigFileOffThread, loadDemoConfigOffThread } from "../../src/config/load-off-thread.js";

const WORKER = new URL("../../dist/config/config-worker.js", import.meta.url);
const SITE = new URL("../../scripts/bench/configs/site-24h.yaml", import.meta.url).pathname;

describe("loading the config in a worker thread", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "roadside-config-worker-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("a good config: the same config, board, lines (a Map) and hash as loadConfigFile", async () => {
    const here = loadConfigFile(SITE);
    const there = await loadConfigFileOffThread(SITE, { worker: WORKER });
    expect(here.ok).toBe(true);
    expect(there.ok).toBe(true);
    if (!there.ok || !here.ok) return;
    expect(there.loaded.lines).toBeInstanceOf(Map);
    expect(there.loaded.lines.size).toBeGreaterThan(0);
    expect(there).toStrictEqual(here);
  });

  it("the built-in demo: the same as validating demoConfig()", async () => {
    expect(await loadDemoConfigOffThread({ worker: WORKER })).toStrictEqual(validateConfig(demoConfig()));
  });

  it("a bad config: the same issues, so the printed lines are byte for byte those of today", async () => {
    const file = join(dir, "bad.yaml");
    writeFileSync(
      file,
      "device: { id: bad-1, board: nosuch }\ninputs: { a: { line: 999 } }\ndetectors: { l: { loops: [a, b] } }\nwindoes: {}\n",
    );
    const here = loadConfigFile(file);
    const there = await loadConfigFileOffThread(file, { worker: WORKER });
    expect(here.ok).toBe(false);
    expect(there).toStrictEqual(here);
    if (there.ok || here.ok) return;
    expect(formatIssues(there.issues)).toEqual(formatIssues(here.issues));
    expect(there.issues.length).toBeGreaterThan(1);
  });

  it("a missing file and a YAML syntax error: one issue each, as in this thread", async () => {
    const missing = join(dir, "missing.yaml");
    const a = await loadConfigFileOffThread(missing, { worker: WORKER });
    expect(a).toStrictEqual(loadConfigFile(missing));
    expect(a.ok ? [] : formatIssues(a.issues)).toEqual([
      `(top level): cannot read ${missing}: no such file; check the path, or write one with \`roadside provision\``,
    ]);
    const broken = join(dir, "broken.yaml");
    writeFileSync(broken, "device:\n  id: x\n   board: sim\n  - [\n");
    const b = await loadConfigFileOffThread(broken, { worker: WORKER });
    expect(b.ok).toBe(false);
    expect(b).toStrictEqual(loadConfigFile(broken));
  });

  it("a worker that posts nothing or throws: an error naming the config file, not a hang", async () => {
    const silent = join(dir, "silent-worker.mjs");
    writeFileSync(silent, "process.exitCode = 0;\n");
    await expect(loadConfigFileOffThread("/etc/roadside/site.yaml", { worker: pathToFileURL(silent) })).rejects.toThrow(
      /^cannot load \/etc\/roadside\/site\.yaml: the config loader's thread exited \(code 0\) without a result/,
    );
    const crash = join(dir, "crash-worker.mjs");
    writeFileSync(crash, "throw new Error('boom in the loader');\n");
    await expect(loadConfigFileOffThread("/etc/roadside/site.yaml", { worker: pathToFileURL(crash) })).rejects.toThrow(
      /^cannot load \/etc\/roadside\/site\.yaml: the config loader's thread failed: boom in the loader/,
    );
  });

  it("without a compiled worker beside it (run from the sources), it loads in this thread", async () => {
    const r = await loadConfigFileOffThread(SITE, { worker: pathToFileURL(join(dir, "no-such-worker.js")) });
    expect(r).toStrictEqual(loadConfigFile(SITE));
  });
});
