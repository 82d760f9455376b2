import type { Clock, TimerHandle, TimerPriority } from "../clock/clock.js";
import { NS_PER_S } from "../clock/clock.js";
import type { SimFault } from "../config/sections/sim.js";
import { GENERIC_FAULT_KINDS } from "../config/fault-kinds.js";
import type { Rng } from "./rng.js";
import type { ScheduledFault, TruthRecord } from "./scenario.js";
import type { SimSerialDevice } from "./serial.js";

/** A clock whose wall time can be stepped (the virtual clock). */
interface JumpableClock extends Clock {
  jumpWall(deltaMs: number, synced?: boolean): void;
}

function canJump(c: Clock): c is JumpableClock {
  return typeof (c as Partial<JumpableClock>).jumpWall === "function";
}

/** Resolve fault times against the start of the run. */
export function scheduleFaults(faults: readonly SimFault[], startNs: number, kinds?: readonly string[]): ScheduledFault[] {
  const out: ScheduledFault[] = [];
  faults.forEach((fault, index) => {
    if (kinds && !kinds.includes(fault.kind)) return;
    const s = startNs + fault.at * NS_PER_S;
    out.push({ fault, index, startNs: s, endNs: fault.for === undefined ? Infinity : s + fault.for * NS_PER_S });
  });
  return out;
}

const GENERIC = new Set(GENERIC_FAULT_KINDS.map((k) => k.kind));

/** Random bytes, biased towards the characters sensors send, so parsers meet near-misses too. */
export function garbageBytes(rng: Rng, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++)
    b[i] = rng.chance(0.3)
      ? rng.pick([0x0d, 0x0a, 0x52, 0x02, 0x03, 0x2c, 0x3a])
      : rng.chance(0.4)
        ? 0x30 + rng.int(0, 9)
        : rng.int(0, 255);
  return b;
}

/** A transform that cuts a share of transmissions at a random byte (a loose connector, a brown-out). */
export function partialFrames(rng: Rng, share: number): (bytes: Buffer) => Buffer {
  return (bytes) => (bytes.length > 1 && rng.chance(share) ? bytes.subarray(0, rng.int(0, bytes.length - 1)) : bytes);
}

export interface GenericFaultsOptions {
  clock: Clock;
  faults: readonly SimFault[];
  startNs: number;
  /** Simulated serial devices by config port name (filled by scenarios). */
  ports: ReadonlyMap<string, SimSerialDevice>;
  /** Per port, fault kinds its scenario injects itself (skipped here). */
  ownFaults?: ReadonlyMap<string, ReadonlySet<string>>;
  rng: (label: string) => Rng;
  truth: (r: TruthRecord) => void;
  /** Something the run cannot do (a clock-jump under a real clock): said once per fault. */
  warn: (msg: string) => void;
}

/**
 * Injects the generic faults of `sim.faults` (src/config/sim-faults.ts): wall-clock steps and
 * serial faults on the devices scenarios created with `SimContext.createSerialDevice`. Each fault
 * also goes into the ground truth when it starts.
 */
export class GenericFaults {
  private timers = new Set<TimerHandle>();
  private readonly scheduled: ScheduledFault[];

  constructor(private readonly opts: GenericFaultsOptions) {
    this.scheduled = scheduleFaults(opts.faults, opts.startNs).filter((s) => GENERIC.has(s.fault.kind));
  }

  /**
   * Check every target exists, then arm the timers. Throws `sim.faults[i].target: …` when a serial
   * fault names a port no scenario simulates.
   */
  start(): void {
    const own = this.opts.ownFaults;
    const mine = this.scheduled.filter((s) => !own?.get(s.fault.target ?? "")?.has(s.fault.kind));
    this.scheduled.length = 0;
    this.scheduled.push(...mine);
    for (const s of this.scheduled) {
      const f = s.fault;
      if (f.kind !== "clock-jump" && !this.opts.ports.has(f.target ?? "")) {
        const known = [...this.opts.ports.keys()];
        throw new Error(
          `sim.faults[${s.index}].target: no simulated serial sensor is named ${JSON.stringify(f.target)}; simulated: ${known.join(", ") || "none (is the sensor's sim section filled in?)"}`,
        );
      }
    }
    for (const s of this.scheduled) this.arm(s);
  }

  stop(): void {
    for (const t of this.timers) this.opts.clock.clearTimer(t);
    this.timers.clear();
  }

  private at(tNs: number, fn: () => void, priority?: TimerPriority): void {
    if (!Number.isFinite(tNs)) return;
    const h = this.opts.clock.setTimer(
      tNs,
      () => {
        this.timers.delete(h);
        fn();
      },
      priority ? { priority } : undefined,
    );
    this.timers.add(h);
  }

  private arm(s: ScheduledFault): void {
    const { fault: f, startNs, endNs } = s;
    const p = f.params ?? {};
    const truth = (extra: Record<string, unknown> = {}): void =>
      this.opts.truth({
        kind: "fault",
        fault: f.kind,
        index: s.index,
        ...(f.target ? { target: f.target } : {}),
        startNs,
        endNs: Number.isFinite(endNs) ? endNs : null,
        ...extra,
      });
    if (f.kind === "clock-jump") {
      this.at(
        startNs,
        () => {
          const clock = this.opts.clock;
          const deltaMs = (p["deltaS"] ?? 3600) * 1000;
          if (!canJump(clock)) {
            this.opts.warn(`sim.faults[${s.index}]: clock-jump needs virtual time (roadside sim); it is skipped on a real clock`);
            return;
          }
          truth({ deltaMs });
          clock.jumpWall(deltaMs, (p["synced"] ?? 1) !== 0);
        },
        "wall",
      );
      return;
    }
    const dev = this.opts.ports.get(f.target!)!;
    switch (f.kind) {
      case "unplug":
        this.at(startNs, () => {
          truth();
          dev.unplug();
        });
        this.at(endNs, () => dev.plug());
        break;
      case "garbage": {
        const rng = this.opts.rng(`fault:${s.index}`);
        const bytes = Math.max(1, Math.round(p["bytes"] ?? 32));
        const everyNs = Math.max(0.001, p["everyS"] ?? 10) * NS_PER_S;
        const burst = (tNs: number): void => {
          dev.emit(garbageBytes(rng, bytes));
          if (Number.isFinite(endNs) && tNs + everyNs < endNs) this.at(tNs + everyNs, () => burst(tNs + everyNs));
        };
        this.at(startNs, () => {
          truth({ bytes });
          burst(startNs);
        });
        break;
      }
      case "partial-frames": {
        const rng = this.opts.rng(`fault:${s.index}`);
        const share = Math.min(1, Math.max(0, p["share"] ?? 0.5));
        this.at(startNs, () => {
          truth({ share });
          dev.transform = partialFrames(rng, share);
        });
        this.at(endNs, () => (dev.transform = undefined));
        break;
      }
      case "wrong-baud": {
        let original = dev.baudRate;
        this.at(startNs, () => {
          original = dev.baudRate;
          dev.baudRate = p["baud"] ?? original * 2;
          truth({ baud: dev.baudRate });
        });
        this.at(endNs, () => (dev.baudRate = original));
        break;
      }
    }
  }
}
