import type { DeviceConfigInput } from "./schema.js";

/**
 * The site `roadside run` simulates when given no config: two lanes of presence-mode speed traps on
 * the simulated board, 10 s windows so summaries appear quickly, the embedded broker, and a state
 * folder of its own.
 */
export function demoConfig(): DeviceConfigInput {
  return {
    device: { id: "demo-0001", board: "sim", site: "Simulated two-lane road (roadside demo)" },
    inputs: {
      "lane1.up": { line: "GPIO17" },
      "lane1.down": { line: "GPIO27" },
      "lane2.up": { line: "GPIO22" },
      "lane2.down": { line: "GPIO23" },
    },
    detectors: {
      lane1: { mode: "presence", loops: ["lane1.up", "lane1.down"] },
      lane2: { mode: "presence", loops: ["lane2.up", "lane2.down"] },
    },
    windows: { default: "10s" },
    sim: {
      seed: 1,
      traffic: {
        lane1: { vehiclesPerHour: 900, speedKmh: 50 },
        lane2: { vehiclesPerHour: 600, speedKmh: 45 },
      },
    },
  };
}
