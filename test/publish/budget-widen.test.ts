import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { NS_PER_S } from "../../src/clock/clock.js";
import { VirtualClock } from "../../src/clock/virtual.js";
import type { DeviceConfigInput } from "../../src/config/schema.js";
import { SerialLink } from "../../src/io/serial.js";
import { JohnnyFiveInputs } from "../../src/io/johnny-five.js";
import { silentLogger } from "../../src/log/logger.js";
import type { OutboxMessage } from "../../src/outbox/outbox.js";
import { SqliteOutbox } from "../../src/outbox/sqlite.js";
import { widenLadder } from "../../src/publish/budget.js";
import { Device } from "../../src/runtime.js";
import { SimSite } from "../../src/sim/site.js";
import { freePort } from "../helpers/brokers.js";
import { mustLoad } from "../helpers/sim-device.js";

const SEED = 5150;
/** Bytes a message is taken to cost on the wire: the test feeds the counter itself, so the policy sees the same bytes every run. */
const PER_MESSAGE = 3000;

function config(monthlyBytes: number, profile: "standard" | "cellular" = "standard"): DeviceConfigInput {
  return {
    device: { id: "pole-widen", board: "sim" },
    inputs: { "l1.up": { line: "GPIO17" }, "l1.down": { line: "GPIO27" }, "l2.up": { line: "GPIO22" }, "l2.down": { line: "GPIO23" } },
    detectors: { lane1: { loops: ["l1.up", "l1.down"] }, lane2: { loops: ["l2.up", "l2.down"] } },
    windows: { default: "5m" },
    health: { interval: 0 },
    publish: { encoding: "json", profile, budget: { monthlyBytes } },
    sim: {
      seed: SEED,
      traffic: { lane1: { vehiclesPerHour: 900, speedKmh: 90 }, lane2: { vehiclesPerHour: 400, speedKmh: 80 } },
      // a loop stuck on while the windows are an hour long: its alarm must go out as it happens
      faults: [{ at: "305m", for: "20m", kind: "stuck-on", target: "l2.down" }],
    },
  } as DeviceConfigInput;
}

interface Committed {
  atMs: number;
  topic: string;
  records: { n?: string; bn?: string; bt?: number; v?: number; vs?: string }[];
}

/**
 * A simulated device with no broker to reach (a closed port: nothing goes on the wire), whose byte
 * counter the test feeds `PER_MESSAGE` for every committed message, in virtual time.
 */
async function runDevice(
  monthlyBytes: number,
  outboxPath: string,
  startWallMs: number,
  hours: number,
  profile: "standard" | "cellular" = "standard",
) {
  const loaded = mustLoad(config(monthlyBytes, profile));
  const clock = new VirtualClock({ startWallMs });
  const site = new SimSite(loaded, { clock, seed: SEED });
  const outbox = SqliteOutbox.open({ path: outboxPath, now: () => clock.wallMs() });
  const committed: Committed[] = [];
  const holder: { device?: Device } = {};
  const device = new Device(loaded, {
    clock,
    logger: silentLogger,
    inputs: new JohnnyFiveInputs({ io: site.board, clock, timestampSource: "virtual" }),
    serial: () => new SerialLink({ binding: site.serial.binding, clock, logger: silentLogger }),
    ioPlugin: site.board,
    outbox,
    brokerUrl: `mqtt://127.0.0.1:${await freePort()}`,
    mqtt: { backoffMinMs: 60_000, backoffMaxMs: 60_000 },
    onCommitted: (msgs: OutboxMessage[]) => {
      for (const m of msgs) committed.push({ atMs: clock.wallMs(), topic: m.topic, records: JSON.parse(m.payload.toString()) });
      holder.device?.budget?.add(PER_MESSAGE * msgs.length);
    },
  });
  holder.device = device;
  await device.start();
  site.start();
  await clock.runUntil(clock.monoNs() + hours * 3600 * NS_PER_S, { yieldEvery: 500 });
  const health = device.healthReport().budget;
  site.stop();
  await device.stop(0);
  outbox.close();
  return { committed, health };
}

const rec = (c: Committed, n: string) => c.records.find((r) => r.n === n);
const summaries = (cs: Committed[]) => cs.filter((c) => c.topic.includes("/traffic/"));
const windowOf = (c: Committed) => rec(c, "window")?.v;
const startOf = (c: Committed) => c.records[0]!.bt! * 1000;

describe(`monthly byte budget: routine windows widen at aligned boundaries, alarms do not wait (seed ${SEED})`, () => {
  const dirs: string[] = [];
  const dir = (): string => {
    const d = mkdtempSync(join(tmpdir(), "roadside-widen-"));
    dirs.push(d);
    return d;
  };
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("widens through its ladder (5 min → 15 min → 1 h)", () => {
    expect(widenLadder(300)).toEqual([300, 900, 3600]);
    expect(widenLadder(60)).toEqual([60, 180, 600, 1800, 3600]);
    expect(widenLadder(3600)).toEqual([3600]);
  });

  const START = Date.UTC(2026, 0, 5, 0);

  it("a budget a day of data would exceed: 15-minute, then hour windows from aligned boundaries, marked widened; alarms at once; kept across a restart", async () => {
    const path = join(dir(), "outbox.db");
    // 2 lanes × 12 windows an hour × 3 kB ≈ 1.7 MB a day: a month of 5-minute windows ≈ 50 MB, of 15-minute ones ≈ 17 MB
    const r = await runDevice(5_000_000, path, START, 8);
    const sums = summaries(r.committed);
    // the first hour is at the configured length: no projection before an hour of counting
    const first = sums.filter((c) => startOf(c) < START + 3600_000);
    expect(
      first.every((c) => windowOf(c) === 300 && rec(c, "budget") === undefined),
      `seed ${SEED}`,
    ).toBe(true);
    const widened = sums.filter((c) => windowOf(c) !== 300);
    expect(widened.length, `seed ${SEED}`).toBeGreaterThan(0);
    for (const c of widened) {
      const w = windowOf(c)!;
      expect([900, 3600]).toContain(w);
      expect(startOf(c) % (w * 1000), `${c.topic} at ${new Date(startOf(c)).toISOString()} is aligned`).toBe(0);
      expect(rec(c, "budget")?.vs).toBe("widened");
      // measured natively over the whole widened window: flow is volume over the window
      expect(rec(c, "volume")!.v! / w).toBeCloseTo(rec(c, "flow")!.v!, 3);
    }
    const lengths = [...new Set(sums.map(windowOf))];
    expect(lengths, "5 min, then 15 min, then 1 h, never back within the month").toEqual([300, 900, 3600]);
    // each stream's windows tile time: no gap, no overlap across the changes of length
    for (const lane of ["lane1", "lane2"]) {
      const ws = sums.filter((c) => c.topic.endsWith(`/${lane}`)).map((c) => [startOf(c), startOf(c) + windowOf(c)! * 1000]);
      for (let i = 1; i < ws.length; i++) expect(ws[i]![0], `${lane} window ${i}`).toBe(ws[i - 1]![1]);
    }
    // the stuck loop's alarm went out when it was recognised, not at the end of its hour window
    const alarms = r.committed.filter((c) => c.topic.includes("/alarm/"));
    expect(alarms.length, `seed ${SEED}: the stuck-on fault raises and clears an alarm`).toBeGreaterThanOrEqual(1);
    for (const a of alarms) expect(a.atMs - startOf(a), "alarm committed within 10 minutes of its start").toBeLessThan(600_000);
    expect(alarms.some((a) => a.atMs < START + 6 * 3600_000)).toBe(true); // inside the hour window 05:00–06:00
    expect(r.health).toMatchObject({ widened: 2, windows: { "300": 3600 }, monthlyBytes: 5_000_000 });
    expect(["at-risk", "ok"]).toContain(r.health!.state);

    // restarted later the same month: the windows stay widened (from the first hour boundary after the start)
    const again = await runDevice(5_000_000, path, START + 10 * 3600_000 + 1_234, 3);
    const later = summaries(again.committed).filter((c) => startOf(c) >= START + 11 * 3600_000);
    expect(later.length).toBeGreaterThan(0);
    expect(later.every((c) => windowOf(c) === 3600 && rec(c, "budget")?.vs === "widened")).toBe(true);
  }, 120_000);

  it("a budget the data fit: windows as configured, nothing marked", async () => {
    const r = await runDevice(500_000_000, join(dir(), "outbox.db"), START, 4);
    const sums = summaries(r.committed);
    expect(sums.length).toBeGreaterThan(40);
    expect(sums.every((c) => windowOf(c) === 300 && rec(c, "budget") === undefined)).toBe(true);
    expect(r.health).toMatchObject({ widened: 0, windows: { "300": 300 }, state: "ok" });
  }, 60_000);

  it("in the cellular profile the pack carries the widened window and each stream's budget record", async () => {
    const r = await runDevice(5_000_000, join(dir(), "outbox.db"), START, 4, "cellular");
    const packs = r.committed.filter((c) => c.topic.endsWith("/window"));
    const wide = packs.filter((c) => windowOf(c) !== 300);
    expect(wide.length, `seed ${SEED}`).toBeGreaterThan(0);
    for (const p of wide) {
      // every stream of the pack (a record with a base name starts one) ends with budget = widened
      const starts = p.records.flatMap((x, i) => (x.bn !== undefined && i > 0 ? [i] : []));
      expect(starts.length).toBe(2);
      for (const [k, i] of starts.entries()) {
        const end = starts[k + 1] ?? p.records.length;
        expect(p.records.slice(i, end).at(-1)).toEqual({ n: "budget", vs: "widened" });
      }
    }
    expect(packs.filter((c) => windowOf(c) === 300).every((c) => !c.records.some((x) => x.n === "budget"))).toBe(true);
  }, 60_000);

  it("the plan's new month brings the configured windows back", async () => {
    const path = join(dir(), "outbox.db");
    // 8 h left in January at ≈ 72 kB an hour: 300 kB runs out
    const r = await runDevice(300_000, path, Date.UTC(2026, 0, 31, 16), 10);
    const sums = summaries(r.committed);
    const jan = sums.filter((c) => startOf(c) < Date.UTC(2026, 1, 1));
    const feb = sums.filter((c) => startOf(c) >= Date.UTC(2026, 1, 1, 1));
    expect(
      jan.some((c) => windowOf(c)! > 300 && rec(c, "budget")?.vs === "widened"),
      `seed ${SEED}`,
    ).toBe(true);
    // the widened window open when the month turned ends; then 5-minute windows (until the new month's own projection)
    expect(feb.length).toBeGreaterThan(0);
    expect(windowOf(feb[0]!)).toBe(300);
    expect(rec(feb[0]!, "budget")).toBeUndefined();
  }, 120_000);
});
