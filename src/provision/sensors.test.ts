import { describe, expect, it } from "vitest";
import { validateConfig } from "../config/load.js";
import type { ProvisionAnswers } from "./build.js";
import { buildConfig } from "./build.js";
import type { SensorKind } from "./sensors.js";
import { parseAdc, parseSensorSpec } from "./sensors.js";

function answers(board: string, specs: [SensorKind, string][], extra: Partial<ProvisionAnswers> = {}): ProvisionAnswers {
  const sensors = specs.map(([kind, spec]) => {
    const a = parseSensorSpec(kind, spec);
    if (typeof a === "string") throw new Error(a);
    return { kind, answer: a };
  });
  return { id: "pole-1", board, inputs: [], lanes: [], sensors, sets: [], ...extra };
}

describe("provision sensors (--manhole, --bin, --probe, --rfid)", () => {
  it("reads NAME=PORT,key=value like --lane, and names the keys a kind takes", () => {
    expect(parseSensorSpec("manhole", "mh1=/dev/ttyUSB0,mount=2400,overflow=1.5m")).toEqual({
      name: "mh1",
      port: "/dev/ttyUSB0",
      options: { mount: "2400", overflow: "1.5m" },
    });
    expect(parseSensorSpec("manhole", "mh1")).toMatch(/--manhole "mh1": write NAME=PORT\[,key=value…\], e.g. --manhole mh1=/);
    expect(parseSensorSpec("manhole", "mh1=/dev/ttyUSB0,height=3")).toBe(
      '--manhole mh1: unknown key "height"; use mount, overflow, model, cover, span, offset, window',
    );
    expect(parseSensorSpec("rfid", "r1=mount=3")).toMatch(/the port comes first/);
    expect(parseAdc("adc:2")).toEqual({ channel: 2 });
    expect(parseAdc("adc:1@0x49")).toEqual({ channel: 1, address: 0x49 });
    expect(parseAdc("adc:4")).toBeUndefined();
  });

  it("every kind on a Raspberry Pi makes a config validate accepts", () => {
    const { config, errors } = buildConfig(
      answers(
        "raspberry-pi-4",
        [
          ["manhole", "mh1=/dev/ttyUSB0,mount=2400,overflow=1500,cover=GPIO17,model=hrxl-10m"],
          ["bin", "bin1=serial0,empty=1100,full=350,lid=GPIO23,tilt=pin:15,every=5m"],
          ["probe", "stop1=/dev/ttyUSB1,min-rssi=-80"],
          ["rfid", "reader1=/dev/ttyUSB2,repeat=3s"],
        ],
        {
          username: "pole-1",
          passwordFile: "/etc/roadside/secrets/pw",
          broker: "mqtts://b.example:8883",
          controlKey: "/etc/roadside/cmd.pub",
        },
      ),
    );
    expect(errors).toEqual([]);
    expect(config).toMatchObject({
      inputs: {
        "mh1.cover": { line: "GPIO17", activeLow: false },
        "bin1.lid": { line: "GPIO23", activeLow: false },
        "bin1.tilt": { pin: 15, activeLow: false },
      },
      manholes: {
        mh1: {
          sensor: { type: "maxbotix", model: "hrxl-10m", port: { path: "/dev/ttyUSB0" } },
          mountHeightMm: 2400,
          overflowHeightMm: 1500,
          cover: { input: "mh1.cover" },
        },
      },
      bins: {
        bin1: {
          distance: { type: "maxbotix", port: { path: "serial0" } },
          emptyDistanceMm: 1100,
          fullDistanceMm: 350,
          measureEvery: "5m",
          lid: { input: "bin1.lid" },
          tilt: { input: "bin1.tilt" },
        },
      },
      identifiers: {
        scanners: { stop1: { port: { path: "/dev/ttyUSB1" }, minRssi: -80 } },
        readers: { reader1: { port: { path: "/dev/ttyUSB2" }, repeat: "3s" } },
      },
      mqtt: { username: "pole-1", passwordFile: "/etc/roadside/secrets/pw" },
      control: { publicKeyFile: "/etc/roadside/cmd.pub" },
    });
    const r = validateConfig(config);
    expect(r.ok ? [] : r.issues).toEqual([]);
  });

  it("a 4–20 mA manhole and a bin's fire sensor on ADS1115 inputs; a simulated board simulates every sensor", () => {
    const { config, errors } = buildConfig(
      answers("sim", [
        ["manhole", "mh2=adc:0,span=3000,offset=100,overflow=1500"],
        ["bin", "b1=sim1,empty=1000,full=300,temp=adc:1@0x49"],
        ["probe", "p1=sim2"],
        ["rfid", "r1=sim3"],
      ]),
    );
    expect(errors).toEqual([]);
    expect(config["manholes"]).toEqual({
      mh2: { sensor: { type: "current-loop", adc: { channel: 0 }, spanMm: 3000, offsetMm: 100 }, overflowHeightMm: 1500 },
    });
    expect((config["bins"] as Record<string, { temperature: unknown }>)["b1"]!.temperature).toEqual({ adc: { channel: 1, address: 0x49 } });
    expect(config["sim"]).toEqual({
      seed: 1,
      sewer: { mh2: {} },
      bins: { b1: {} },
      identifiers: { scanners: { p1: {} }, readers: { r1: {} } },
    });
    const r = validateConfig(config);
    expect(r.ok ? [] : r.issues).toEqual([]);
  });

  it("says what is missing or wrong, per sensor, with an example", () => {
    const { errors } = buildConfig(
      answers("raspberry-pi-4", [
        ["manhole", "mh1=/dev/ttyUSB0"],
        ["bin", "b1=/dev/ttyUSB1,empty=1m,full=lots"],
        ["manhole", "mh3=adc:0,overflow=1500"],
        ["rfid", "r1=/dev/ttyUSB2,baud=fast"],
        ["manhole", "mh1=/dev/ttyUSB3,mount=2000,overflow=900,cover=nowhere"],
      ]),
    );
    expect(errors).toEqual([
      "--manhole mh1: give mount=MM, the height of the sensor's face above the channel invert, e.g. --manhole mh1=/dev/ttyUSB0,mount=2400,overflow=1500,cover=GPIO17",
      "--manhole mh1: give overflow=MM, the height of the weir crest above the invert, e.g. --manhole mh1=/dev/ttyUSB0,mount=2400,overflow=1500,cover=GPIO17",
      "--bin b1: full=lots is not a length; write millimetres, e.g. full=2400 (or 2.4m, 240cm)",
      "--manhole mh3: a 4–20 mA transducer needs span=MM (depth at 20 mA), e.g. --manhole mh3=adc:0,span=3000,overflow=1500",
      "--rfid r1: baud=fast is not a whole number",
      "--manhole mh1: given twice; name each manhole level sensor once",
      "--manhole mh1: cover=nowhere is neither an input (--input NAME=LINE) nor a line (GPIO17, 17 or pin:11)",
    ]);
  });

  it("a port used twice and a line used twice are caught by validation, naming both users", () => {
    const { config } = buildConfig(
      answers("raspberry-pi-4", [
        ["manhole", "mh1=/dev/ttyUSB0,mount=2400,overflow=1500,cover=GPIO17"],
        ["bin", "b1=/dev/ttyUSB0,empty=1000,full=400,lid=GPIO17"],
      ]),
    );
    const r = validateConfig(config);
    expect(r.ok).toBe(false);
    const messages = r.ok ? [] : r.issues.map((i) => i.message).join("\n");
    expect(messages).toMatch(/serial port \/dev\/ttyUSB0 is already used by manholes.mh1/);
    expect(messages).toMatch(/GPIO17 is already used by input "mh1.cover"/);
  });
});
