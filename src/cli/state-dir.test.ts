import { afterEach, describe, expect, it } from "vitest";
import { validateConfig } from "../config/load.js";
import { SERVICE_STATE_DIR, stateDir } from "./run.js";

const loaded = (() => {
  const r = validateConfig({
    device: { id: "pole-7", board: "sim" },
    inputs: { a: { line: "GPIO17" } },
    detectors: { lane1: { loops: ["a"] } },
  });
  if (!r.ok) throw new Error("config");
  return r.loaded;
})();

describe("the state folder", () => {
  const saved = { HOME: process.env["HOME"], STATE_DIRECTORY: process.env["STATE_DIRECTORY"] };
  afterEach(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it("is systemd's StateDirectory under the service", () => {
    process.env["STATE_DIRECTORY"] = "/var/lib/roadside";
    expect(stateDir(loaded, undefined)).toBe("/var/lib/roadside");
    expect(stateDir(loaded, "/x")).toBe("/x");
  });

  it("is the service's own folder for the service user outside systemd (sudo -u roadside roadside doctor), not a second outbox", () => {
    delete process.env["STATE_DIRECTORY"];
    process.env["HOME"] = SERVICE_STATE_DIR;
    expect(stateDir(loaded, undefined)).toBe(SERVICE_STATE_DIR);
  });

  it("is a per-device folder in any other user's home", () => {
    delete process.env["STATE_DIRECTORY"];
    process.env["HOME"] = "/home/tech";
    expect(stateDir(loaded, undefined)).toBe("/home/tech/.local/state/roadside/pole-7");
  });
});
