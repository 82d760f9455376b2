import { describe, expect, it } from "vitest";
import { formatIssues, validateConfig } from "./load.js";

const base = { device: { id: "p1", board: "sim" } };
function errors(extra: Record<string, unknown>): string[] {
  const r = validateConfig({ ...base, ...extra });
  return r.ok ? [] : formatIssues(r.issues);
}

describe("identifiers config", () => {
  it("documents privacy-preserving defaults", () => {
    const r = validateConfig({
      ...base,
      identifiers: { scanners: { ped1: { port: { path: "sim0" } } }, readers: { bin7: { port: { path: "/dev/ttyUSB0" } } } },
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const ids = r.loaded.config.identifiers;
    expect({
      window: ids.window,
      maxKeyLifetime: ids.maxKeyLifetime,
      k: ids.k,
      noise: ids.noise,
      exactLimit: ids.exactLimit,
      hllPrecision: ids.hllPrecision,
    }).toEqual({
      window: 900,
      maxKeyLifetime: 900,
      k: 5,
      noise: { mechanism: "none", epsilon: 1, sensitivity: 1 },
      exactLimit: 10_000,
      hllPrecision: 14,
    });
    expect(ids.scanners["ped1"]!.port.baudRate).toBe(115200);
    expect(ids.readers["bin7"]!.port.baudRate).toBe(9600);
    expect(ids.readers["bin7"]!.repeat).toBe(2);
    // a config without the section gets it empty
    const plain = validateConfig(base);
    expect(plain.ok && plain.loaded.config.identifiers.scanners).toEqual({});
  });

  it("rejects a window longer than the key lifetime, naming both and the fix", () => {
    expect(errors({ identifiers: { window: "30m" } })).toEqual([
      "identifiers.window: window 30m is longer than maxKeyLifetime 15m: each window's key would outlive its maximum; shorten the window or raise maxKeyLifetime (at most 1h)",
    ]);
    expect(errors({ identifiers: { window: "30m", maxKeyLifetime: "30m" } })).toEqual([]);
    expect(errors({ identifiers: { maxKeyLifetime: "10m", scanners: { ped1: { port: { path: "sim0" }, window: "15m" } } } })).toEqual([
      "identifiers.window: window 15m is longer than maxKeyLifetime 10m: each window's key would outlive its maximum; shorten the window or raise maxKeyLifetime (at most 1h)",
      "identifiers.scanners.ped1.window: window 15m is longer than identifiers.maxKeyLifetime 10m; shorten it or raise maxKeyLifetime (at most 1h)",
    ]);
  });

  it("caps the key lifetime at 1 h and k at ≥ 2; epsilon must be positive", () => {
    expect(errors({ identifiers: { maxKeyLifetime: "2h" } })).toEqual([
      "identifiers.maxKeyLifetime: maxKeyLifetime can be at most 1h (3600s)",
    ]);
    expect(errors({ identifiers: { k: 1 } })).toEqual(["identifiers.k: k must be at least 2: a count of 1 singles out one person"]);
    expect(errors({ identifiers: { noise: { mechanism: "laplace", epsilon: 0 } } })[0]).toMatch(
      /^identifiers\.noise\.epsilon: epsilon must be > 0/,
    );
    expect(errors({ identifiers: { hllPrecision: 20 } })[0]).toMatch(/^identifiers\.hllPrecision: /);
  });

  it("checks names, ports and duplicates", () => {
    expect(
      errors({
        identifiers: {
          scanners: { "ped 1": { port: { path: "sim0" } }, bin7: { port: { path: "sim9" } } },
          readers: { bin7: { port: { path: "sim0" } } },
        },
      }),
    ).toEqual([
      'identifiers.scanners["ped 1"]: name "ped 1" appears in topics (…/presence/ped 1) and must use letters, digits, _ and - only; e.g. "ped-1"',
      'identifiers.scanners.bin7.port.path: no serial port "sim9" on board sim; did you mean sim0? use one of sim0, sim1, sim2, sim3, sim4, sim5, sim6, sim7 or a device path such as /dev/ttyUSB0',
      'identifiers.readers.bin7: "bin7" is also the name of a scanner; both would publish on …/presence/bin7: rename one',
      "identifiers.readers.bin7.port.path: serial port sim0 is already used by ped 1; each sensor needs its own port",
    ]);
  });

  it("simulates only configured sensors", () => {
    expect(
      errors({
        identifiers: { scanners: { ped1: { port: { path: "sim0" } } } },
        sim: { identifiers: { scanners: { pde1: {} }, readers: { bin9: {} } } },
      }),
    ).toEqual([
      'sim.identifiers.scanners.pde1: no scanner named "pde1" under identifiers.scanners to simulate; did you mean ped1?',
      'sim.identifiers.readers.bin9: no reader named "bin9" under identifiers.readers to simulate; known: none',
    ]);
  });
});

describe("identifier ports are told apart by the device they resolve to (issue 14)", () => {
  it("a manhole sensor and a probe scanner on one serial path are a validation error", () => {
    const manholes = { mh1: { sensor: { type: "maxbotix", port: { path: "sim0" } }, mountHeightMm: 2400, overflowHeightMm: 1500 } };
    expect(errors({ manholes, identifiers: { scanners: { ped1: { port: { path: "sim0" } } } } })).toEqual([
      "identifiers.scanners.ped1.port.path: serial port sim0 is already used by manholes.mh1 (the same device under another name or the same path); each sensor needs its own port, and an identifier sensor's bytes must reach no other parser and no trace",
    ]);
  });

  it("Raspberry Pi header UART aliases (serial0, /dev/serial0, /dev/ttyAMA0) are one device", () => {
    const r = validateConfig({
      device: { id: "p1", board: "raspberry-pi-4" },
      manholes: { mh1: { sensor: { type: "maxbotix", port: { path: "serial0" } }, mountHeightMm: 2400, overflowHeightMm: 1500 } },
      identifiers: { readers: { r1: { port: { path: "/dev/ttyAMA0" } } } },
    });
    expect(r.ok).toBe(false);
    expect(r.ok ? [] : formatIssues(r.issues).join("\n")).toMatch(
      /identifiers\.readers\.r1\.port\.path: serial port \/dev\/ttyAMA0 is already used by manholes\.mh1/,
    );
  });

  it("a symlink to another sensor's port is the same device", async () => {
    const { mkdtempSync, writeFileSync, symlinkSync, rmSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const dir = mkdtempSync(join(tmpdir(), "roadside-port-"));
    try {
      const tty = join(dir, "ttyUSB0");
      writeFileSync(tty, "");
      symlinkSync(tty, join(dir, "by-id-scanner"));
      const manholes = { mh1: { sensor: { type: "maxbotix", port: { path: tty } }, mountHeightMm: 2400, overflowHeightMm: 1500 } };
      const e = errors({ manholes, identifiers: { scanners: { ped1: { port: { path: join(dir, "by-id-scanner") } } } } });
      expect(e.length).toBe(1);
      expect(e[0]).toMatch(/already used by manholes\.mh1 \(the same device/);
      expect(errors({ manholes, identifiers: { scanners: { ped1: { port: { path: join(dir, "other") } } } } })).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
