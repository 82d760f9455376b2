import type { Clock } from "../clock/clock.js";
import { VirtualClock } from "../clock/virtual.js";
import type { LoadedConfig } from "../config/load.js";
import { GenericFaults, scheduleFaults } from "./faults.js";
import { SimBoard } from "./io-plugin.js";
import { identifiersScenario } from "./identifiers.js";
import { Rng } from "./rng.js";
import type { ScenarioFactory, SimContext, SimScenario, TruthRecord } from "./scenario.js";
import type { SimSerialDevice } from "./serial.js";
import { SimSerialBus } from "./serial.js";
import { binsScenario } from "./bins.js";
import { sewerScenario } from "./sewer.js";
import { trafficScenario } from "./traffic.js";

/** Every scenario the simulator knows, in start order. Add new signal sources here. */
export const SCENARIOS: readonly ScenarioFactory[] = [trafficScenario, sewerScenario, binsScenario, identifiersScenario];

export interface SimSiteOptions {
  clock: Clock;
  /** Overrides the config's sim.seed. */
  seed?: number;
  /** Ground truth, as it happens. */
  onTruth?: (record: TruthRecord) => void;
  /** Scenarios to build; default SCENARIOS. */
  scenarios?: readonly ScenarioFactory[];
  /** Something the run cannot simulate (said once). Default: ignored. */
  onWarn?: (message: string) => void;
}

/**
 * The simulated hardware of one device, built from its config: the simulated board (a johnny-five
 * IO plugin), the simulated serial bus (a serialport binding), the scenarios that drive them and the
 * generic faults of `sim.faults`. The device under test sees only the board and the bus, exactly as
 * it would see real hardware.
 */
export class SimSite {
  readonly board: SimBoard;
  readonly serial: SimSerialBus;
  readonly seed: number;
  readonly scenarios: SimScenario[] = [];
  /** Simulated serial sensors by config port name (what faults and traces call them). */
  readonly ports = new Map<string, SimSerialDevice>();
  private readonly faults: GenericFaults;
  private started = false;

  constructor(loaded: LoadedConfig, opts: SimSiteOptions) {
    const { lines } = loaded;
    this.seed = opts.seed ?? loaded.config.sim?.seed ?? 1;
    this.board = new SimBoard(Math.max(28, ...[...lines.values()].map((l) => l.line + 1)));
    const clock = opts.clock;
    // in virtual time, let the stream deliver serial bytes before the clock moves on
    this.serial = new SimSerialBus(clock instanceof VirtualClock ? () => clock.yieldSoon() : () => {});
    const root = new Rng(this.seed);
    const faults = loaded.config.sim?.faults ?? [];
    const startNs = clock.monoNs();
    const truth = opts.onTruth ?? (() => {});
    const ownFaults = new Map<string, Set<string>>();
    const ctx: SimContext = {
      loaded,
      clock,
      rng: (label) => root.fork(label),
      board: this.board,
      serial: this.serial,
      truth,
      faults,
      startNs,
      createSerialDevice: (port, path, baudRate, o) => {
        if (this.ports.has(port)) throw new Error(`a simulated serial sensor named ${port} already exists`);
        const dev = this.serial.createDevice(path, baudRate);
        this.ports.set(port, dev);
        if (o?.ownFaults) ownFaults.set(port, new Set(o.ownFaults));
        return dev;
      },
      faultsOf: (kinds) => scheduleFaults(faults, startNs, kinds),
    };
    for (const f of opts.scenarios ?? SCENARIOS) {
      const s = f(ctx);
      if (s) this.scenarios.push(s);
    }
    const warned = new Set<string>();
    this.faults = new GenericFaults({
      clock,
      faults,
      startNs,
      ports: this.ports,
      ownFaults,
      rng: (label) => root.fork(label),
      truth,
      warn: (m) => {
        if (warned.has(m)) return;
        warned.add(m);
        opts.onWarn?.(m);
      },
    });
  }

  /** Start the scenarios and arm the faults. Throws `sim.faults[i].target: …` for a fault with nothing to act on. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.faults.start();
    for (const s of this.scenarios) s.start();
  }

  stop(): void {
    if (!this.started) return;
    this.started = false;
    this.faults.stop();
    for (const s of this.scenarios) s.stop();
  }
}
