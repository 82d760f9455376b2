import type { Clock } from "./clock/clock.js";
import { NS_PER_MS } from "./clock/clock.js";
import { RealClock } from "./clock/real.js";
import type { Ticker } from "./clock/windows.js";
import { WindowScheduler } from "./clock/windows.js";
import type { Summary } from "./aggregate/summary.js";
import { Checkpointer, planRecovery } from "./aggregate/checkpoint.js";
import type { LoadedConfig } from "./config/load.js";
import type { CommandHooks } from "./control/commands.js";
import { Commands } from "./control/commands.js";
import { HealthRegistry } from "./control/health.js";
import type { HealthReport } from "./control/health-report.js";
import { buildHealthReport } from "./control/health-report.js";
import { Heartbeat } from "./control/heartbeat.js";
import type { Manifest } from "./control/manifest.js";
import { buildManifest } from "./control/manifest.js";
import type { CommandVerifier } from "./control/index.js";
import type { SystemProbe } from "./control/system.js";
import { linuxSystemProbe } from "./control/system.js";
import type { Feature, FeatureContext, FeatureFactory } from "./features/index.js";
import { FEATURES } from "./features/index.js";
import type {
  DigitalInputs,
  DigitalInputSpec,
  Level,
  SerialHandlers,
  SerialOpenOptions,
  SerialPortLink,
  SerialSpec,
} from "./io/contract.js";
import { IoError } from "./io/contract.js";
import { InputRouter } from "./io/input-router.js";
import type { IoPlugin } from "./io/io-plugin.js";
import type { Logger } from "./log/logger.js";
import { MqttSession } from "./mqtt/session.js";
import type { MqttSessionOptions, SessionState } from "./mqtt/session.js";
import type { OpenWindow, Outbox, OutboxMessage } from "./outbox/outbox.js";
import { SCHEMA_VERSION, BudgetWidening, ByteBudget, Publisher, Topics } from "./publish/index.js";
import { redactUrl } from "./mqtt/secrets.js";

export interface DeviceDeps {
  clock: Clock;
  /**
   * Real time, for waits on the broker (the drain at stop): the network does not speed up when
   * `clock` is virtual, and a virtual clock stands still once a simulation ends. Default a RealClock.
   */
  realClock?: Clock;
  logger: Logger;
  /** Digital inputs of the board (GPIO character device, johnny-five, simulator). */
  inputs: DigitalInputs;
  /** Makes a serial port link (serialport over the hardware binding, or the simulator's). */
  serial?: () => SerialPortLink;
  /** The board's johnny-five IO plugin, if any (for I²C sensors). */
  ioPlugin?: IoPlugin;
  /** Receives every analog sample the sensors read (the trace recorder's `analog`). */
  onAnalog?: (name: string, volts: number, tNs: number) => void;
  outbox: Outbox;
  /** Broker URL (the config's, or the embedded broker's). */
  brokerUrl: string;
  /** Makes the ticker that closes windows in real time (node-cron). Omit in virtual time. */
  ticker?: () => Ticker;
  /** Software version for the manifest. */
  version?: string;
  /** Features to build; default FEATURES (tests pass fewer). */
  features?: readonly FeatureFactory[];
  /** Observers, e.g. the on-screen printer and tests. */
  onCommitted?: (messages: OutboxMessage[], summaries: Summary[]) => void;
  onDelivered?: (message: OutboxMessage) => void;
  onMqttState?: (state: SessionState, detail?: string) => void;
  /** Every raw edge as the backend delivered it (for `--record`). */
  onEdge?: (input: string, level: Level, tNs: number) => void;
  /** MQTT session settings (TLS material, backoff; tests shorten them). */
  mqtt?: Partial<
    Pick<MqttSessionOptions, "backoffMinMs" | "backoffMaxMs" | "maxInFlight" | "connectOptions" | "random" | "stableMs" | "setTimer">
  >;
  /** Folder of the outbox: the heartbeat reports its disk's free space. */
  stateDir?: string;
  /** CPU temperature and disk readings. Default: Linux files (config health.cpuTempFile, statfs). */
  system?: SystemProbe;
  /** Monotonic instant the process started, so uptime spans config reloads. Default: construction. */
  startedNs?: number;
  /** Shown in health when a damaged outbox was replaced at start. */
  outboxRecovered?: string;
  /** Remote control: signature checks, and what only the host process can do (apply a config, restart). */
  control?: {
    verifier?: CommandVerifier;
    applyConfig?: CommandHooks["applyConfig"];
    restart?: CommandHooks["restart"];
    /** Command rate limit (tests raise it). */
    rate?: { perS: number; burst: number };
  };
}

/**
 * One device, wired from a validated config (DESIGN.md "The flow"): board inputs → drivers →
 * windowed aggregators → publisher → outbox → MQTT. Constructing does no I/O: it builds the
 * features, which claim their inputs and register their aggregators. `start` opens the inputs,
 * starts each feature in its own error boundary, opens the first windows and connects; `stop`
 * closes the open windows (published as partial, so nothing accepted is lost), releases the
 * hardware and disconnects.
 */
export class Device {
  readonly topics: Topics;
  readonly session: MqttSession;
  readonly health = new HealthRegistry();
  private readonly schedulers = new Map<number, WindowScheduler>();
  private readonly publisher: Publisher;
  /** The monthly byte budget (undefined without `publish.budget`). */
  readonly budget: ByteBudget | undefined;
  /** The windows the budget widens. */
  private readonly widening: BudgetWidening;
  /** The configured inputs with a board line, and the feature that claimed each. */
  private readonly inputs: InputRouter;
  private readonly features: Feature[] = [];
  private readonly running = new Set<Feature>();
  private readonly serialLinks: SerialPortLink[] = [];
  private readonly log: Logger;
  /** Checkpoints of open windows (undefined when `outbox.checkpointInterval` is 0). */
  private readonly checkpointer: Checkpointer | undefined;
  private started = false;
  private readonly heartbeat: Heartbeat;
  /** Remote commands (undefined when control.commands is false). */
  readonly commands: Commands | undefined;
  /** Features that failed to start (a config that leaves any is rolled back when applied remotely). */
  readonly failedFeatures: string[] = [];
  private readonly startedNs: number;
  private clockJumps = 0;
  private unJump: (() => void) | undefined;

  constructor(
    private readonly loaded: LoadedConfig,
    private readonly deps: DeviceDeps,
  ) {
    const { config } = loaded;
    this.log = deps.logger.child({ device: config.device.id });
    this.topics = new Topics(config.mqtt.prefix, config.device.id);
    this.startedNs = deps.startedNs ?? deps.clock.monoNs();
    this.publisher = this.createPublisher();
    this.widening = new BudgetWidening(this.log);
    this.budget = this.createBudget();
    this.session = this.createSession();
    this.heartbeat = this.createHeartbeat();
    this.commands = config.control.commands ? this.createCommands() : undefined;
    this.inputs = new InputRouter(this.inputSpecs(), deps.inputs, this.log);
    this.checkpointer = this.createCheckpointer();
    this.buildFeatures();
  }

  private createPublisher(): Publisher {
    const { config } = this.loaded;
    const deps = this.deps;
    return new Publisher({
      deviceId: config.device.id,
      topics: this.topics,
      encoding: config.publish.encoding,
      profile: config.publish.profile,
      outbox: deps.outbox,
      logger: this.log,
      clock: deps.clock,
      ...(config.outbox.expireAfter !== undefined ? { expireAfterS: config.outbox.expireAfter } : {}),
      onCommitted: (msgs, sums) => {
        deps.onCommitted?.(msgs, sums);
        this.session.kick();
        if (this.budget && sums.length > 0) this.widening.apply(this.budget.evaluate());
      },
    });
  }

  /** The monthly byte budget of `publish.budget`, kept in the outbox (undefined without one). */
  private createBudget(): ByteBudget | undefined {
    const b = this.loaded.config.publish.budget;
    const deps = this.deps;
    return b
      ? new ByteBudget({
          monthlyBytes: b.monthlyBytes,
          resetDay: b.resetDay,
          wallMs: () => deps.clock.wallMs(),
          store: deps.outbox,
          windows: () => this.widening.windows(),
        })
      : undefined;
  }

  private createSession(): MqttSession {
    const { config } = this.loaded;
    const deps = this.deps;
    const budget = this.budget;
    return new MqttSession({
      url: deps.brokerUrl,
      clientId: config.mqtt.clientId ?? `roadside-${config.device.id}`,
      protocol: config.mqtt.protocol,
      keepaliveS: config.mqtt.keepaliveS,
      statusTopic: this.topics.status(),
      outbox: deps.outbox,
      logger: this.log,
      backoffMinMs: config.mqtt.backoffMin * 1000,
      backoffMaxMs: config.mqtt.backoffMax * 1000,
      maxInFlight: config.mqtt.maxInFlight,
      clock: deps.clock,
      ...(deps.mqtt ?? {}),
      ...(deps.onDelivered ? { onDelivered: deps.onDelivered } : {}),
      ...(budget ? { onWire: (n: number) => budget.add(n) } : {}),
      onOnline: async (session) => {
        // a heartbeat at every connect, taken before the drain starts: it tells the outage's backlog and drops
        const report = config.health.interval > 0 ? this.healthReport() : undefined;
        this.commands?.online();
        await session.publish(this.topics.manifest(), JSON.stringify(this.manifest()), {
          qos: 1,
          retain: true,
          properties: { contentType: "application/json" },
        });
        if (report) await this.heartbeat.publishNow(report);
      },
      onState: (s, d) => {
        const url = redactUrl(deps.brokerUrl);
        if (s === "connected") this.log.info(`connected to ${url}${d ? ` (${d})` : ""}`);
        else if (s === "disconnected" && this.session.stats().connects > 0)
          this.log.warn(`lost the broker ${url}; summaries are kept in the outbox until it is back`);
        deps.onMqttState?.(s, d);
      },
    });
  }

  private createHeartbeat(): Heartbeat {
    const { config } = this.loaded;
    return new Heartbeat({
      clock: this.deps.clock,
      session: this.session,
      topics: this.topics,
      logger: this.log,
      intervalS: config.health.interval,
      ...(config.publish.profile === "cellular" ? { changesOnlyEveryS: config.publish.healthEvery } : {}),
      report: () => this.healthReport(),
    });
  }

  /** Remote commands (only with `control.commands`). */
  private createCommands(): Commands {
    const { config } = this.loaded;
    const deps = this.deps;
    const ctl = deps.control ?? {};
    const verifier = ctl.verifier;
    // the nonce a signed command may be bound to, and whether the replay counter can be read
    if (verifier) this.health.register("control", () => verifier.status());
    const hooks: CommandHooks = {
      publishHealth: () => this.heartbeat.publishNow(),
      uptimeS: () => (deps.clock.monoNs() - this.startedNs) / 1e9,
      wallMs: () => deps.clock.wallMs(),
    };
    if (ctl.applyConfig) hooks.applyConfig = ctl.applyConfig;
    if (ctl.restart) hooks.restart = ctl.restart;
    return new Commands({
      session: this.session,
      topics: this.topics,
      logger: this.log,
      current: this.loaded,
      maxBytes: config.control.maxCommandBytes,
      verifier: ctl.verifier,
      hooks,
      ...(ctl.rate ? { rate: ctl.rate } : {}),
    });
  }

  /** The input specs of the configured inputs that have a board line. */
  private inputSpecs(): DigitalInputSpec[] {
    const { config, lines } = this.loaded;
    const specs: DigitalInputSpec[] = [];
    for (const [name, input] of Object.entries(config.inputs)) {
      const line = lines.get(name);
      if (line) specs.push({ name, line: line.line, bias: input.bias, activeLow: input.activeLow, debounceUs: input.debounceUs });
    }
    return specs;
  }

  /** Checkpoints of open windows (undefined when `outbox.checkpointInterval` is 0). */
  private createCheckpointer(): Checkpointer | undefined {
    const every = this.loaded.config.outbox.checkpointInterval;
    return every > 0
      ? new Checkpointer({
          clock: this.deps.clock,
          intervalS: every,
          store: this.deps.outbox,
          topic: (kind, name) => this.topics.stream(kind, name),
          logger: this.log,
        })
      : undefined;
  }

  /** Builds the features (they claim inputs and register aggregators), then hooks the publisher and the budget to their windows. */
  private buildFeatures(): void {
    const ctx = this.context();
    for (const factory of this.deps.features ?? FEATURES) {
      const f = factory(ctx);
      if (f) this.features.push(f);
    }
    // the publisher commits each window's batch after every aggregator of that length has finalised
    for (const s of this.schedulers.values()) s.add(this.publisher.listener(() => s.current()));
    if (this.budget) {
      // identifier-derived streams keep their window length (their key lifetime) whatever the budget
      const fixed = new Set((this.manifest().privacy?.sources ?? []).map((src) => src.windowS));
      this.budget.setMaxLevel(this.widening.take(this.schedulers, fixed));
    }
  }

  /** The health report now (docs/payloads.md "Health"). */
  healthReport(): HealthReport {
    const d = this.deps;
    const { config } = this.loaded;
    const system = d.system ?? linuxSystemProbe(config.health.cpuTempFile);
    const wallMs = d.clock.wallMs();
    this.session.countWire();
    return buildHealthReport({
      device: config.device.id,
      version: d.version ?? "0.0.0",
      configHash: this.loaded.hash,
      wallMs,
      synced: d.clock.synced,
      uptimeS: (d.clock.monoNs() - this.startedNs) / 1e9,
      outbox: d.outbox.stats(),
      ...(d.outboxRecovered !== undefined ? { recovered: d.outboxRecovered } : {}),
      mqtt: this.session.stats(),
      clockJumps: this.clockJumps,
      cpuTempC: system.cpuTempC(),
      disk: d.stateDir !== undefined ? system.disk(d.stateDir) : null,
      commands: this.commands?.counters ?? { received: 0, rejected: 0, rateLimited: 0 },
      ...(this.budget ? { budget: this.budget.report() } : {}),
      sections: this.health.snapshot(),
    });
  }

  private context(): FeatureContext {
    return {
      loaded: this.loaded,
      clock: this.deps.clock,
      logger: this.log,
      health: this.health,
      topics: this.topics,
      ioPlugin: this.deps.ioPlugin,
      onAnalog: this.deps.onAnalog,
      // a widened window says so in its data (docs/payloads.md "The SenML envelope"), in either profile
      summaries: (sums) =>
        this.publisher.accept(
          sums.map((x) => (x.window.widened ? { ...x, measures: [...x.measures, { n: "budget", vs: "widened" }] } : x)),
        ),
      alarm: this.publisher.alarm,
      checkpoint: (kind, source) => this.checkpointer?.register(kind, source),
      windows: (lengthS) => {
        let s = this.schedulers.get(lengthS);
        if (!s) {
          if (this.started) throw new Error("window schedulers must be created while the device is built");
          s = new WindowScheduler({ clock: this.deps.clock, lengthS, ...(this.deps.ticker ? { ticker: this.deps.ticker() } : {}) });
          this.schedulers.set(lengthS, s);
        }
        return s;
      },
      claimInput: (name, onEdge, onDropped) => this.inputs.claim(name, onEdge, onDropped),
      openSerial: async (spec: SerialSpec, handlers: SerialHandlers, opts?: SerialOpenOptions) => {
        if (!this.deps.serial)
          throw new IoError("ENOTSUP", `serial port ${spec.name}: this device was started without serial support`, { subject: spec.name });
        const link = this.deps.serial();
        await link.open(spec, handlers, opts);
        this.serialLinks.push(link);
        return link;
      },
    };
  }

  /** The transparency record, from the config and what each feature says it publishes. */
  manifest(): Manifest {
    return buildManifest(this.loaded, {
      version: this.deps.version ?? "0.0.0",
      topics: this.topics,
      payloadSchema: SCHEMA_VERSION,
      streams: this.features.flatMap((f) => f.manifest?.() ?? []),
    });
  }

  async start(): Promise<void> {
    if (this.started) throw new Error("device already started");
    this.started = true;
    const d = this.deps;
    for (const name of this.inputs.unclaimed()) {
      this.log.warn(`input ${name} is configured but no detector or sensor uses it; its edges are ignored`);
    }
    // connected while the inputs and features start; manifest, heartbeat and outbox wait for session.start()
    this.session.open();
    try {
      await this.inputs.open(d.onEdge);
    } catch (err) {
      await this.session.stop(); // `offline`: the device announced itself and could not start
      throw err;
    }
    for (const f of this.features) {
      try {
        await f.start?.();
        this.running.add(f);
      } catch (err) {
        // one broken feature must not take the device down (zigbee2mqtt's extension boundary)
        this.log.error(`${f.name} could not start and is disabled until restart: ${(err as Error).message}`, { feature: f.name });
        this.failedFeatures.push(f.name);
      }
    }
    this.recoverCrash();
    if (this.budget) this.widening.apply(this.budget.level()); // widened earlier this month (a restart keeps it)
    for (const s of this.schedulers.values()) s.start();
    this.recordOpen(true);
    this.checkpointer?.start();
    this.unJump = d.clock.onJump(() => this.clockJumps++);
    this.commands?.start();
    this.session.start();
    this.heartbeat.start();
    this.log.info(
      `started: ${[...this.running].map((f) => f.name).join(", ") || "no features"}; ${this.inputs.specs.length} input(s); windows ${[...this.schedulers.keys()].map((l) => `${l}s`).join(", ") || "none"}`,
    );
  }

  /**
   * Windows open when the previous process died (docs/delivery.md "Crashes mid-window"): those with a
   * checkpoint are published from it (partial, `recovered`), the others become losses of their stream
   * (from their start to now, cause `crash`), reported in the stream's next message and counted in
   * health. A failing disk is logged; the records stay and are accounted at the next start.
   */
  private recoverCrash(): void {
    const { outbox, clock } = this.deps;
    try {
      const rec = outbox.crashRecord?.();
      if (!rec || rec.open.length === 0) {
        if (rec && rec.checkpoints.length > 0) this.publisher.settleCrash([], []); // stale: clear them
        return;
      }
      const windows = new Map<string, number>();
      for (const st of this.features.flatMap((f) => f.manifest?.() ?? [])) if (st.windowS !== undefined) windows.set(st.topic, st.windowS);
      const plan = planRecovery(rec, clock.wallMs(), (topic) => windows.get(topic));
      this.publisher.settleCrash(plan.losses, plan.recovered);
      const lost = plan.losses.reduce((n, l) => n + l.count, 0);
      this.log.warn(
        `roadside last stopped without closing its windows (crash or power cut): ${plan.recovered.length} window(s) recovered from their checkpoints and published as partial, ${lost} lost; the next message of each stream (with publish.profile cellular: of …/window) reports what was lost`,
      );
    } catch (err) {
      this.log.error(`cannot account for windows open at the last crash: ${(err as Error).message}`);
    }
  }

  /**
   * Record (or clear) the window now open on every windowed stream, so that a crash before the
   * stream's first commit is accounted for too. Later windows are recorded with each commit.
   */
  private recordOpen(open: boolean): void {
    const windows: OpenWindow[] = [];
    for (const st of this.features.flatMap((f) => f.manifest?.() ?? [])) {
      if (st.windowS === undefined) continue;
      windows.push({ topic: st.topic, fromMs: open ? this.schedulers.get(st.windowS)?.current()?.startWallMs : undefined });
    }
    if (windows.length === 0) return;
    try {
      this.deps.outbox.commit([], windows);
    } catch (err) {
      this.log.error(`cannot record the open windows in the outbox: ${(err as Error).message}`);
    }
  }

  /** Wait until the outbox is empty or `timeoutMs` passes. Resolves with the depth left. */
  async drained(timeoutMs: number): Promise<number> {
    const clock = this.deps.realClock ?? new RealClock();
    const end = clock.monoNs() + timeoutMs * NS_PER_MS;
    for (;;) {
      const depth = this.deps.outbox.stats().depth;
      const linked = this.session.state === "connected" || this.session.state === "connecting";
      if (depth === 0 || clock.monoNs() >= end || !linked) return depth;
      await new Promise<void>((r) => clock.setTimer(clock.monoNs() + 20 * NS_PER_MS, r));
    }
  }

  /**
   * Close open windows (published as partial), stop features and inputs, give the broker up to
   * `drainTimeoutMs` to take what is pending (the rest stays in the outbox), disconnect.
   */
  async stop(drainTimeoutMs = 3000): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.heartbeat.stop();
    this.unJump?.();
    for (const f of [...this.running].reverse()) {
      try {
        await f.stop?.();
      } catch (err) {
        this.log.warn(`${f.name} did not stop cleanly: ${(err as Error).message}`);
      }
    }
    this.running.clear();
    this.checkpointer?.stop();
    for (const s of this.schedulers.values()) s.stop();
    this.recordOpen(false); // stopped cleanly: every window was published (partial), none is open
    for (const link of this.serialLinks.splice(0)) await link.close();
    await this.inputs.close();
    const left = await this.drained(drainTimeoutMs);
    if (left > 0) this.log.warn(`${left} message(s) not yet delivered stay in the outbox for the next start`);
    await this.session.stop();
  }
}
