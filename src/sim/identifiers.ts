import type { Clock, TimerHandle } from "../clock/clock.js";
import { NS_PER_S } from "../clock/clock.js";
import { resolveSerialPath } from "../config/board-data.js";
import type { SimFault } from "../config/sections/sim.js";
import type { SimReaderConfig, SimScannerConfig } from "../config/sections/sim-identifiers.js";
import { rdm6300Frame, scannerLine, simProbeAddress, simTag } from "./identifier-bytes.js";
import { Rng } from "./rng.js";
import type { ScenarioFactory, TruthRecord } from "./scenario.js";
import type { SimSerialDevice } from "./serial.js";

export { isRandomAddressId, rdm6300Frame, scannerLine, simProbeAddress, simTag } from "./identifier-bytes.js";

/**
 * Ground truth of one scanner line. `address` is the simulated address id (see
 * identifier-bytes.ts): truth records never hold the identifier itself, so truth files and test
 * memory stay free of it; `simProbeAddress(seed, scanner, address)` re-derives it.
 */
export interface SightingTruth extends TruthRecord {
  kind: "sighting";
  scanner: string;
  radio: "wifi" | "ble";
  address: number;
  random: boolean;
  rssi: number;
  tNs: number;
  /** The host did not have the port open (unplugged): the line was lost on the wire. */
  lost: boolean;
}

/** Ground truth of one card presentation (at its first valid frame). `user` re-derives the tag with `simTag`. */
export interface DepositTruth extends TruthRecord {
  kind: "deposit";
  reader: string;
  user: number;
  tNs: number;
  lost: boolean;
}

/** A frame corrupted on the wire (bad checksum): an error, never a read. */
export interface BadFrameTruth extends TruthRecord {
  kind: "bad-frame";
  reader: string;
  tNs: number;
}

/** Scenario timers, cleared on stop so memory stays flat however long the run. */
class Timers {
  private set = new Set<TimerHandle>();
  running = false;
  constructor(private readonly clock: Clock) {}
  at(tNs: number, fn: () => void): void {
    if (!this.running) return;
    const h = this.clock.setTimer(tNs, () => {
      this.set.delete(h);
      fn();
    });
    this.set.add(h);
  }
  clear(): void {
    this.running = false;
    for (const h of this.set) this.clock.clearTimer(h);
    this.set.clear();
  }
}

/** Traffic by hour of day (UTC), peak 1: quiet nights, a morning and an evening peak, a lunchtime shoulder. */
export function diurnal(hour: number): number {
  const g = (mu: number, sd: number): number => Math.exp(-(((hour - mu) / sd) ** 2));
  return Math.min(1, 0.04 + 0.96 * Math.max(g(8, 1.5), 0.6 * g(13, 2.5), g(17.5, 1.8)));
}

/**
 * Passers-by at one probe scanner: Poisson arrivals (optionally following a diurnal profile),
 * each staying a random time in range; phones probe in bursts on Wi-Fi with a randomised or global
 * address, BLE devices advertise with a private address that rotates or a public one. Regulars
 * come back with the same global addresses, so a device is seen in many windows.
 */
export class ProbeScannerSim {
  private readonly timers: Timers;
  private oneOff = 0;
  private randomIds = 0;

  constructor(
    private readonly clock: Clock,
    private readonly device: SimSerialDevice,
    private readonly rng: Rng,
    private readonly seed: number,
    private readonly name: string,
    private readonly spec: SimScannerConfig,
    private readonly truth: (r: SightingTruth) => void,
  ) {
    this.timers = new Timers(clock);
  }

  start(): void {
    this.timers.running = true;
    this.next(this.clock.monoNs());
  }

  stop(): void {
    this.timers.clear();
  }

  private next(afterNs: number): void {
    if (this.spec.devicesPerHour <= 0) return;
    const t = afterNs + this.rng.exponential(3600 / this.spec.devicesPerHour) * NS_PER_S;
    this.timers.at(t, () => {
      const minuteOfDay = Math.floor((((this.clock.toWallMs(t) % 86_400_000) + 86_400_000) % 86_400_000) / 60_000);
      const hour = minuteOfDay / 60; // UTC, to the minute
      if (this.spec.profile === "flat" || this.rng.chance(diurnal(hour))) this.visit(t);
      this.next(t);
    });
  }

  private visit(t0: number): void {
    const s = this.spec;
    const regular = s.regulars > 0 && this.rng.chance(s.regularShare);
    const person = regular ? this.rng.int(0, s.regulars - 1) : s.regulars + this.oneOff++;
    const leave = t0 + this.rng.exponential(s.dwell) * NS_PER_S;
    const baseRssi = this.rng.uniform(-85, -45);
    if (this.rng.chance(s.wifiShare)) {
      const id = this.rng.chance(s.randomShare) ? 4 * this.randomIds++ + 2 : 4 * person;
      this.probes(id, t0, leave, baseRssi);
    }
    if (this.rng.chance(s.bleShare)) {
      const random = this.rng.chance(s.bleRandomShare);
      const id = random ? 4 * this.randomIds++ + 3 : 4 * person + 1;
      // a private address's remaining life: the device's rotation is not in step with our arrival
      const rotateAt = t0 + this.rng.uniform(0, s.bleRotation) * NS_PER_S;
      this.adverts(id, random, rotateAt, t0, leave, baseRssi);
    }
  }

  /** Wi-Fi probe bursts (1–3 lines, ~30 ms apart, one per channel) from arrival until leaving. */
  private probes(id: number, t: number, leave: number, base: number): void {
    const lines = this.rng.int(1, 3);
    for (let i = 0; i < lines; i++) this.timers.at(t + i * 0.03 * NS_PER_S, () => this.line("wifi", id, base));
    const nextT = t + this.rng.exponential(this.spec.probeInterval) * NS_PER_S;
    if (nextT < leave) this.timers.at(nextT, () => this.probes(id, nextT, leave, base));
  }

  /** BLE advertising reports; a private address is replaced at its rotation time. */
  private adverts(id: number, random: boolean, rotateAt: number, t: number, leave: number, base: number): void {
    let cur = id;
    let rot = rotateAt;
    if (random && t >= rot) {
      cur = 4 * this.randomIds++ + 3;
      rot += this.spec.bleRotation * NS_PER_S;
    }
    this.line("ble", cur, base);
    const nextT = t + this.rng.exponential(this.spec.advInterval) * NS_PER_S;
    if (nextT < leave) this.timers.at(nextT, () => this.adverts(cur, random, rot, nextT, leave, base));
  }

  private line(radio: "wifi" | "ble", id: number, base: number): void {
    const rssi = Math.round(Math.max(-100, Math.min(-30, base + this.rng.normal(0, 4))));
    const address = simProbeAddress(this.seed, this.name, id);
    const line = scannerLine(radio, address, rssi);
    address.fill(0);
    const lost = !this.device.isOpen;
    this.device.emit(line);
    this.truth({ kind: "sighting", scanner: this.name, radio, address: id, random: id % 4 >= 2, rssi, tNs: this.clock.monoNs(), lost });
  }

  /** Line noise: random bytes ended by a newline (so the next line starts clean). */
  garbage(bytes: number): void {
    const b = Buffer.alloc(bytes + 1);
    for (let i = 0; i < bytes; i++) {
      const v = this.rng.int(0, 255);
      b[i] = v === 0x0a ? 0x20 : v;
    }
    b[bytes] = 0x0a;
    this.device.emit(b);
  }
}

/** Time between the reader's repeated frames while a card is in the field, s (RDM6300: ~100 ms). */
const FRAME_INTERVAL_S = 0.1;

/**
 * Card reads at one access-controlled bin: Poisson deposits by residents (uniformly chosen), each
 * card held for a while so the reader repeats its frame, some frames corrupted on the wire.
 * Deposits are spaced by more than the reader's repeat interval so each is one presentation.
 */
export class RfidReaderSim {
  private readonly timers: Timers;
  private lastEndNs = -Infinity;

  constructor(
    private readonly clock: Clock,
    private readonly device: SimSerialDevice,
    private readonly rng: Rng,
    private readonly seed: number,
    private readonly name: string,
    private readonly spec: SimReaderConfig,
    private readonly repeatS: number,
    private readonly truth: (r: DepositTruth | BadFrameTruth) => void,
  ) {
    this.timers = new Timers(clock);
  }

  start(): void {
    this.timers.running = true;
    this.next(this.clock.monoNs());
  }

  stop(): void {
    this.timers.clear();
  }

  private next(afterNs: number): void {
    if (this.spec.depositsPerHour <= 0) return;
    let t = afterNs + this.rng.exponential(3600 / this.spec.depositsPerHour) * NS_PER_S;
    t = Math.max(t, this.lastEndNs + (this.repeatS + 1) * NS_PER_S);
    const user = this.rng.int(0, this.spec.users - 1);
    const frames = Math.max(1, Math.round(Math.max(0.15, this.rng.exponential(this.spec.hold)) / FRAME_INTERVAL_S));
    this.lastEndNs = t + (frames - 1) * FRAME_INTERVAL_S * NS_PER_S;
    let valid = false;
    for (let i = 0; i < frames; i++) {
      const corrupt = this.rng.chance(this.spec.badFrameShare);
      const at = t + i * FRAME_INTERVAL_S * NS_PER_S;
      this.timers.at(at, () => {
        const tag = simTag(this.seed, user);
        const frame = rdm6300Frame(tag, corrupt);
        tag.fill(0);
        const lost = !this.device.isOpen;
        this.device.emit(frame);
        if (corrupt) this.truth({ kind: "bad-frame", reader: this.name, tNs: at });
        else if (!valid) {
          valid = true;
          this.truth({ kind: "deposit", reader: this.name, user, tNs: at, lost });
        }
      });
    }
    this.timers.at(t, () => this.next(t));
  }

  /** Line noise between frames. */
  garbage(bytes: number): void {
    const b = Buffer.alloc(bytes);
    for (let i = 0; i < bytes; i++) b[i] = this.rng.int(0, 255);
    this.device.emit(b);
  }
}

/** Fault kinds the identifier scenario injects itself on its ports. */
const IDENTIFIER_FAULTS = ["garbage", "unplug"] as const;

/** Injected faults on identifier ports: `garbage` (random bytes every second) and `unplug`. */
function scheduleFaults(
  clock: Clock,
  startNs: number,
  faults: readonly SimFault[],
  targets: Map<string, { device: SimSerialDevice; garbage(bytes: number): void }>,
): TimerHandle[] {
  const handles: TimerHandle[] = [];
  for (const f of faults) {
    const target = f.target !== undefined ? targets.get(f.target) : undefined;
    if (!target) continue;
    const at = startNs + f.at * NS_PER_S;
    const end = f.for !== undefined ? at + f.for * NS_PER_S : Infinity;
    if (f.kind === "unplug") {
      handles.push(clock.setTimer(at, () => target.device.unplug()));
      if (end < Infinity) handles.push(clock.setTimer(end, () => target.device.plug()));
    } else if (f.kind === "garbage") {
      const bytes = f.params?.["bytes"] ?? 32;
      const stopAt = end < Infinity ? end : at + 60 * NS_PER_S;
      for (let t = at; t < stopAt; t += NS_PER_S) handles.push(clock.setTimer(t, () => target.garbage(bytes)));
    }
  }
  return handles;
}

/** The seed identifiers are derived from, for a site seed (what tests use to re-derive them). */
export function identifierSeed(siteSeed: number): number {
  return new Rng(siteSeed).fork("identifiers").seed;
}

/** Probe scanners and RFID readers named in `sim.identifiers`. */
export const identifiersScenario: ScenarioFactory = (ctx) => {
  const { config, board } = ctx.loaded;
  const sim = config.sim?.identifiers;
  if (!sim) return undefined;
  const ids = config.identifiers;
  const seed = ctx.rng("identifiers").seed;
  const parts: { start(): void; stop(): void }[] = [];
  const targets = new Map<string, { device: SimSerialDevice; garbage(bytes: number): void }>();
  for (const [name, spec] of Object.entries(sim.scanners)) {
    const sc = ids.scanners[name];
    if (!sc) continue;
    const device = ctx.createSerialDevice(name, resolveSerialPath(board, sc.port.path) ?? sc.port.path, sc.port.baudRate, {
      ownFaults: IDENTIFIER_FAULTS,
    });
    const p = new ProbeScannerSim(ctx.clock, device, ctx.rng(`scanner:${name}`), seed, name, spec, (r) => ctx.truth(r));
    parts.push(p);
    targets.set(name, { device, garbage: (n) => p.garbage(n) });
  }
  for (const [name, spec] of Object.entries(sim.readers)) {
    const rd = ids.readers[name];
    if (!rd) continue;
    const device = ctx.createSerialDevice(name, resolveSerialPath(board, rd.port.path) ?? rd.port.path, rd.port.baudRate, {
      ownFaults: IDENTIFIER_FAULTS,
    });
    const r = new RfidReaderSim(ctx.clock, device, ctx.rng(`reader:${name}`), seed, name, spec, rd.repeat, (t) => ctx.truth(t));
    parts.push(r);
    targets.set(name, { device, garbage: (n) => r.garbage(n) });
  }
  if (parts.length === 0) return undefined;
  let faults: TimerHandle[] = [];
  return {
    name: "identifiers",
    start: () => {
      for (const p of parts) p.start();
      faults = scheduleFaults(ctx.clock, ctx.startNs, ctx.faults, targets);
    },
    stop: () => {
      for (const p of parts) p.stop();
      for (const h of faults) ctx.clock.clearTimer(h);
      faults = [];
    },
  };
};
