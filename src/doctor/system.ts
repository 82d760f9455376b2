import { SENSOR_PROBES } from "./probes.js";
import type { SerialProbe } from "./serial-probe.js";
import type { LiveReport } from "./live.js";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import Database from "better-sqlite3";
import type { Board } from "../config/boards.js";
import type { CheckResult, DoctorCheck } from "./check.js";
import { bytes } from "./check.js";
import { matchBoard, parseCompatible, DEVICE_TREE_COMPATIBLE, DEVICE_TREE_MODEL } from "./board.js";

/** Board model: the device tree's `compatible` against the board file's (a Pi 4 config on a Pi 5 has the wrong chip label). */
export const boardCheck: DoctorCheck = {
  id: "board",
  needsConfig: true,
  async run(ctx) {
    const board = ctx.loaded!.board;
    if (board.io === "sim") return [{ status: "pass", label: "board", title: "simulated board: no hardware to match" }];
    let compatible: string[];
    try {
      compatible = parseCompatible(ctx.env.readFile(DEVICE_TREE_COMPATIBLE));
    } catch {
      return [
        {
          status: "warn",
          label: "board",
          title: `cannot confirm this is a ${board.name}: no ${DEVICE_TREE_COMPATIBLE} (not a device-tree board such as a Raspberry Pi)`,
          fix: `run doctor on the device itself; on a PC use board: sim`,
        },
      ];
    }
    let model = "";
    try {
      model = ctx.env.readFile(DEVICE_TREE_MODEL).replace(/\0/g, "").trim();
    } catch {
      /* the model file is optional */
    }
    const found = compatible.find((c) => board.compatible.includes(c));
    const what = model || compatible[0] || "unknown";
    if (found) return [{ status: "pass", label: "board", title: `${what} matches ${board.id} (${found})` }];
    const actual = matchBoard({ compatible, model }, ctx.boards as Map<string, Board>);
    return [
      {
        status: "fail",
        label: "board",
        title: `this machine is ${what} (${compatible[0] ?? "?"}); the config says ${board.id}`,
        fix: actual
          ? `set device.board: ${actual.id} in ${ctx.configPath}`
          : `no board file matches ${compatible.join(", ")}; add one to boards/ (see docs/board.schema.json)`,
      },
    ];
  },
};

/** The GPIO chip, found by label as the runtime finds it (gpiodetect), and its device file's permissions. */
export const gpioCheck: DoctorCheck = {
  id: "gpio",
  needsConfig: true,
  async run(ctx) {
    const board = ctx.loaded!.board;
    if (board.io === "sim")
      return [
        { status: "pass", label: "gpio", title: `simulated GPIO chip ${board.gpio.chipLabel} (${board.gpio.lines.length} usable lines)` },
      ];
    if (board.io !== "gpiochip")
      return [{ status: "skip", label: "gpio", title: `${board.name} reads its inputs through ${board.io}; the input check opens it` }];
    const r = await ctx.env.exec("gpiodetect", []);
    if (r.missing)
      return [
        {
          status: "fail",
          label: "gpio",
          title: "gpiodetect is not installed",
          fix: "sudo apt-get install gpiod (scripts/install.sh does this)",
        },
      ];
    // libgpiod v1 and v2 both print: gpiochip0 [pinctrl-bcm2711] (58 lines)
    const chips = r.stdout
      .split("\n")
      .map((l) => /^(gpiochip\d+)\s+\[([^\]]*)\]\s+\((\d+) lines?\)/.exec(l.trim()))
      .filter((m): m is RegExpExecArray => m !== null);
    const chip = chips.find((m) => m[2] === board.gpio.chipLabel);
    if (!chip) {
      return [
        {
          status: "fail",
          label: "gpio",
          title: `no GPIO chip labelled ${board.gpio.chipLabel}; found ${chips.map((m) => `${m[1]} [${m[2]}]`).join(", ") || "none"}`,
          fix: chips.length
            ? `this is not a ${board.name}: set device.board to this machine's board`
            : "no GPIO chips visible: on a Pi, check the kernel (uname -a) and that /dev/gpiochip* exists",
        },
      ];
    }
    const dev = `/dev/${chip[1]}`;
    if (!ctx.env.writable(dev)) {
      return [
        {
          status: "fail",
          label: "gpio",
          title: `${chip[1]} [${chip[2]}] found, but this user cannot open ${dev}`,
          fix: "add the user to group gpio (sudo usermod -aG gpio $USER, then log in again); the service's user roadside has it",
        },
      ];
    }
    return [{ status: "pass", label: "gpio", title: `${chip[1]} [${chip[2]}] (${chip[3]} lines), ${dev} readable and writable` }];
  },
};

// the probe contract lives in ./serial-probe.js so ./probes.js need not import this file (a cycle)
export type { ProbeResult, SerialProbe } from "./serial-probe.js";

/** Frame parsers by sensor (src/doctor/probes.ts). Serial ports without one get a byte count only. */
export const SERIAL_PROBES: SerialProbe[] = [...SENSOR_PROBES];

/** Each serial sensor opens, sends bytes, and (where a probe knows it) its frames parse. */
export const serialCheck: DoctorCheck = {
  id: "serial",
  needsConfig: true,
  async run(ctx) {
    const live = await ctx.live();
    if (live.ports.length === 0) return [];
    return live.ports.map((p): CheckResult => withValues(judgePort(p), p));
    function judgePort(p: LiveReport["ports"][number]): CheckResult {
      const where = `${p.name} (${p.spec.path} ${p.spec.baudRate} ${p.spec.dataBits}${p.spec.parity[0]!.toUpperCase()}${p.spec.stopBits})`;
      if (p.error)
        return {
          status: "fail",
          label: "serial",
          title: `${where}: ${p.error}`,
          fix: "check the cable and the sensor's power; ls -l /dev/serial/by-id/ shows what is plugged in; the user needs group dialout",
        };
      if (p.bytes === 0)
        return {
          status: "fail",
          label: "serial",
          title: `${where}: opened, but no bytes in ${live.seconds} s`,
          fix: "check the sensor's power and its TX wire to the board's RX; some sensors only talk after a trigger",
        };
      if (p.identifiers) {
        return {
          status: "pass",
          label: "serial",
          title: `${where}: ${p.bytes} bytes in ${live.seconds} s (an identifier port: doctor counts bytes and never reads them; the running device's health shows frames and errors)`,
        };
      }
      const config = ctx.loaded!.config;
      const parse = SERIAL_PROBES.map((pr) => pr.forPort(p.configPath, config)).find((f) => f !== undefined);
      if (!parse)
        return {
          status: "pass",
          label: "serial",
          title: `${where}: ${p.bytes} bytes in ${live.seconds} s (no frame check for this sensor)`,
        };
      const r = parse(p.data);
      if (r.frames === 0)
        return {
          status: "fail",
          label: "serial",
          title: `${where}: ${p.bytes} bytes but no valid frame${r.sample ? ` (${r.sample})` : ""}`,
          fix: "wrong baud rate or the wrong sensor model: check baudRate and the sensor's datasheet",
        };
      const status = r.bad > r.frames / 10 ? "warn" : "pass";
      return {
        status,
        label: "serial",
        title: `${where}: ${r.frames} frames${r.bad ? `, ${r.bad} bad` : ""}${r.sample ? `, e.g. ${r.sample}` : ""}`,
        ...(status === "warn" ? { fix: "many bad frames: check the cable length, ground and baud rate" } : {}),
        values: { frames: r.frames, bad: r.bad },
      };
    }
    function withValues(r: CheckResult, p: LiveReport["ports"][number]): CheckResult {
      return {
        ...r,
        values: {
          sensor: p.name,
          path: p.spec.path,
          baudRate: p.spec.baudRate,
          bytes: p.bytes,
          identifiers: p.identifiers,
          error: p.error ?? null,
          seconds: live.seconds,
          ...r.values,
        },
      };
    }
  },
};

/** Wall clock synchronised: otherwise every window goes out with timeq unsynced. */
export const clockCheck: DoctorCheck = {
  id: "clock",
  needsConfig: false,
  async run(ctx) {
    const r = await ctx.env.exec("timedatectl", ["show", "-p", "NTPSynchronized", "--value"]);
    const answer = r.stdout.trim();
    const flag = existsSync("/run/systemd/timesync/synchronized");
    const values = {
      synchronised: answer === "yes" || flag ? true : answer === "no" ? false : null,
      time: new Date(ctx.env.now()).toISOString(),
    };
    if (answer === "yes" || flag)
      return [{ status: "pass", label: "clock", title: `synchronised (NTP); ${new Date(ctx.env.now()).toISOString()}`, values }];
    if (answer === "no") {
      return [
        {
          status: "fail",
          label: "clock",
          title: `not synchronised; the clock says ${new Date(ctx.env.now()).toISOString()}`,
          fix: "windows are published with timeq unsynced until it is: check the network, then sudo timedatectl set-ntp true and systemctl status systemd-timesyncd",
          values,
        },
      ];
    }
    return [
      {
        status: "warn",
        label: "clock",
        title: `cannot tell whether the clock is synchronised (timedatectl: ${(r.stderr.trim().split("\n")[0] ?? "") || "no answer"})`,
        fix: "on the device: timedatectl status should say System clock synchronized: yes",
        values,
      },
    ];
  },
};

const MIN_FREE = 50e6;
const LOW_FREE = 500e6;

/** Room for the outbox: it holds every summary through a broker outage of days. */
export const diskCheck: DoctorCheck = {
  id: "disk",
  needsConfig: true,
  async run(ctx) {
    const dir = resolve(ctx.options.stateDir);
    let probe = dir;
    while (!existsSync(probe) && dirname(probe) !== probe) probe = dirname(probe);
    const note = probe === dir ? dir : `${dir} (not created yet; checked ${probe})`;
    if (!ctx.env.writable(probe)) {
      return [
        {
          status: "fail",
          label: "disk",
          title: `${note} is not writable by this user`,
          fix: "the service's StateDirectory= gives user roadside /var/lib/roadside; by hand: pass --state-dir to a folder you own",
        },
      ];
    }
    const { freeBytes, totalBytes } = ctx.env.diskSpace(probe);
    const pct = totalBytes > 0 ? (100 * freeBytes) / totalBytes : 0;
    const title = `${note}: ${bytes(freeBytes)} free (${pct.toFixed(0)} %)`;
    const values = { path: probe, freeBytes, totalBytes, freePercent: Math.round(pct) };
    if (freeBytes < MIN_FREE)
      return [
        {
          status: "fail",
          label: "disk",
          title,
          fix: "free space (sudo journalctl --vacuum-size=50M, apt-get clean) or use a larger SD card: the outbox needs room for outages",
          values,
        },
      ];
    if (freeBytes < LOW_FREE || pct < 10)
      return [{ status: "warn", label: "disk", title, fix: "little room for a long broker outage: free some space", values }];
    return [{ status: "pass", label: "disk", title, values }];
  },
};

/** What waits in the outbox (read-only: doctor must not disturb a running device's store). */
export const outboxCheck: DoctorCheck = {
  id: "outbox",
  needsConfig: true,
  async run(ctx) {
    const file = join(ctx.options.stateDir, "outbox.db");
    if (!existsSync(file))
      return [{ status: "pass", label: "outbox", title: `none yet in ${ctx.options.stateDir} (made on the first run)` }];
    let db: Database.Database | undefined;
    try {
      db = new Database(file, { readonly: true, fileMustExist: true });
      const row = db.prepare("SELECT COUNT(*) AS n, COALESCE(SUM(LENGTH(payload)), 0) AS b, MIN(created_ms) AS o FROM outbox").get() as {
        n: number;
        b: number;
        o: number | null;
      };
      let next: number | undefined;
      try {
        next = db.prepare("SELECT value FROM meta WHERE key = 'next_seq'").pluck().get() as number | undefined;
      } catch {
        next = undefined;
      }
      const seq = next !== undefined ? `; next seq ${next}` : "";
      if (row.n === 0)
        return [
          {
            status: "pass",
            label: "outbox",
            title: `empty${seq} (${file})`,
            values: { file, messages: 0, bytes: 0, oldestAgeS: null, nextSeq: next ?? null },
          },
        ];
      const ageS = row.o !== null ? (ctx.env.now() - row.o) / 1000 : 0;
      const title = `${row.n} message${row.n === 1 ? "" : "s"} waiting (${bytes(row.b)}), oldest ${Math.round(ageS / 60)} min${seq}`;
      const values = { file, messages: row.n, bytes: row.b, oldestAgeS: Math.round(ageS), nextSeq: next ?? null };
      if (ageS > 3600)
        return [
          {
            status: "warn",
            label: "outbox",
            title,
            fix: "the broker has not taken them for over an hour: see the broker check; they are kept and sent when it is back",
            values,
          },
        ];
      return [{ status: "pass", label: "outbox", title, values }];
    } catch (err) {
      return [
        {
          status: "warn",
          label: "outbox",
          title: `cannot read ${file}: ${(err as Error).message}`,
          fix: "if it persists, stop the service and check the file with sqlite3; never delete it while messages wait",
        },
      ];
    } finally {
      db?.close();
    }
  },
};
