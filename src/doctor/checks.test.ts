import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { loadBoards } from "../config/boards.js";
import type { DeviceConfigInput } from "../config/schema.js";
import { validateConfig } from "../config/load.js";
import { brokerCheck } from "./broker.js";
import type { DoctorContext, DoctorEnv, DoctorOptions, ExecResult } from "./check.js";
import { accessAs, filesCheck, judgeCertificate, parsePemCertificates } from "./files.js";
import { describeExit, parseShow, serviceCheck } from "./service.js";

const boards = loadBoards();
const NOW = Date.UTC(2026, 0, 5, 7, 0, 0);

function ctx(
  input: DeviceConfigInput,
  env: Partial<DoctorEnv>,
  options: Partial<DoctorOptions> = {},
  configPath = "device.yaml",
): DoctorContext {
  const r = validateConfig(input);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  const full: DoctorEnv = {
    readFile: () => {
      throw new Error("ENOENT");
    },
    exec: async () => ({ code: -1, stdout: "", stderr: "", missing: true }),
    diskSpace: () => ({ freeBytes: 10e9, totalBytes: 32e9 }),
    writable: () => true,
    now: () => NOW,
    ...env,
  };
  return {
    configPath,
    loaded: r.loaded,
    issues: [],
    boards,
    env: full,
    options: { seconds: 1, realTime: false, brokerUrl: undefined, stateDir: "/tmp", version: "0", ...options },
    progress: () => {},
    live: () => Promise.reject(new Error("no live watch in unit tests")),
  };
}
const sim = { device: { id: "p1", board: "sim" } };
const exec =
  (map: Record<string, ExecResult | ((args: readonly string[]) => ExecResult)>) =>
  async (cmd: string, args: readonly string[]): Promise<ExecResult> => {
    const v = map[cmd];
    if (v === undefined) return { code: -1, stdout: "", stderr: "", missing: true };
    return typeof v === "function" ? v(args) : v;
  };
const ok = (stdout: string): ExecResult => ({ code: 0, stdout, stderr: "" });

describe("doctor: the service on a systemd host", () => {
  const show = (p: Record<string, string>): string =>
    Object.entries(p)
      .map(([k, v]) => `${k}=${v}`)
      .join("\n");
  const running = {
    LoadState: "loaded",
    ActiveState: "active",
    SubState: "running",
    UnitFileState: "enabled",
    NRestarts: "0",
    Result: "success",
    ExecMainCode: "0",
    ExecMainStatus: "0",
    ActiveEnterTimestamp: "Mon 2026-01-05 06:00:00 UTC",
  };

  it("reads systemctl show and names exits the way a technician reads them", () => {
    expect(parseShow("A=1\nB=x=y\n")).toEqual({ A: "1", B: "x=y" });
    expect(describeExit("1", "2")).toBe("exit code 2 (bad usage or config)");
    expect(describeExit("2", "6")).toBe("killed by signal SIGABRT (the watchdog or an abort)");
    expect(describeExit("0", "0")).toBeUndefined();
  });

  it("active and clean passes; restarts since start, a failed unit and journal errors do not", async () => {
    const journal = (lines: string): ExecResult => ok(lines);
    const [a, j] = await serviceCheck.run(ctx(sim, { exec: exec({ systemctl: ok(show(running)), journalctl: journal("") }) }));
    expect(a).toMatchObject({
      status: "pass",
      title: "roadside.service active (running) since Mon 2026-01-05 06:00:00 UTC; 0 restarts since it was started",
      values: { restarts: 0, activeState: "active", lastExit: null },
    });
    expect(j).toMatchObject({ status: "pass", label: "journal", values: { errors: 0 } });

    const flapping = { ...running, NRestarts: "4", ExecMainCode: "1", ExecMainStatus: "1" };
    const errs =
      "2026-01-05T06:10:00+0000 pi roadside[812]: outbox: disk I/O error\n2026-01-05T06:20:00+0000 pi roadside[901]: outbox: disk I/O error\n";
    const [f, e] = await serviceCheck.run(ctx(sim, { exec: exec({ systemctl: ok(show(flapping)), journalctl: journal(errs) }) }));
    expect(f).toMatchObject({ status: "warn", values: { restarts: 4, lastExit: "exit code 1 (runtime failure)" } });
    expect(f!.title).toContain("4 restarts since it was started; last exit: exit code 1 (runtime failure)");
    expect(e).toMatchObject({
      status: "warn",
      label: "journal",
      title: "2 errors logged by roadside.service since boot; the latest:",
      values: { errors: 2 },
    });
    expect(e!.detail).toEqual(errs.trim().split("\n"));

    const failed = { ...running, ActiveState: "failed", SubState: "failed", Result: "exit-code", ExecMainCode: "1", ExecMainStatus: "2" };
    const [x] = await serviceCheck.run(ctx(sim, { exec: exec({ systemctl: ok(show(failed)), journalctl: journal("") }) }));
    expect(x).toMatchObject({
      status: "fail",
      title: "roadside.service failed (exit-code); 0 restarts since it was started; last exit: exit code 2 (bad usage or config)",
    });
    expect(x!.fix).toBe("journalctl -u roadside.service -b shows why; fix it, then sudo systemctl restart roadside.service");
  });

  it("degrades cleanly: no systemctl, systemd not running, unit not installed", async () => {
    expect(await serviceCheck.run(ctx(sim, {}))).toEqual([
      { status: "skip", label: "service", title: "not a systemd host (no systemctl): no service to check" },
    ]);
    const [down] = await serviceCheck.run(
      ctx(sim, {
        exec: exec({
          systemctl: { code: 1, stdout: "", stderr: "System has not been booted with systemd as init system (PID 1). Can't operate.\n" },
        }),
      }),
    );
    expect(down).toMatchObject({
      status: "skip",
      title:
        "systemd is not running here (System has not been booted with systemd as init system (PID 1). Can't operate.): no service to check",
    });
    const [none] = await serviceCheck.run(
      ctx(sim, { exec: exec({ systemctl: ok(show({ LoadState: "not-found", ActiveState: "inactive" })) }) }),
    );
    expect(none).toMatchObject({
      status: "skip",
      title: "roadside.service is not installed yet",
      fix: "after doctor passes: sudo roadside install",
    });
  });
});

describe("doctor: credential files and certificates", () => {
  const dir = mkdtempSync(join(tmpdir(), "roadside-doctor-files-"));
  const cert = (days: number, name: string): string => {
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        join(dir, `${name}.key`),
        "-out",
        join(dir, `${name}.crt`),
        "-days",
        String(days),
        "-subj",
        `/CN=${name}`,
      ],
      { stdio: "ignore" },
    );
    return join(dir, `${name}.crt`);
  };

  it("a certificate is ✓ well ahead of its end, ! within 30 days, ✗ once expired or before it is valid", () => {
    const [c] = parsePemCertificates(readFileSync(cert(400, "long"), "utf8"));
    const day = 86_400_000;
    expect(judgeCertificate("mqtt.tls.cert", "c.crt", c!, c!.notAfter - 100 * day).status).toBe("pass");
    const soon = judgeCertificate("mqtt.tls.cert", "c.crt", c!, c!.notAfter - 10 * day - 1000);
    expect(soon).toMatchObject({ status: "warn", values: { daysLeft: 10 } });
    expect(soon.title).toMatch(/^mqtt\.tls\.cert c\.crt \(CN=long\) expires in 10 days, on \d{4}-\d\d-\d\d$/);
    const gone = judgeCertificate("mqtt.tls.ca", "ca.crt", c!, c!.notAfter + day);
    expect(gone.status).toBe("fail");
    expect(gone.title).toMatch(/expired on/);
    expect(gone.fix).toMatch(/^get the broker's current CA certificate/);
    expect(judgeCertificate("mqtt.tls.cert", "c.crt", c!, c!.notBefore - day).status).toBe("fail");
  });

  it("a CA bundle is judged certificate by certificate, through the files check", async () => {
    const bundle = join(dir, "bundle.pem");
    writeFileSync(bundle, readFileSync(cert(400, "a"), "utf8") + readFileSync(cert(5, "b"), "utf8"));
    const results = await filesCheck.run(
      ctx(
        { ...sim, mqtt: { url: "mqtts://127.0.0.1:8883", tls: { ca: bundle } } },
        { now: () => Date.now() },
        { checkDelivery: () => [], uid: 1000 },
      ),
    );
    expect(results.map((r) => [r.label, r.status])).toEqual([
      ["files", "pass"],
      ["cert", "pass"],
      ["cert", "warn"],
    ]);
  });

  it("as root, every file is checked as the service user: a root-owned 0600 key fails", async () => {
    const who = { uid: 999, gids: [999, 997] };
    const st = (m: Record<string, { uid: number; gid: number; mode: number }>) => (p: string) => m[p] ?? { uid: 0, gid: 0, mode: 0o40755 };
    expect(accessAs("/etc/roadside/key.pem", who, "r", st({ "/etc/roadside/key.pem": { uid: 0, gid: 0, mode: 0o100600 } }))).toMatchObject({
      ok: false,
    });
    expect(accessAs("/etc/roadside/key.pem", who, "r", st({ "/etc/roadside/key.pem": { uid: 999, gid: 0, mode: 0o100600 } }))).toEqual({
      ok: true,
    });
    expect(
      accessAs("/etc/roadside/device.yaml", who, "r", st({ "/etc/roadside/device.yaml": { uid: 0, gid: 999, mode: 0o100640 } })),
    ).toEqual({ ok: true });
    expect(accessAs("/etc/roadside/device.yaml", who, "r", st({ "/etc/roadside": { uid: 0, gid: 0, mode: 0o40700 } }))).toMatchObject({
      ok: false,
      why: expect.stringMatching(/^cannot enter folder \/etc\/roadside/),
    });

    // the whole check, with a real file owned by root (this test's uid when it runs as root, else faked below)
    chmodSync(dir, 0o755);
    const pw = join(dir, "pw");
    writeFileSync(pw, "secret\n");
    chmodSync(pw, 0o600);
    mkdirSync(join(dir, "state"), { recursive: true });
    const ids = exec({ id: (args) => ok(args[0] === "-u" ? "54321\n" : "54321\n") });
    const results = await filesCheck.run(
      ctx(
        { ...sim, mqtt: { url: "mqtt://127.0.0.1:1", username: "u", passwordFile: pw } },
        { exec: ids },
        { checkDelivery: () => [], uid: 0, stateDir: join(dir, "state") },
        join(dir, "device.yaml"),
      ),
    );
    writeFileSync(join(dir, "device.yaml"), "");
    const asUser = results.find((r) => r.title.startsWith("the service user"))!;
    // the files belong to whoever runs the test, never to uid 54321, and the secret is 0600
    expect(asUser.status).toBe("fail");
    expect(asUser.detail!.some((d) => d.startsWith(`mqtt.passwordFile ${pw}: user roadside cannot read it`))).toBe(true);
    const noUser = await filesCheck.run(
      ctx(sim, { exec: exec({ id: { code: 1, stdout: "", stderr: "no such user" } }) }, { checkDelivery: () => [], uid: 0 }),
    );
    expect(noUser.at(-1)).toMatchObject({ status: "skip", title: "no user roadside on this machine: the files were checked as root only" });
  });

  it("run's own problems become ✗ lines with run's fix", async () => {
    const p =
      "mqtt.passwordFile: /x/pw is readable by group or others (mode 0644); it holds a secret: run `chmod 600 /x/pw` (and chown it to the user roadside runs as)";
    const [r] = await filesCheck.run(ctx(sim, {}, { checkDelivery: () => [p], uid: 1000 }));
    expect(r).toMatchObject({
      status: "fail",
      title: "mqtt.passwordFile: /x/pw is readable by group or others (mode 0644)",
      fix: "it holds a secret: run `chmod 600 /x/pw` (and chown it to the user roadside runs as) (roadside run refuses to start until then)",
    });
  });
});

describe("doctor: the broker", () => {
  it("connection refused is reported at once and leaves no timer behind (mqtt.js's connect timer is cleared)", async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((r) => server.close(() => r()));
    const timers = (): number => process.getActiveResourcesInfo().filter((x) => x === "Timeout").length;
    const before = timers();
    const [r] = await brokerCheck.run(ctx({ ...sim, mqtt: { url: `mqtt://127.0.0.1:${port}` } }, {}));
    expect(r).toMatchObject({ status: "fail", values: { connected: false, url: `mqtt://127.0.0.1:${port}` } });
    expect(r!.title).toContain("ECONNREFUSED");
    // before the fix the 10 s connect timer stayed armed and kept the process alive after the report;
    // a socket's own short-lived timers may still be winding down, so wait a little (far below 10 s)
    await vi.waitFor(() => expect(timers()).toBeLessThanOrEqual(before), { timeout: 3000, interval: 50 });
  });
});

describe("support bundle parts", () => {
  it("the journal since boot on a systemd host; a clear note elsewhere", async () => {
    const { journalSinceBoot } = await import("./support.js");
    const base = ctx(sim, {}).env;
    expect(await journalSinceBoot(base, "roadside.service", 10)).toEqual({
      unit: "roadside.service",
      unavailable: "not a systemd host (no journalctl)",
    });
    let asked: readonly string[] = [];
    const env = {
      ...base,
      exec: async (_c: string, args: readonly string[]) => {
        asked = args;
        return ok("a\nb\n");
      },
    };
    expect(await journalSinceBoot(env, "roadside.service", 10)).toMatchObject({ lines: ["a", "b"] });
    expect(asked).toEqual(["-u", "roadside.service", "-b", "--no-pager", "-q", "-o", "short-iso", "-n", "10"]);
    const denied = {
      ...base,
      exec: async () => ({ code: 1, stdout: "", stderr: "No journal files were opened due to insufficient permissions.\n" }),
    };
    expect(await journalSinceBoot(denied, "roadside.service", 10)).toEqual({
      unit: "roadside.service",
      unavailable: "No journal files were opened due to insufficient permissions.",
    });
  });
});
