import type { TimerHandle } from "../clock/clock.js";
import { NS_PER_S } from "../clock/clock.js";
import { VirtualClock } from "../clock/virtual.js";
import type { BinConfig } from "../config/sections/bins.js";
import type { DeviceConfig } from "../config/schema.js";
import { SimAds1115 } from "./ads1115.js";
import type { Rng } from "./rng.js";
import type { ScenarioFactory, SimContext } from "./scenario.js";
import { simDistanceSensor } from "./sonar.js";

type SimBin = NonNullable<DeviceConfig["sim"]>["bins"][string];

/** The hottest a burning bin gets in the model, °C. */
const FIRE_PEAK_C = 200;
/** Cooling time constant after a fire is put out. */
const COOL_TAU_S = 600;
/** A pickup: the truck tips the bin (tilt switch) for this long; the lid falls open meanwhile. */
const PICKUP_TIP_S = 20;

/**
 * One simulated bin. Deposits arrive as a Poisson process (a tenth of the rate at night), each
 * opening the lid for a few seconds and adding an exponentially distributed amount; pickups tip the
 * bin and empty it; fires heat it at a given rate; knock-overs hold the tilt switch. The sensor under
 * the lid reads the waste surface only while the lid is closed and the bin upright; with the lid
 * open it looks at the sky (no target), tipped it sees walls and ground at random distances.
 */
function binSim(ctx: SimContext, name: string, cfg: BinConfig, spec: SimBin, rng: Rng) {
  const clock = ctx.clock;
  const timers = new Set<TimerHandle>();
  let running = false;
  let fill = 0;
  let lidOpen = false;
  let tipped = 0;
  let fireFrom = -1;
  let fireOut = -1;
  let fireTo = -1;
  let depositsTotal = 0;
  const at = (tNs: number, fn: () => void): void => {
    const h = clock.setTimer(tNs, () => {
      timers.delete(h);
      if (running) fn();
    });
    timers.add(h);
  };
  const pin = (input: string | undefined, active: boolean): void => {
    if (!input) return;
    const line = ctx.loaded.lines.get(input)?.line;
    if (line === undefined) return;
    const activeLow = ctx.loaded.config.inputs[input]?.activeLow ?? false;
    ctx.board.setPin(line, (active !== activeLow ? 1 : 0) as 0 | 1);
  };
  const setLid = (open: boolean): void => {
    lidOpen = open;
    pin(cfg.lid?.input, open);
  };
  const tip = (on: boolean): void => {
    tipped += on ? 1 : -1;
    pin(cfg.tilt?.input, tipped > 0);
  };
  const truthFill = (tNs: number, cause: string): void =>
    ctx.truth({ kind: "fill", bin: name, tNs, percent: Math.round(fill * 100) / 100, cause });

  const hour = (tNs: number): number => (((clock.toWallMs(tNs) / 3_600_000) % 24) + 24) % 24;
  const nextDeposit = (afterNs: number): void => {
    const h = hour(afterNs);
    const rate = (h >= 6 && h < 22 ? 1 : 0.1) * spec.depositsPerHour;
    if (rate <= 0) return;
    const t = afterNs + rng.exponential(3600 / rate) * NS_PER_S;
    at(t, () => {
      if (!lidOpen && tipped === 0) {
        setLid(true);
        const open = rng.uniform(3, 10) * NS_PER_S;
        at(t + open, () => {
          setLid(false);
          fill = Math.min(110, fill + rng.exponential(spec.depositPct));
          depositsTotal++;
          truthFill(t + open, "deposit");
        });
      }
      nextDeposit(t);
    });
  };

  const temperature = (tNs: number): number => {
    const ambient = spec.ambientC + 3 * Math.cos((2 * Math.PI * (hour(tNs) - 15)) / 24);
    if (fireFrom < 0 || tNs < fireFrom) return ambient;
    const riseS = (Math.min(tNs, fireOut) - fireFrom) / NS_PER_S;
    const hot = Math.min(
      FIRE_PEAK_C,
      ambient + (spec.fires.find((f) => ctx.startNs + f.at * NS_PER_S === fireFrom)?.riseCPerMin ?? 15) * (riseS / 60),
    );
    if (tNs <= fireOut) return hot;
    return ambient + (hot - ambient) * Math.exp(-(tNs - fireOut) / NS_PER_S / COOL_TAU_S);
  };

  const sonar = simDistanceSensor(ctx, name, cfg.distance, rng.fork("sonar"), {
    intervalS: spec.frameInterval,
    noiseMm: spec.noiseMm,
    target: () => {
      if (lidOpen) return "no-target";
      if (tipped > 0) return rng.uniform(200, 3000);
      const f = Math.min(100, fill);
      return cfg.emptyDistanceMm - (f / 100) * (cfg.emptyDistanceMm - cfg.fullDistanceMm);
    },
    truth: (r) => ctx.truth({ ...r, bin: name }),
  });

  if (cfg.temperature) {
    const adc = new SimAds1115(clock, clock instanceof VirtualClock ? () => clock.yieldSoon() : () => {});
    ctx.board.attachI2c(cfg.temperature.adc.address, adc);
    // TMP36: 0.5 V at 0 °C, 10 mV/°C; past its 125 °C rating the output saturates (modelled at
    // 2.0 V), which still reads as fire
    adc.setInput(cfg.temperature.adc.channel, (t) => Math.min(2.0, 0.5 + temperature(t) / 100 + rng.normal(0, 0.0005)));
  }

  // lid closed and bin upright when the device opens its inputs (the scenario starts after it)
  setLid(false);
  pin(cfg.tilt?.input, false);
  return {
    start(): void {
      running = true;
      const now = clock.monoNs();
      truthFill(now, "start");
      nextDeposit(now);
      for (const p of spec.pickups) {
        const t = ctx.startNs + p * NS_PER_S;
        at(t, () => {
          tip(true);
          setLid(true);
          at(t + (PICKUP_TIP_S / 2) * NS_PER_S, () => {
            const before = fill;
            fill = rng.uniform(0, 3);
            ctx.truth({
              kind: "pickup",
              bin: name,
              tNs: t + (PICKUP_TIP_S / 2) * NS_PER_S,
              beforePct: Math.round(before * 100) / 100,
              afterPct: Math.round(fill * 100) / 100,
            });
            truthFill(t + (PICKUP_TIP_S / 2) * NS_PER_S, "pickup");
          });
          at(t + PICKUP_TIP_S * NS_PER_S, () => {
            tip(false);
            setLid(false);
          });
        });
      }
      for (const f of spec.fires) {
        const from = ctx.startNs + f.at * NS_PER_S;
        at(from, () => {
          fireFrom = from;
          fireOut = from + f.for * NS_PER_S;
          fireTo = fireOut + 5 * COOL_TAU_S * NS_PER_S;
          ctx.truth({ kind: "fire", bin: name, startNs: fireFrom, outNs: fireOut, riseCPerMin: f.riseCPerMin });
        });
        at(from + f.for * NS_PER_S + 5 * COOL_TAU_S * NS_PER_S, () => {
          if (clock.monoNs() >= fireTo) fireFrom = -1;
        });
      }
      for (const k of spec.knockovers) {
        const from = ctx.startNs + k.at * NS_PER_S;
        at(from, () => tip(true));
        at(from + k.for * NS_PER_S, () => tip(false));
        ctx.truth({ kind: "knockover", bin: name, startNs: from, endNs: from + k.for * NS_PER_S });
      }
      sonar.start();
    },
    stop(): void {
      running = false;
      sonar.stop();
      for (const t of timers) clock.clearTimer(t);
      timers.clear();
      ctx.truth({ kind: "bin-end", bin: name, deposits: depositsTotal, percent: fill });
    },
  };
}

/** Bins named in `sim.bins`. */
export const binsScenario: ScenarioFactory = (ctx) => {
  const { config } = ctx.loaded;
  const sims = Object.entries(config.sim?.bins ?? {}).filter(([name]) => config.bins[name]);
  if (sims.length === 0) return undefined;
  const root = ctx.rng("bins");
  const units = sims.map(([name, spec]) => binSim(ctx, name, config.bins[name]!, spec, root.fork(name)));
  return {
    name: "bins",
    start: () => {
      for (const u of units) u.start();
    },
    stop: () => {
      for (const u of units) u.stop();
    },
  };
};
