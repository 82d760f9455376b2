import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadBoards } from "../config/boards.js";
import type { DeviceConfigInput } from "../config/schema.js";
import { validateConfig } from "../config/load.js";
import { SqliteOutbox } from "../outbox/sqlite.js";
import type { DoctorContext, DoctorEnv, ExecResult } from "./check.js";
import { boardCheck, clockCheck, diskCheck, gpioCheck, outboxCheck } from "./system.js";
import { matchBoard, parseCompatible } from "./board.js";

const boards = loadBoards();

function ctx(input: DeviceConfigInput, env: Partial<DoctorEnv>, stateDir = "/tmp"): DoctorContext {
  const r = validateConfig(input);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  const full: DoctorEnv = {
    readFile: () => {
      throw new Error("ENOENT");
    },
    exec: async () => ({ code: -1, stdout: "", stderr: "", missing: true }),
    diskSpace: () => ({ freeBytes: 10e9, totalBytes: 32e9 }),
    writable: () => true,
    now: () => Date.UTC(2026, 0, 5, 7, 0, 0),
    ...env,
  };
  return {
    configPath: "device.yaml",
    loaded: r.loaded,
    issues: [],
    boards,
    env: full,
    options: { seconds: 1, realTime: false, brokerUrl: undefined, stateDir, version: "0" },
    progress: () => {},
    live: () => Promise.reject(new Error("no live watch in unit tests")),
  };
}

const pi5 = { device: { id: "p1", board: "raspberry-pi-5" } };
const files = (map: Record<string, string>) => (p: string) => {
  const v = map[p];
  if (v === undefined) throw new Error(`ENOENT ${p}`);
  return v;
};
const exec = (map: Record<string, ExecResult>) => async (cmd: string) => map[cmd] ?? { code: -1, stdout: "", stderr: "", missing: true };

describe("doctor checks on a (faked) machine", () => {
  it("reads the device tree's NUL-separated compatible strings and finds the board by the most specific", () => {
    const c = parseCompatible("raspberrypi,4-model-b\0brcm,bcm2711\0");
    expect(c).toEqual(["raspberrypi,4-model-b", "brcm,bcm2711"]);
    expect(matchBoard({ compatible: c, model: undefined }, boards)?.id).toBe("raspberry-pi-4");
  });

  it("board: a Pi 4 running a Pi 5 config fails, naming the board to set", async () => {
    const [r] = await boardCheck.run(
      ctx(pi5, {
        readFile: files({
          "/proc/device-tree/compatible": "raspberrypi,4-model-b\0brcm,bcm2711\0",
          "/proc/device-tree/model": "Raspberry Pi 4 Model B Rev 1.4\0",
        }),
      }),
    );
    expect(r).toMatchObject({
      status: "fail",
      title: "this machine is Raspberry Pi 4 Model B Rev 1.4 (raspberrypi,4-model-b); the config says raspberry-pi-5",
      fix: "set device.board: raspberry-pi-4 in device.yaml",
    });
    const [ok] = await boardCheck.run(
      ctx(pi5, { readFile: files({ "/proc/device-tree/compatible": "raspberrypi,5-model-b\0brcm,bcm2712\0" }) }),
    );
    expect(ok).toMatchObject({ status: "pass", title: "raspberrypi,5-model-b matches raspberry-pi-5 (raspberrypi,5-model-b)" });
    const [pc] = await boardCheck.run(ctx(pi5, {}));
    expect(pc!.status).toBe("warn");
  });

  it("gpio: finds the chip by label in gpiodetect's output and checks its device file", async () => {
    const gpiodetect = {
      code: 0,
      stdout: "gpiochip0 [pinctrl-rp1] (54 lines)\ngpiochip10 [gpio-brcmstb@107d508500] (32 lines)\n",
      stderr: "",
    };
    const [ok] = await gpioCheck.run(ctx(pi5, { exec: exec({ gpiodetect }) }));
    expect(ok).toMatchObject({ status: "pass", title: "gpiochip0 [pinctrl-rp1] (54 lines), /dev/gpiochip0 readable and writable" });
    const [perm] = await gpioCheck.run(ctx(pi5, { exec: exec({ gpiodetect }), writable: () => false }));
    expect(perm).toMatchObject({ status: "fail" });
    expect(perm!.fix).toMatch(/usermod -aG gpio/);
    const [other] = await gpioCheck.run(
      ctx(pi5, { exec: exec({ gpiodetect: { code: 0, stdout: "gpiochip0 [pinctrl-bcm2711] (58 lines)\n", stderr: "" } }) }),
    );
    expect(other).toMatchObject({ status: "fail", title: "no GPIO chip labelled pinctrl-rp1; found gpiochip0 [pinctrl-bcm2711]" });
    const [missing] = await gpioCheck.run(ctx(pi5, {}));
    expect(missing).toMatchObject({ status: "fail", fix: "sudo apt-get install gpiod (scripts/install.sh does this)" });
  });

  it("clock: synchronised passes, unsynchronised fails with the fix, no answer warns", async () => {
    const ask = (value: string): Partial<DoctorEnv> => ({ exec: exec({ timedatectl: { code: 0, stdout: `${value}\n`, stderr: "" } }) });
    expect((await clockCheck.run(ctx(pi5, ask("yes"))))[0]!.status).toBe("pass");
    const [no] = await clockCheck.run(ctx(pi5, ask("no")));
    expect(no).toMatchObject({ status: "fail", title: "not synchronised; the clock says 2026-01-05T07:00:00.000Z" });
    expect(no!.fix).toMatch(/timedatectl set-ntp true/);
    expect((await clockCheck.run(ctx(pi5, {})))[0]!.status).toBe("warn");
  });

  it("disk: fails under 50 MB free, warns when low, checks the nearest existing folder", async () => {
    const [low] = await diskCheck.run(ctx(pi5, { diskSpace: () => ({ freeBytes: 20e6, totalBytes: 16e9 }) }, "/tmp/roadside-nope/state"));
    expect(low).toMatchObject({ status: "fail", title: "/tmp/roadside-nope/state (not created yet; checked /tmp): 20.0 MB free (0 %)" });
    const [ok] = await diskCheck.run(ctx(pi5, {}));
    expect(ok).toMatchObject({ status: "pass", title: "/tmp: 10.0 GB free (31 %)" });
    const [ro] = await diskCheck.run(ctx(pi5, { writable: () => false }));
    expect(ro!.status).toBe("fail");
  });

  it("outbox: reads what waits without writing, and warns when the oldest is over an hour old", async () => {
    const dir = mkdtempSync(join(tmpdir(), "roadside-doctor-"));
    const now = Date.UTC(2026, 0, 5, 7, 0, 0);
    const ob = SqliteOutbox.open({ path: join(dir, "outbox.db"), now: () => now - 2 * 3600_000 });
    ob.commit(
      [1, 2, 3].map(() => ({
        topic: "roadside/p1/traffic/l1",
        priority: "routine" as const,
        contentType: "application/senml+cbor",
        encode: () => new Uint8Array(100),
      })),
    );
    ob.close();
    const [r] = await outboxCheck.run(ctx(pi5, { now: () => now }, dir));
    expect(r).toMatchObject({ status: "warn", title: "3 messages waiting (300 B), oldest 120 min; next seq 4" });
    const [none] = await outboxCheck.run(ctx(pi5, {}, join(dir, "none")));
    expect(none!.title).toMatch(/^none yet in/);
  });
});
