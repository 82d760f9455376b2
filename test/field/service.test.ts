import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, openSync, closeSync, readFileSync, statSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EmbeddedBroker } from "../../src/mqtt/embedded.js";
import { startAedes } from "../helpers/brokers.js";
import { ROADSIDE } from "../helpers/cli.js";

/**
 * `roadside run` as systemd runs it: stderr is the journal stream (JOURNAL_STREAM names it), and a
 * notification socket asks for READY=1 and watchdog pings. A stand-in `systemd-notify` on PATH
 * records what the service sends; the real systemd is exercised by the virtual device (test/device).
 */
const dir = mkdtempSync(join(tmpdir(), "roadside-service-"));
let broker: EmbeddedBroker;

beforeAll(async () => {
  broker = await startAedes();
  const bin = join(dir, "bin");
  writeFileSync(join(dir, "placeholder"), "");
  spawn("mkdir", ["-p", bin]);
  await new Promise((r) => setTimeout(r, 50));
  writeFileSync(join(bin, "systemd-notify"), `#!/bin/sh\nprintf '%s\\n' "$*" >> "${join(dir, "notified")}"\n`);
  chmodSync(join(bin, "systemd-notify"), 0o755);
});
afterAll(() => broker.close());

function runAsService(args: string[], extraEnv: NodeJS.ProcessEnv): Promise<{ code: number | null; journal: string }> {
  const journalFile = join(dir, `journal-${Math.random().toString(16).slice(2)}`);
  const fd = openSync(journalFile, "w");
  const st = statSync(journalFile);
  const child = spawn(process.execPath, [ROADSIDE, ...args], {
    stdio: ["ignore", "ignore", fd],
    env: { ...process.env, PATH: `${join(dir, "bin")}:${process.env["PATH"]}`, JOURNAL_STREAM: `${st.dev}:${st.ino}`, ...extraEnv },
  });
  closeSync(fd);
  return new Promise((resolve) => child.on("exit", (code) => resolve({ code, journal: readFileSync(journalFile, "utf8") })));
}

describe("under systemd", () => {
  it("sends READY=1 once the device runs, pings the watchdog, says STOPPING=1, and every journal line has its priority", async () => {
    const cfg = join(dir, "svc.yaml");
    writeFileSync(
      cfg,
      "device: { id: svc-1, board: sim }\ninputs: { a: { line: GPIO17 } }\ndetectors: { lane1: { loops: [a] } }\nwindows: { default: 10s }\n",
    );
    const r = await runAsService(["run", "-c", cfg, "--broker", broker.url, "--state-dir", join(dir, "state"), "-d", "3s"], {
      NOTIFY_SOCKET: "/run/systemd/notify",
      WATCHDOG_USEC: "400000", // a ping every 200 ms
    });
    expect(r.code, r.journal).toBe(0);
    const sent = readFileSync(join(dir, "notified"), "utf8").trim().split("\n");
    expect(sent[0]).toMatch(/^--ready --status=running: device svc-1 on roadside hardware simulator/);
    const pings = sent.filter((l) => l === "WATCHDOG=1").length;
    expect(pings, sent.join("\n")).toBeGreaterThanOrEqual(3);
    expect(sent.at(-1)).toBe("STOPPING=1");
    const lines = r.journal.split("\n").filter(Boolean);
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l, "every line starts with a syslog priority").toMatch(/^<[3467]>\{/);
    expect(lines.some((l) => l.startsWith("<6>") && l.includes("watchdog on"))).toBe(true);
  });

  it("a bad config is logged at error priority (journalctl -p err finds it) and exits 2", async () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, "device: { id: bad-1, board: nope }\n");
    const r = await runAsService(["run", "-c", bad], {});
    expect(r.code).toBe(2);
    const lines = r.journal.split("\n").filter(Boolean);
    expect(
      lines.some((l) => /^<3>device\.board: no board "nope"/.test(l)),
      r.journal,
    ).toBe(true);
    for (const l of lines) expect(l).toMatch(/^<3>/);
  });

  it("with no notification socket nothing is sent", async () => {
    const cfg = join(dir, "svc2.yaml");
    writeFileSync(cfg, "device: { id: svc-2, board: sim }\ninputs: { a: { line: GPIO17 } }\ndetectors: { lane1: { loops: [a] } }\n");
    const marker = join(dir, "notified");
    const before = existsSync(marker) ? readFileSync(marker, "utf8") : "";
    const r = await runAsService(["run", "-c", cfg, "--broker", broker.url, "--state-dir", join(dir, "state2"), "-d", "1s"], {
      NOTIFY_SOCKET: "",
      WATCHDOG_USEC: "400000",
    });
    expect(r.code, r.journal).toBe(0);
    expect(existsSync(marker) ? readFileSync(marker, "utf8") : "").toBe(before);
  });
});
