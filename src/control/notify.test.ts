import { describe, expect, it } from "vitest";
import { createLogger } from "../log/logger.js";
import { ServiceNotifier } from "./notify.js";

function rig(env: NodeJS.ProcessEnv, fail = false) {
  const sent: string[][] = [];
  const logs: string[] = [];
  const timers: { fn: () => void; ms: number; cleared: boolean }[] = [];
  const n = new ServiceNotifier({
    logger: createLogger({ format: "text", write: (l) => logs.push(l), priorityPrefix: false }),
    env,
    pid: 4242,
    send: async (args) => {
      sent.push([...args]);
      return fail ? "systemd-notify: not found" : undefined;
    },
    setInterval: (fn, ms) => {
      const t = { fn, ms, cleared: false };
      timers.push(t);
      return t;
    },
    clearInterval: (h) => {
      (h as { cleared: boolean }).cleared = true;
    },
  });
  return { n, sent, logs, timers };
}

describe("ServiceNotifier (sd_notify through systemd-notify)", () => {
  it("outside systemd it sends nothing and starts no timer", async () => {
    const { n, sent, timers } = rig({ WATCHDOG_USEC: "30000000" });
    await n.ready("running");
    await n.stopping();
    expect(sent).toEqual([]);
    expect(timers).toEqual([]);
  });

  it("READY=1 with a status, then a watchdog ping every WATCHDOG_USEC/2; STOPPING=1 ends the pings", async () => {
    const { n, sent, timers } = rig({ NOTIFY_SOCKET: "/run/systemd/notify", WATCHDOG_USEC: "30000000", WATCHDOG_PID: "4242" });
    await n.ready("running: device pole-1");
    expect(sent[0]).toEqual(["--ready", "--status=running: device pole-1"]);
    expect(timers).toHaveLength(1);
    expect(timers[0]!.ms).toBe(15_000);
    timers[0]!.fn();
    timers[0]!.fn();
    await Promise.resolve();
    expect(sent.slice(1)).toEqual([["WATCHDOG=1"], ["WATCHDOG=1"]]);
    await n.stopping();
    expect(timers[0]!.cleared).toBe(true);
    expect(sent.at(-1)).toEqual(["STOPPING=1"]);
  });

  it("a watchdog meant for another process (WATCHDOG_PID) is left alone; no WATCHDOG_USEC, no pings", async () => {
    const other = rig({ NOTIFY_SOCKET: "/run/x", WATCHDOG_USEC: "30000000", WATCHDOG_PID: "1" });
    await other.n.ready("up");
    expect(other.timers).toEqual([]);
    expect(other.sent).toEqual([["--ready", "--status=up"]]);
    const none = rig({ NOTIFY_SOCKET: "/run/x" });
    await none.n.ready("up");
    expect(none.timers).toEqual([]);
  });

  it("a failing systemd-notify is reported once, as a warning that says what follows and what to check", async () => {
    const { n, logs, timers } = rig({ NOTIFY_SOCKET: "/run/x", WATCHDOG_USEC: "2000000" }, true);
    await n.ready("up");
    timers[0]!.fn();
    timers[0]!.fn();
    await new Promise((r) => setImmediate(r));
    const warnings = logs.filter((l) => l.includes("WARN"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/cannot notify systemd .*systemd will restart roadside.*package systemd/);
  });
});
