import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EmbeddedBroker } from "../../src/mqtt/embedded.js";
import { startAedes } from "../helpers/brokers.js";
import { builtDist } from "./rig.js";

const CHILD = new URL("./fixtures/wear-child.mjs", import.meta.url).pathname;
// the test runs the built device in a child process
builtDist("runtime.js");

// SD cards wear by what is written: a full site (4 lanes at 1 min, a manhole at 15 min, a bin at
// 30 min) online for one simulated day, with the open windows recorded at every commit (the crash
// accounting). The figure is printed for docs/delivery.md; the bound only catches a regression by
// an order of magnitude (e.g. a write per event instead of per window).
describe("disk writes per day of a full site", () => {
  let broker: EmbeddedBroker;
  beforeAll(async () => {
    broker = await startAedes();
  });
  afterAll(async () => {
    await broker?.close();
  });

  it("stays within 64 MB a day (measured on ext4; /proc/self/io write_bytes of the device process)", async () => {
    // on disk, not tmpfs: the kernel must count real writes
    const dir = mkdtempSync(join("/var/tmp", "roadside-wear-"));
    const child = spawn(process.execPath, [CHILD, broker.url, join(dir, "outbox.db")], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    const m = /wear (\d+) (\d+) (\d+)/.exec(out);
    expect(m, `wear child exited ${code}: ${err}`).not.toBeNull();
    const bytes = Number(m![1]);
    const summaries = Number(m![2]);
    console.info(
      `full site, one day online: ${summaries} summaries, ${(bytes / 1e6).toFixed(1)} MB written (${(bytes / summaries / 1000).toFixed(1)} KB per summary)`,
    );
    expect(summaries).toBe(4 * 1440 + 96 + 48);
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThan(64e6);
  }, 300_000);
});
