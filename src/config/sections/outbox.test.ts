import { describe, expect, it } from "vitest";
import { formatIssues, validateConfig } from "../load.js";
import { parseBytes } from "./outbox.js";

describe("delivery config sections", () => {
  it("parses sizes in bytes, SI and IEC units", () => {
    expect(parseBytes(1000)).toBe(1000);
    expect(parseBytes("64MiB")).toBe(64 * 1024 * 1024);
    expect(parseBytes("500 MB")).toBe(500_000_000);
    expect(parseBytes("1.5kb")).toBe(1500);
    expect(parseBytes("lots")).toBeUndefined();
    expect(parseBytes(-1)).toBeUndefined();
  });

  it("has defaults that need no config", () => {
    const r = validateConfig({ device: { id: "d1", board: "sim" } });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.loaded.config.outbox).toEqual({
      maxBytes: 64 * 1024 * 1024,
      minFreeDisk: 50_000_000,
      checkpointInterval: 60,
      onCorrupt: "recover",
    });
    expect(r.loaded.config.health).toEqual({ interval: 60, cpuTempFile: "/sys/class/thermal/thermal_zone0/temp" });
    expect(r.loaded.config.control).toEqual({ commands: true, maxCommandBytes: 65536, maxClockSkew: 600, applyTimeout: 60 });
    expect(r.loaded.config.mqtt).toMatchObject({ backoffMin: 2, backoffMax: 300, maxInFlight: 16 });
  });

  it("reports every delivery mistake as path: message", () => {
    const r = validateConfig({
      device: { id: "d1", board: "sim" },
      mqtt: { url: "mqtt://b:1883", tls: { cert: "c.pem" }, passwordFile: "pw", backoffMin: "10m", backoffMax: "1m" },
      outbox: { maxBytes: "1kB", expireAfter: "soon", checkpointInterval: "2s" },
      health: { interval: "2s" },
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const lines = formatIssues(r.issues).join("\n");
    expect(lines).toMatch(/outbox\.maxBytes: .*too small/);
    expect(lines).toMatch(/outbox\.expireAfter: "soon" is not a time to expiry/);
    expect(lines).toMatch(/outbox\.checkpointInterval: use 0 \(no checkpoints\) or at least 5s/);
    expect(lines).toMatch(/health\.interval: .*between 5s and 1d/);
    expect(lines).toMatch(/mqtt\.tls: TLS settings need an mqtts:\/\//);
    expect(lines).toMatch(/mqtt\.tls\.key: mutual TLS needs both cert and key/);
    expect(lines).toMatch(/mqtt\.username: a passwordFile needs a username/);
    expect(lines).toMatch(/mqtt\.backoffMax: .*below backoffMin/);
  });
});
