import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Mosquitto } from "../helpers/brokers.js";
import { freePort, hasMosquitto, MOSQUITTO_MISSING, startMosquitto, subscribe } from "../helpers/brokers.js";
import { runCli } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "roadside-doctor-"));

interface Result {
  check: string;
  status: string;
  title: string;
  detail?: string[];
  fix?: string;
  values?: Record<string, unknown>;
}
const parseJsonLines = (text: string): Result[] =>
  text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Result);

describe.skipIf(!hasMosquitto())(
  `provision → validate → doctor on the simulated board${hasMosquitto() ? "" : `: skipped, ${MOSQUITTO_MISSING}`}`,
  () => {
    let broker: Mosquitto;
    beforeAll(async () => {
      broker = await startMosquitto();
    });
    afterAll(async () => {
      await broker?.stop();
    });

    it("a freshly provisioned simulated device passes every check; the wiring check counts each input's edges", async () => {
      const file = join(dir, "site.yaml");
      const p = await runCli([
        "provision",
        "--id",
        "doc-1",
        "--board",
        "sim",
        "--lane",
        "lane1=GPIO17,GPIO27",
        "--lane",
        "lane2=pin:15",
        "--broker",
        broker.url,
        "--set",
        "sim.seed=3",
        "-o",
        file,
      ]);
      expect(p.code, p.stderr).toBe(0);
      expect((await runCli(["validate", file])).code).toBe(0);

      const sub = await subscribe(broker.url, "roadside/doc-1/doctor");
      // the clock check depends on the machine (systemd, NTP): it is tested with a faked machine in src/doctor
      const d = await runCli([
        "doctor",
        "--config",
        file,
        "--seconds",
        "60",
        "--state-dir",
        join(dir, "state"),
        "--skip",
        "clock",
        "--json",
      ]);
      expect(d.code, d.stdout + d.stderr).toBe(0);
      const results = parseJsonLines(d.stdout);
      const summary = results.pop()!;
      expect(summary).toMatchObject({ check: "summary", status: "pass", values: { failed: 0, warnings: 0, exitCode: 0 } });
      // files: a second line (skipped) when doctor runs as root where no service user exists; service: skipped off systemd
      expect([...new Set(results.map((r) => r.check))]).toEqual([
        "config",
        "board",
        "gpio",
        "input",
        "trap",
        "disk",
        "outbox",
        "files",
        "broker",
        "service",
      ]);
      expect(
        results.every((r) => r.status === "pass" || r.status === "skip"),
        d.stdout,
      ).toBe(true);
      expect(
        results.filter((r) => r.status === "skip").every((r) => r.check === "service" || r.check === "files"),
        d.stdout,
      ).toBe(true);
      // 600 veh/h per lane for 60 simulated seconds: a handful of vehicles, 2 edges each
      for (const [name, where] of [
        ["lane1.up", "GPIO17, pin 11"],
        ["lane1.down", "GPIO27, pin 13"],
        ["lane2.up", "GPIO22, pin 15"],
      ] as const) {
        const r = results.find((x) => x.title.startsWith(`${name} (`))!;
        const m = new RegExp(
          `^${name.replace(".", "\\.")} \\(${where}\\): (\\d+) edges in 60 s \\(simulated\\), last \\d+\\.\\d s ago; (idle|active) now$`,
        ).exec(r.title);
        expect(m, r.title).not.toBeNull();
        const edges = Number(m![1]);
        expect(edges).toBeGreaterThanOrEqual(2);
        expect(edges).toBeLessThan(60);
      }
      // the speed trap's two loops see the same vehicles: their counts differ by at most the one in transit
      const edgesOf = (n: string): number => Number(/: (\d+) edges/.exec(results.find((x) => x.title.startsWith(`${n} (`))!.title)![1]);
      expect(Math.abs(edgesOf("lane1.up") - edgesOf("lane1.down"))).toBeLessThanOrEqual(2);
      // …and doctor says so, with the counts as numbers
      const trap = results.find((r) => r.check === "trap")!;
      expect(trap.status).toBe("pass");
      expect(trap.values).toMatchObject({ detector: "lane1", upstream: "lane1.up", downstream: "lane1.down", seconds: 60 });
      expect(trap.values!["upstreamVehicles"]).toBe(results.find((x) => x.title.startsWith("lane1.up ("))!.values!["activations"]);
      const b = results.find((r) => r.check === "broker")!;
      expect(b.title).toMatch(
        new RegExp(
          `^${broker.url.replace(/\./g, "\\.")}: connected \\(MQTT 5, \\d+ ms\\); test publish to roadside/doc-1/doctor acknowledged in \\d+ ms$`,
        ),
      );
      await sub.waitFor((m) => m.length > 0);
      expect(JSON.parse(sub.messages[0]!.payload.toString())).toMatchObject({ doctor: 1, device: "doc-1" });
      await sub.close();
    });

    it("names what is wrong and how to fix it: a stuck input, an unreachable broker (exit 1); a bad config (exit 2)", async () => {
      const port = await freePort(); // nothing listens there
      const file = join(dir, "broken.yaml");
      // no simulated card drives b or c: their pulled-up lines read high. For c (active low, the
      // default) that is idle, as with a broken wire; b is set active-high, so it reads as a vehicle that
      // never leaves: a stuck card or the wrong polarity
      writeFileSync(
        file,
        `device: { id: doc-2, board: sim }
inputs: { a: { line: GPIO17 }, b: { line: GPIO22, activeLow: false }, c: { line: GPIO23 } }
detectors: { lane1: { loops: [a] }, lane2: { loops: [b] }, lane3: { loops: [c] } }
mqtt: { url: "mqtt://127.0.0.1:${port}" }
sim: { seed: 1, traffic: { lane1: { vehiclesPerHour: 900 } } }
`,
      );
      const d = await runCli(["doctor", "-c", file, "--seconds", "30", "--state-dir", join(dir, "state2"), "--skip", "clock"]);
      expect(d.code, d.stdout).toBe(1);
      expect(d.stdout).toMatch(/✓ input {3}a \(GPIO17, pin 11\): \d+ edges in 30 s \(simulated\)/);
      expect(d.stdout).toContain("✗ input   b (GPIO22, pin 15): held active for all 30 s (simulated), no edges");
      expect(d.stdout).toMatch(
        /fix: no vehicle stays on a loop that long: a fail-safe card calls on a broken loop or feeder .* or the wrong polarity \(an active-high card or switch needs inputs\.b\.activeLow: false\)/,
      );
      expect(d.stdout).toContain("! input   c (GPIO23, pin 16): no edges in 30 s (simulated); idle now");
      expect(d.stdout).toMatch(/fix: let a vehicle pass \(or press the card's test button\)/);
      expect(d.stdout).toContain(`✗ broker  cannot connect to mqtt://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`);
      expect(d.stdout).toContain(
        `fix: nothing listens at mqtt://127.0.0.1:${port}: check the host and port, that the broker runs, and the firewall`,
      );
      expect(d.stdout).toMatch(/7 passed, 1 warning, 2 failed(, \d skipped)?\n$/);

      const bad = join(dir, "bad.yaml");
      writeFileSync(bad, "device: { id: 'x y', board: sim }\ninputs: { a: { line: 99 } }\n");
      const c = await runCli(["doctor", "-c", bad]);
      expect(c.code).toBe(2);
      expect(c.stdout).toContain(`✗ config  ${bad} has 2 problems`);
      expect(c.stdout).toContain('device.id: "x y" is not safe in MQTT topics');
      expect(c.stdout).toContain("inputs.a.line: 99 is not a usable GPIO line of sim");
      const u = await runCli(["doctor", "--seconds", "soon"]);
      expect(u.code).toBe(2);
    });
  },
);
