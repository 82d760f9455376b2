import type { Clock, TimerHandle } from "../clock/clock.js";
import { NS_PER_S } from "../clock/clock.js";
import { VirtualClock } from "../clock/virtual.js";
import type { RangeSensorConfig } from "../config/sections/level-sensors.js";
import type { SimFault } from "../config/sections/sim.js";
import type { MaxbotixModel } from "../sensors/maxbotix.js";
import { maxbotixFrame } from "../sensors/maxbotix.js";
import { frameModel, modbusModel } from "../sensors/models/index.js";
import { MODBUS_SLAVE_FAULTS, SimModbusLine, SimModbusSlave } from "./modbus-line.js";
import type { Rng } from "./rng.js";
import type { SimContext, TruthRecord } from "./scenario.js";
import type { SimSerialDevice } from "./serial.js";

/** What the sensor sees now: a distance in mm (before noise), or no target / something too close. */
export type SonarTarget = number | "no-target" | "min-range";

/** Serial faults a simulated MaxBotix handles (sim.faults kinds aimed at its sensor name). */
export const SONAR_FAULTS = ["garbage", "partial-frames", "wrong-baud", "unplug", "silent"] as const;

/**
 * A free-running MaxBotix sensor at the end of a simulated serial cable: one frame per interval in
 * the model's format, with Gaussian noise, and the serial faults of `sim.faults` aimed at it
 * (garbage between frames, frames cut short, a wrong baud rate, an unplugged cable, a dead sensor).
 */
export class SimSonar {
  private timer: TimerHandle | undefined;
  private readonly active = new Set<string>();
  private readonly faultTimers: TimerHandle[] = [];
  private readonly garbage = Buffer.alloc(16);
  frames = 0;

  constructor(
    private readonly clock: Clock,
    private readonly device: SimSerialDevice,
    private readonly model: MaxbotixModel,
    private readonly rng: Rng,
    private readonly intervalS: number,
    private readonly noiseMm: number,
    private readonly target: (nowNs: number) => SonarTarget,
    private readonly truth: (r: TruthRecord) => void,
    private readonly name: string,
  ) {}

  start(faults: readonly SimFault[], startNs: number): void {
    for (const f of faults) {
      if (f.target !== this.name || !(SONAR_FAULTS as readonly string[]).includes(f.kind)) continue;
      const from = startNs + f.at * NS_PER_S;
      const to = f.for === undefined ? Infinity : from + f.for * NS_PER_S;
      this.faultTimers.push(this.clock.setTimer(from, () => this.begin(f.kind, from)));
      if (to !== Infinity) this.faultTimers.push(this.clock.setTimer(to, () => this.finish(f.kind, from, to)));
    }
    this.tick();
  }

  stop(): void {
    if (this.timer) this.clock.clearTimer(this.timer);
    for (const t of this.faultTimers) this.clock.clearTimer(t);
  }

  private begin(kind: string, from: number): void {
    this.active.add(kind);
    if (kind === "unplug") {
      this.device.unplug();
      // let the host see the disconnect at this virtual instant, as it would on hardware
      if (this.clock instanceof VirtualClock) this.clock.yieldSoon();
    }
    this.truth({ kind: "fault", sensor: this.name, fault: kind, startNs: from });
  }

  private finish(kind: string, from: number, to: number): void {
    this.active.delete(kind);
    if (kind === "unplug") this.device.plug();
    this.truth({ kind: "fault-end", sensor: this.name, fault: kind, startNs: from, endNs: to });
  }

  private tick(): void {
    this.timer = this.clock.setTimer(this.clock.monoNs() + this.intervalS * NS_PER_S, () => {
      this.emit();
      this.tick();
    });
  }

  private emit(): void {
    const a = this.active;
    if (a.has("silent") || a.has("unplug")) return;
    const t = this.target(this.clock.monoNs());
    const frame = maxbotixFrame(this.model, typeof t === "number" ? t + this.rng.normal(0, this.noiseMm) : t);
    this.frames++;
    let bytes: Buffer = Buffer.from(frame, "latin1");
    if (a.has("partial-frames")) bytes = bytes.subarray(0, this.rng.int(1, bytes.length - 1));
    if (a.has("wrong-baud")) bytes = misread(bytes, this.rng);
    if (a.has("garbage")) {
      // line noise between frames: random bytes, never the frame marker, so good frames still parse
      const n = this.rng.int(1, this.garbage.length);
      for (let i = 0; i < n; i++) {
        let b = this.rng.int(0, 255);
        if (b === 0x52 || b === 0x0d) b = 0x00;
        this.garbage[i] = b;
      }
      this.device.emit(Buffer.concat([this.garbage.subarray(0, n), bytes]));
      return;
    }
    this.device.emit(bytes);
  }
}

/** A frame as a host reads it when the sensor transmits at twice the host's baud rate: two bits per sampled bit, framing lost. */
function misread(bytes: Buffer, rng: Rng): Buffer {
  const out = Buffer.alloc(Math.max(1, bytes.length >> 1));
  for (let i = 0; i < out.length; i++) out[i] = (((bytes[2 * i] ?? 0) & 0xf0) | ((bytes[2 * i + 1] ?? 0) >> 4)) ^ rng.int(0, 255);
  return out;
}

/** A simulated distance sensor, whatever its interface. */
export interface SimDistanceSensor {
  start(): void;
  stop(): void;
}

export interface SimDistanceOptions {
  /** Seconds between a free-running sensor's frames (a polled sensor answers when asked). */
  intervalS: number;
  noiseMm: number;
  target: (nowNs: number) => SonarTarget;
  truth: (r: TruthRecord) => void;
}

/** Simulated RS-485 lines by scenario context and device path: sensors on one line share it. */
const lines = new WeakMap<SimContext, Map<string, SimModbusLine>>();

/**
 * The simulated sensor of a configured distance sensor: a free-running MaxBotix on its own serial
 * device, or a Modbus slave on the simulated RS-485 line of its port (created by the first sensor on
 * it), answering from its definition's register map.
 */
export function simDistanceSensor(
  ctx: SimContext,
  name: string,
  cfg: RangeSensorConfig,
  rng: Rng,
  o: SimDistanceOptions,
): SimDistanceSensor {
  const path = ctx.loaded.board.serial.find((p) => p.name === cfg.port.path)?.path ?? cfg.port.path;
  if (cfg.type === "maxbotix") {
    const device = ctx.createSerialDevice(name, path, 9600, { ownFaults: SONAR_FAULTS });
    const sonar = new SimSonar(
      ctx.clock,
      device,
      { id: cfg.model, name: cfg.model, ...frameModel(cfg.model).frame },
      rng,
      o.intervalS,
      o.noiseMm,
      o.target,
      o.truth,
      name,
    );
    return { start: () => sonar.start(ctx.faults, ctx.startNs), stop: () => sonar.stop() };
  }
  const model = modbusModel(cfg.model);
  let byPath = lines.get(ctx);
  if (!byPath) {
    byPath = new Map();
    lines.set(ctx, byPath);
  }
  let line = byPath.get(path);
  const first = !line;
  if (!line) {
    line = new SimModbusLine(ctx.clock, ctx.createSerialDevice(name, path, cfg.port.baudRate, { ownFaults: MODBUS_SLAVE_FAULTS }));
    byPath.set(path, line);
  }
  const tooClose = model.minRangeMm / 2;
  const slave = new SimModbusSlave(
    cfg.unitId,
    model,
    (now) => {
      const t = o.target(now);
      return t === "min-range" ? tooClose : t;
    },
    rng,
    o.noiseMm,
    o.truth,
    name,
  );
  line.add(slave);
  const l = line;
  return {
    start: () => slave.armFaults(ctx.clock, ctx.faults, ctx.startNs),
    stop: () => {
      slave.disarm(ctx.clock);
      if (first) l.stop();
    },
  };
}
