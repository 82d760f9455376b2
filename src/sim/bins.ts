import type { TimerHandle } from "../clock/clock.js";
import { NS_PER_S } from "../clock/clock.js";
import { VirtualClock } from "../clock/virtual.js";
import type { BinConfig } from "../config/sections/bins.js";
import type { DeviceConfig } from "../config/schema.js";
import { SimAds1115 } from "./ads1115.js";
import type { Rng } from "./rng.js";
import type { ScenarioFactory, SimContext } from "./scenario.js";
import { type SonarTarget, simDistanceSensor } from "./sonar.js";

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
class BinSim {
  private readonly clock: SimContext["clock"];
  private readonly timers = new Set<TimerHandle>();
  private readonly sonar: ReturnType<typeof simDistanceSensor>;
  private running = false;
  private fill = 0;
  private lidOpen = false;
  private tipped = 0;
  private fireFrom = -1;
  private fireOut = -1;
  private fireTo = -1;
  private depositsTotal = 0;

  constructor(
    private readonly ctx: SimContext,
    private readonly name: string,
    private readonly cfg: BinConfig,
    private readonly spec: SimBin,
    private readonly rng: Rng,
  ) {
    this.clock = ctx.clock;
    this.sonar = simDistanceSensor(ctx, name, cfg.distance, rng.fork("sonar"), {
      intervalS: spec.frameInterval,
      noiseMm: spec.noiseMm,
      target: () => this.sonarTarget(),
      truth: (r) => ctx.truth({ ...r, bin: name }),
    });
    this.attachThermometer();
    // lid closed and bin upright when the device opens its inputs (the scenario starts after it)
    this.setLid(false);
    this.pin(cfg.tilt?.input, false);
  }

  start(): void {
    this.running = true;
    const now = this.clock.monoNs();
    this.truthFill(now, "start");
    this.nextDeposit(now);
    for (const p of this.spec.pickups) this.schedulePickup(this.ctx.startNs + p * NS_PER_S);
    for (const f of this.spec.fires) this.scheduleFire(f);
    for (const k of this.spec.knockovers) this.scheduleKnockover(k);
    this.sonar.start();
  }

  stop(): void {
    this.running = false;
    this.sonar.stop();
    for (const t of this.timers) this.clock.clearTimer(t);
    this.timers.clear();
    this.ctx.truth({ kind: "bin-end", bin: this.name, deposits: this.depositsTotal, percent: this.fill });
  }

  private at(tNs: number, fn: () => void): void {
    const h = this.clock.setTimer(tNs, () => {
      this.timers.delete(h);
      if (this.running) fn();
    });
    this.timers.add(h);
  }

  private pin(input: string | undefined, active: boolean): void {
    if (!input) return;
    const line = this.ctx.loaded.lines.get(input)?.line;
    if (line === undefined) return;
    const activeLow = this.ctx.loaded.config.inputs[input]?.activeLow ?? false;
    this.ctx.board.setPin(line, (active !== activeLow ? 1 : 0) as 0 | 1);
  }

  private setLid(open: boolean): void {
    this.lidOpen = open;
    this.pin(this.cfg.lid?.input, open);
  }

  private tip(on: boolean): void {
    this.tipped += on ? 1 : -1;
    this.pin(this.cfg.tilt?.input, this.tipped > 0);
  }

  private truthFill(tNs: number, cause: string): void {
    this.ctx.truth({ kind: "fill", bin: this.name, tNs, percent: Math.round(this.fill * 100) / 100, cause });
  }

  private hour(tNs: number): number {
    return (((this.clock.toWallMs(tNs) / 3_600_000) % 24) + 24) % 24;
  }

  private nextDeposit(afterNs: number): void {
    const h = this.hour(afterNs);
    const rate = (h >= 6 && h < 22 ? 1 : 0.1) * this.spec.depositsPerHour;
    if (rate <= 0) return;
    const t = afterNs + this.rng.exponential(3600 / rate) * NS_PER_S;
    this.at(t, () => {
      if (!this.lidOpen && this.tipped === 0) {
        this.setLid(true);
        const open = this.rng.uniform(3, 10) * NS_PER_S;
        this.at(t + open, () => {
          this.setLid(false);
          this.fill = Math.min(110, this.fill + this.rng.exponential(this.spec.depositPct));
          this.depositsTotal++;
          this.truthFill(t + open, "deposit");
        });
      }
      this.nextDeposit(t);
    });
  }

  private temperature(tNs: number): number {
    const { spec, fireFrom, fireOut } = this;
    const ambient = spec.ambientC + 3 * Math.cos((2 * Math.PI * (this.hour(tNs) - 15)) / 24);
    if (fireFrom < 0 || tNs < fireFrom) return ambient;
    const riseS = (Math.min(tNs, fireOut) - fireFrom) / NS_PER_S;
    const hot = Math.min(
      FIRE_PEAK_C,
      ambient + (spec.fires.find((f) => this.ctx.startNs + f.at * NS_PER_S === fireFrom)?.riseCPerMin ?? 15) * (riseS / 60),
    );
    if (tNs <= fireOut) return hot;
    return ambient + (hot - ambient) * Math.exp(-(tNs - fireOut) / NS_PER_S / COOL_TAU_S);
  }

  private sonarTarget(): SonarTarget {
    if (this.lidOpen) return "no-target";
    if (this.tipped > 0) return this.rng.uniform(200, 3000);
    const f = Math.min(100, this.fill);
    return this.cfg.emptyDistanceMm - (f / 100) * (this.cfg.emptyDistanceMm - this.cfg.fullDistanceMm);
  }

  private attachThermometer(): void {
    const { cfg, clock, rng } = this;
    if (!cfg.temperature) return;
    const adc = new SimAds1115(clock, clock instanceof VirtualClock ? () => clock.yieldSoon() : () => {});
    this.ctx.board.attachI2c(cfg.temperature.adc.address, adc);
    // TMP36: 0.5 V at 0 °C, 10 mV/°C; past its 125 °C rating the output saturates (modelled at
    // 2.0 V), which still reads as fire
    adc.setInput(cfg.temperature.adc.channel, (t) => Math.min(2.0, 0.5 + this.temperature(t) / 100 + rng.normal(0, 0.0005)));
  }

  /** The truck tips the bin at `t`, empties it halfway through and sets it back down. */
  private schedulePickup(t: number): void {
    const mid = t + (PICKUP_TIP_S / 2) * NS_PER_S;
    this.at(t, () => {
      this.tip(true);
      this.setLid(true);
      this.at(mid, () => {
        const before = this.fill;
        this.fill = this.rng.uniform(0, 3);
        this.ctx.truth({
          kind: "pickup",
          bin: this.name,
          tNs: mid,
          beforePct: Math.round(before * 100) / 100,
          afterPct: Math.round(this.fill * 100) / 100,
        });
        this.truthFill(mid, "pickup");
      });
      this.at(t + PICKUP_TIP_S * NS_PER_S, () => {
        this.tip(false);
        this.setLid(false);
      });
    });
  }

  private scheduleFire(f: SimBin["fires"][number]): void {
    const from = this.ctx.startNs + f.at * NS_PER_S;
    this.at(from, () => {
      this.fireFrom = from;
      this.fireOut = from + f.for * NS_PER_S;
      this.fireTo = this.fireOut + 5 * COOL_TAU_S * NS_PER_S;
      this.ctx.truth({ kind: "fire", bin: this.name, startNs: this.fireFrom, outNs: this.fireOut, riseCPerMin: f.riseCPerMin });
    });
    this.at(from + f.for * NS_PER_S + 5 * COOL_TAU_S * NS_PER_S, () => {
      if (this.clock.monoNs() >= this.fireTo) this.fireFrom = -1;
    });
  }

  private scheduleKnockover(k: SimBin["knockovers"][number]): void {
    const from = this.ctx.startNs + k.at * NS_PER_S;
    this.at(from, () => this.tip(true));
    this.at(from + k.for * NS_PER_S, () => this.tip(false));
    this.ctx.truth({ kind: "knockover", bin: this.name, startNs: from, endNs: from + k.for * NS_PER_S });
  }
}

/** Bins named in `sim.bins`. */
export const binsScenario: ScenarioFactory = (ctx) => {
  const { config } = ctx.loaded;
  const sims = Object.entries(config.sim?.bins ?? {}).filter(([name]) => config.bins[name]);
  if (sims.length === 0) return undefined;
  const root = ctx.rng("bins");
  const units = sims.map(([name, spec]) => new BinSim(ctx, name, config.bins[name]!, spec, root.fork(name)));
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
