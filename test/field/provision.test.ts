import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadConfigFile } from "../../src/config/load.js";
import { ROADSIDE, runCli } from "../helpers/cli.js";
import { hasScript, startInPty } from "../helpers/terminal.js";

const dir = mkdtempSync(join(tmpdir(), "roadside-provision-"));

/** Run `roadside provision` with `answers` piped to its stdin. */
function provisionPiped(args: string[], answers: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [ROADSIDE, "provision", ...args], { stdio: ["pipe", "pipe", "pipe"], cwd: dir });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(answers.map((a) => `${a}\n`).join(""));
  return new Promise((resolve) => child.on("exit", (code) => resolve({ code, stdout, stderr })));
}

describe("roadside provision", () => {
  it("writes a config from flags that validate accepts, with the inputs on the lines given", async () => {
    const file = join(dir, "flags.yaml");
    const r = await runCli([
      "provision",
      "--id",
      "pole-0042",
      "--board",
      "raspberry-pi-5",
      "--site",
      "A38 northbound, km 12.4",
      "--lane",
      "lane1=GPIO17,pin:13",
      "--lane",
      "lane2=22",
      "--pulse",
      "lane2",
      "--window",
      "5m",
      "--broker",
      "mqtts://broker.city.example:8883",
      "--set",
      "inputs.lane1.up.glitchMs=20",
      "--output",
      file,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      `wrote ${file}: device pole-0042 on Raspberry Pi 5; lanes lane1 (GPIO17/GPIO27, speed trap), lane2 (GPIO22); broker mqtts://broker.city.example:8883`,
    );
    expect(r.stdout).toContain(`next: roadside doctor --config ${file}`);
    const v = await runCli(["validate", file]);
    expect(v.code, v.stderr).toBe(0);
    const loaded = loadConfigFile(file);
    if (!loaded.ok) throw new Error("not ok");
    const c = loaded.loaded.config;
    expect(c.device).toEqual({ id: "pole-0042", board: "raspberry-pi-5", site: "A38 northbound, km 12.4" });
    expect(loaded.loaded.lines.get("lane1.down")?.pin).toBe(13);
    expect(c.inputs["lane1.up"]?.glitchMs).toBe(20);
    expect(c.detectors["lane2"]).toMatchObject({ loops: ["lane2.up"], mode: "pulse" });
    expect(c.windows.default).toBe(300);
    expect(c.mqtt.url).toBe("mqtts://broker.city.example:8883");
    expect(readFileSync(file, "utf8")).toMatch(/^# roadside device config: pole-0042 on Raspberry Pi 5\n/);
  });

  it("refuses to overwrite without --force; --force keeps the old file as .bak", async () => {
    const file = join(dir, "exists.yaml");
    writeFileSync(file, "old: true\n");
    const args = ["provision", "--id", "d1", "--board", "sim", "--lane", "l1=GPIO17", "-o", file];
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file} exists; nothing written. Pass --force to replace it`);
    expect(readFileSync(file, "utf8")).toBe("old: true\n");
    const f = await runCli([...args, "--force"]);
    expect(f.code, f.stderr).toBe(0);
    expect(readFileSync(`${file}.bak`, "utf8")).toBe("old: true\n");
    expect(parse(readFileSync(file, "utf8"))).toMatchObject({ device: { id: "d1" }, sim: { traffic: { l1: { vehiclesPerHour: 600 } } } });
  });

  it("prints every problem as path: message, exits 2 and writes nothing", async () => {
    const file = join(dir, "bad.yaml");
    const r = await runCli([
      "provision",
      "--id",
      "p 1",
      "--board",
      "raspberry-pi-4",
      "--lane",
      "l1=GPIO17,GPIO99",
      "--window",
      "7s",
      "-o",
      file,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n").filter(Boolean)).toEqual([
      "the config for p 1 has 3 problems; nothing written:",
      'device.id: "p 1" is not safe in MQTT topics; use letters, digits, _ and - only (max 64), e.g. "p-1"',
      'inputs["l1.down"].line: "GPIO99" is not a usable GPIO line of raspberry-pi-4; use one of GPIO2…GPIO27 (see boards/raspberry-pi-4.json)',
      "windows.default: window 7s does not divide an hour into whole windows; use 10s, 20s, 30s, 1m, 5m, 15m or 1h",
    ]);
    expect(existsSync(file)).toBe(false);
    const u = await runCli(["provision", "--board", "sim"]);
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/give the device id with --id/);
    const t = await runCli(["provision", "--id", "x", "--board", "sim", "--lane", "bad"]);
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(/--lane "bad": write NAME=LOOP\[,LOOP\]/);
  });

  it("asks on piped input, asks again after a bad answer, and writes what was answered", async () => {
    const r = await provisionPiped(
      ["--interactive"],
      [
        "bad id", // asked again
        "pole-7",
        "sim", // by name (numbers shift as boards are added)
        "Corner of 5th",
        "2",
        "north",
        "y",
        "GPIO17",
        "GPIO99", // not on the board: asked again
        "GPIO27",
        "south",
        "n",
        "pin:15",
        "pulse",
        "", // manholes: none
        "", // bins
        "", // probe scanners
        "", // RFID readers
        "30s",
        "mqtt://127.0.0.1:1883",
        "", // broker user name: none
        "", // control key: none
        "asked.yaml",
      ],
    );
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toContain('"bad id" cannot be used in MQTT topics');
    expect(r.stdout).toContain("GPIO99 is not a usable GPIO of sim");
    const loaded = loadConfigFile(join(dir, "asked.yaml"));
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
    const c = loaded.loaded.config;
    expect(c.device).toEqual({ id: "pole-7", board: "sim", site: "Corner of 5th" });
    expect(c.detectors).toMatchObject({
      north: { type: "loop", mode: "presence", loops: ["north.up", "north.down"] },
      south: { type: "loop", mode: "pulse", loops: ["south.up"] },
    });
    expect(c.inputs["north.down"]).toMatchObject({ line: "GPIO27" });
    expect(c.inputs["south.up"]).toMatchObject({ pin: 15 });
    expect(c.windows.default).toBe(30);
    expect(c.mqtt.url).toBe("mqtt://127.0.0.1:1883");
  });

  it("asks for sensors and credentials, and asks again for a line or port used twice and a file that is not there", async () => {
    writeFileSync(join(dir, "pw.txt"), "hunter2\n");
    writeFileSync(join(dir, "ca.pem"), "-----BEGIN CERTIFICATE-----\n");
    const r = await provisionPiped(
      ["--interactive"],
      [
        "pole-8",
        "raspberry-pi-4",
        "",
        "1", // lanes
        "l1",
        "n",
        "GPIO17",
        "presence",
        "1", // manholes
        "mh1",
        "/dev/ttyUSB0",
        "", // model: hrxl
        "2400",
        "1500",
        "GPIO17", // the lane's line: asked again
        "GPIO22",
        "1", // bins
        "bin1",
        "/dev/ttyUSB0", // the manhole's port: asked again
        "/dev/ttyUSB1",
        "1100",
        "", // full: needed, asked again
        "350",
        "", // no lid switch
        "", // no tilt switch
        "0", // probe scanners
        "1", // RFID readers
        "reader1",
        "/dev/ttyUSB2",
        "1m",
        "mqtts://broker.city.example:8883",
        "pole-8",
        "missing.pw", // asked again
        "pw.txt",
        "nope.pem", // asked again
        "ca.pem",
        "", // no client certificate
        "", // no control key
        "sensors.yaml",
      ],
    );
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toContain("GPIO17 is already wired to lane l1; each line feeds one input");
    expect(r.stdout).toContain("/dev/ttyUSB0 is already used by manhole level sensor mh1; each sensor needs its own port");
    expect(r.stdout).toContain("needed; a length in millimetres");
    expect(r.stdout).toContain(`no file ${join(dir, "missing.pw")}; check the path`);
    expect(r.stdout).toContain(`no file ${join(dir, "nope.pem")}; check the path`);
    const loaded = loadConfigFile(join(dir, "sensors.yaml"));
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
    const c = loaded.loaded.config;
    expect(c.manholes["mh1"]).toMatchObject({
      sensor: { type: "maxbotix", port: { path: "/dev/ttyUSB0" } },
      mountHeightMm: 2400,
      overflowHeightMm: 1500,
      cover: { input: "mh1.cover" },
    });
    expect(c.inputs["mh1.cover"]).toMatchObject({ line: "GPIO22", activeLow: false });
    expect(c.bins["bin1"]).toMatchObject({ distance: { port: { path: "/dev/ttyUSB1" } }, emptyDistanceMm: 1100, fullDistanceMm: 350 });
    expect(c.identifiers.readers["reader1"]).toMatchObject({ port: { path: "/dev/ttyUSB2" } });
    expect(c.mqtt).toMatchObject({ username: "pole-8", passwordFile: join(dir, "secrets", "pw.txt"), tls: { ca: join(dir, "ca.pem") } });
    expect(readFileSync(join(dir, "secrets", "pw.txt"), "utf8")).toBe("hunter2\n");
  });

  it("takes the defaults when input ends, flags giving them", async () => {
    const r = await provisionPiped(["-i", "--id", "quiet-1", "--board", "sim", "--lane", "main=GPIO5", "-o", "defaults.yaml"], []);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const loaded = loadConfigFile(join(dir, "defaults.yaml"));
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
    expect(loaded.loaded.config.device.id).toBe("quiet-1");
    expect(loaded.loaded.config.detectors["main"]?.loops).toEqual(["main.up"]);
    expect(loaded.loaded.lines.get("main.up")?.name).toBe("GPIO5");
  });

  it.skipIf(!hasScript())("asks on a terminal without being told to", async () => {
    const file = join(dir, "pty.yaml");
    const run = startInPty(`${process.execPath} ${ROADSIDE} provision`, { columns: 100, rows: 30 });
    const answers = ["pole-9", "sim", "", "1", "lane1", "n", "GPIO17", "presence", "", "", "", "", "1m", "", file];
    // answer each question once it is on screen (the output ends with a prompt's ": "), as a person would
    let asked = 0;
    let answeredAt = 0;
    const deadline = Date.now() + 20_000;
    while (asked < answers.length) {
      const out = run.output();
      if (out.length > answeredAt && out.endsWith(": ")) {
        answeredAt = out.length;
        run.child.stdin!.write(`${answers[asked]}\r`);
        asked++;
      }
      if (Date.now() > deadline) throw new Error(`stuck after ${asked} answers:\n${out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await run.exited).toBe(0);
    expect(run.output()).toContain("Board (number or name) [sim]");
    const loaded = loadConfigFile(file);
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
    expect(loaded.loaded.config.device.id).toBe("pole-9");
    expect(loaded.loaded.config.detectors["lane1"]?.loops).toEqual(["lane1.up"]);
  });
});
