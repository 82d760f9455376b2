import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { backoffDelay } from "../clock/backoff.js";
import type { Clock, TimerHandle } from "../clock/clock.js";
import { NS_PER_MS } from "../clock/clock.js";
import type { Logger } from "../log/logger.js";
import type { DigitalInputHandlers, DigitalInputs, DigitalInputSpec, Level, TimestampSource } from "./contract.js";
import { IoError } from "./contract.js";
import type { ChipInfo, GpiodCommands, GpiodVersion, LineGroup } from "./gpiod-tools.js";
import {
  explainToolError,
  GPIOD_COMMANDS,
  gpiogetArgs,
  gpiomonArgs,
  groupLines,
  INSTALL_HINT,
  parseGpiodetect,
  parseGpiodVersion,
  parseGpioget,
  runTool,
} from "./gpiod-tools.js";
import type { GpiomonEvent } from "./gpiomon-parse.js";
import { LineSplitter, parseGpiomonLine } from "./gpiomon-parse.js";

export interface GpioChipInputsOptions {
  /** Label of the chip (gpiodetect), e.g. `pinctrl-rp1`. Chips are found by label: numbers change between kernels. */
  chipLabel: string;
  clock: Clock;
  logger: Logger;
  /** Tool paths; default the names on PATH. */
  commands?: Partial<GpiodCommands>;
  /** Environment of the tools; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Restart backoff (src/clock/backoff.ts) after gpiomon exits: first ceiling and largest, ms. Defaults 500 ms and 30 s. */
  restartMinMs?: number;
  restartMaxMs?: number;
  /** Randomness of the backoff's jitter, [0,1). Default Math.random. */
  random?: () => number;
  /**
   * libgpiod v1 prints nothing when its lines are requested, so a gpiomon still running after this
   * long counts as started. Default 300 ms (a request takes a few ms; a failure exits at once).
   */
  startupMs?: number;
  /** Give up on gpiodetect / gpioget / a v2 banner after this long. Default 5 s. */
  toolTimeoutMs?: number;
}

interface Helper {
  child: ChildProcess;
  group: LineGroup;
  splitter: LineSplitter;
  stderr: string;
  alive: boolean;
  exited: Promise<void>;
}

type State = "closed" | "opening" | "open" | "faulted" | "restarting" | "closing";

/** More than this many seconds of "uptime" means the stamp is CLOCK_REALTIME (kernels before 5.7 stamped uAPI v1 events so). */
const REALTIME_SEC = 1_000_000_000;

/**
 * Digital inputs on a Linux GPIO character device, through `gpiomon` (DESIGN.md "Hardware IO").
 * Edges carry the kernel's timestamp, taken in the interrupt handler on CLOCK_MONOTONIC: the time
 * base of `RealClock.monoNs()`, so they compare directly with everything else.
 *
 * - One gpiomon per group of inputs sharing bias (and debounce, libgpiod v2), since its options
 *   apply to all its lines. Active-low is applied here, not by gpiomon.
 * - Initial levels come from `gpioget` before gpiomon takes the lines (the kernel lets only one
 *   process hold a line).
 * - Dropped edges: neither libgpiod's gpiomon prints the kernel's sequence numbers, so a lost edge
 *   is detected as two edges of the same direction in a row on one line, and reported through
 *   `dropped`. A lost *pair* cannot be seen. On uAPI v1 kernels the direction of an edge is read
 *   from the line after the interrupt, so fast contact bounce also shows up this way.
 * - When gpiomon exits (killed, chip gone), `fault` is called once, and the bank is restarted with
 *   exponential backoff: levels are read again, changed ones reported as a drop plus an edge
 *   stamped at the read, and `restored` is called when gpiomon runs again.
 */
export class GpioChipInputs implements DigitalInputs {
  readonly timestampSource: TimestampSource = "hardware";
  private readonly cmds: GpiodCommands;
  private readonly log: Logger;
  private state: State = "closed";
  private specs: readonly DigitalInputSpec[] = [];
  private handlers: DigitalInputHandlers | undefined;
  private levels: Level[] = [];
  private invert: Uint8Array = new Uint8Array(0);
  /** Line offset → spec index, -1 for lines we did not ask for. */
  private byOffset: Int32Array = new Int32Array(0);
  private helpers: Helper[] = [];
  private version: GpiodVersion | undefined;
  private chip: ChipInfo | undefined;
  private restartTimer: TimerHandle | undefined;
  private attempt = 0;
  private readonly ev: GpiomonEvent = { offset: 0, rising: false, sec: 0, nsec: 0 };
  private warnedRealtime = false;
  /** Bumped by close(): an open or restart that sees it change gives up. */
  private gen = 0;
  /** Lines gpiomon printed that were not edges of our lines. */
  badLines = 0;
  /** Edges detected as lost, all inputs. */
  droppedEdges = 0;
  /** gpiomon restarts after an exit. */
  restarts = 0;

  constructor(private readonly opts: GpioChipInputsOptions) {
    this.cmds = { ...GPIOD_COMMANDS, ...opts.commands };
    this.log = opts.logger.child({ component: "gpiochip" });
  }

  async open(specs: readonly DigitalInputSpec[], handlers: DigitalInputHandlers): Promise<void> {
    if (this.state !== "closed") throw new IoError("EBUSY", `GPIO inputs on ${this.opts.chipLabel} are already open: call close() first`);
    this.state = "opening";
    const gen = this.gen;
    this.specs = specs;
    this.handlers = handlers;
    this.levels = specs.map(() => 0 as Level);
    this.invert = Uint8Array.from(specs, (s) => (s.activeLow ? 1 : 0));
    try {
      this.version = await this.detectVersion();
      this.chip = await this.findChip();
      const maxLine = Math.max(-1, ...specs.map((s) => s.line));
      this.byOffset = new Int32Array(Math.max(this.chip.lines, maxLine + 1)).fill(-1);
      for (let i = 0; i < specs.length; i++) {
        const s = specs[i]!;
        if (s.line < 0 || s.line >= this.chip.lines) {
          throw new IoError(
            "BAD_LINE",
            `input ${s.name}: line ${s.line} does not exist on ${this.chip.name} [${this.chip.label}] (lines 0–${this.chip.lines - 1}); check the board file`,
            { subject: s.name },
          );
        }
        const other = this.byOffset[s.line]!;
        if (other >= 0)
          throw new IoError(
            "BAD_LINE",
            `inputs ${specs[other]!.name} and ${s.name} both use line ${s.line}; give each input its own line`,
            { subject: s.name },
          );
        this.byOffset[s.line] = i;
        if (s.debounceUs > 0 && this.version.major < 2) {
          this.log.warn(
            `input ${s.name}: kernel debounce needs libgpiod v2 (this is ${this.version.text}); debounceUs ${s.debounceUs} is ignored and the software glitch filter does the job`,
          );
        }
      }
      const groups = groupLines(specs, this.version);
      for (const g of groups) await this.readLevels(this.chip, g, false);
      this.checkClosed(gen);
      this.helpers = await this.startHelpers(this.chip, groups);
      this.checkClosed(gen);
      this.state = "open";
      this.log.info(`watching ${specs.length} input(s) on ${this.chip.name} [${this.chip.label}] with ${this.version.text}`);
    } catch (err) {
      await this.killAll();
      if (gen === this.gen) this.state = "closed";
      throw err;
    }
  }

  level(index: number): Level {
    return this.levels[index] ?? 0;
  }

  async close(): Promise<void> {
    if (this.state === "closed") return;
    this.state = "closing";
    this.gen++;
    if (this.restartTimer) this.opts.clock.clearTimer(this.restartTimer);
    this.restartTimer = undefined;
    await this.killAll();
    this.state = "closed";
  }

  // --- events ---

  private onLine(h: Helper, line: string, onBanner?: () => void): void {
    const kind = parseGpiomonLine(line, this.ev);
    if (kind === "event") {
      this.onEvent(this.ev);
      return;
    }
    if (kind === "banner") {
      onBanner?.();
      return;
    }
    if (kind === "blank") return;
    this.badLines++;
    if (this.badLines === 1 || this.badLines % 1000 === 0) {
      this.log.warn(
        `gpiomon (lines ${h.group.offsets.join(", ")}) printed a line that is not an edge (${this.badLines} so far): ${JSON.stringify(line.slice(0, 80))}`,
      );
    }
  }

  private onEvent(e: GpiomonEvent): void {
    if (this.state === "closing" || this.state === "closed") return;
    const index = e.offset < this.byOffset.length ? this.byOffset[e.offset]! : -1;
    if (index < 0) {
      this.badLines++;
      return;
    }
    const tNs = this.stampNs(e);
    const level = ((e.rising ? 1 : 0) ^ this.invert[index]!) as Level;
    if (level === this.levels[index]) {
      // two edges of one direction in a row: the opposite edge between them was lost
      this.droppedEdges++;
      if (this.state !== "opening") this.handlers?.dropped(index, 1, tNs);
      return;
    }
    this.levels[index] = level;
    // before open() resolves the level is only tracked: it is the initial level the caller reads
    if (this.state !== "opening") this.handlers?.edge(index, level, tNs);
  }

  private stampNs(e: GpiomonEvent): number {
    if (e.sec < REALTIME_SEC) return e.sec * 1e9 + e.nsec;
    if (!this.warnedRealtime) {
      this.warnedRealtime = true;
      this.log.warn(
        "gpiomon stamps edges with the wall clock (CLOCK_REALTIME; kernel before 5.7?): edges are mapped to the monotonic clock, and an NTP step will shift them. Update the kernel for monotonic stamps.",
      );
    }
    return this.opts.clock.toMonoNs(e.sec * 1000 + e.nsec / NS_PER_MS);
  }

  // --- tools ---

  private env(): NodeJS.ProcessEnv {
    return this.opts.env ?? process.env;
  }

  private async detectVersion(): Promise<GpiodVersion> {
    const r = await runTool(this.cmds.gpiomon, ["--version"], { env: this.env(), timeoutMs: this.opts.toolTimeoutMs ?? 5000 });
    const v = parseGpiodVersion(r.stdout);
    if (!v)
      throw new IoError(
        "EIO",
        `cannot tell the libgpiod version from \`${this.cmds.gpiomon} --version\` (${JSON.stringify(r.stdout.slice(0, 80))}); ${INSTALL_HINT}`,
      );
    return v;
  }

  private async findChip(): Promise<ChipInfo> {
    const r = await runTool(this.cmds.gpiodetect, [], { env: this.env(), timeoutMs: this.opts.toolTimeoutMs ?? 5000 });
    const chips = parseGpiodetect(r.stdout);
    const chip = chips.find((c) => c.label === this.opts.chipLabel);
    if (chip) return chip;
    const seen = chips.map((c) => `${c.name} [${c.label}]`).join(", ");
    if (chips.length === 0) {
      const why = r.stderr.trim() ? ` (${r.stderr.trim().split("\n")[0]})` : "";
      throw new IoError(
        "ENODEV",
        `no GPIO chips found${why}; this needs a Linux board with /dev/gpiochip* readable by this user (group gpio)`,
      );
    }
    throw new IoError(
      "ENODEV",
      `no GPIO chip labelled ${this.opts.chipLabel} (found: ${seen}); check gpio.chipLabel in the board file or device.board in the config`,
    );
  }

  /** Read a group's levels with gpioget; when `report`, changed levels become drop + edge (after a restart). */
  private async readLevels(chip: ChipInfo, g: LineGroup, report: boolean): Promise<void> {
    const r = await runTool(this.cmds.gpioget, gpiogetArgs(this.version!, chip.name, g), {
      env: this.env(),
      timeoutMs: this.opts.toolTimeoutMs ?? 5000,
    });
    const raw = r.code === 0 ? parseGpioget(r.stdout, g.offsets.length) : undefined;
    if (!raw) {
      const { code, hint } = explainToolError(r.stderr);
      const names = g.indexes.map((i) => this.specs[i]!.name).join(", ");
      throw new IoError(
        code,
        `cannot read inputs ${names} (lines ${g.offsets.join(", ")} on ${chip.name}): ${r.stderr.trim().split("\n")[0] || `gpioget printed ${JSON.stringify(r.stdout.slice(0, 60))}`}; ${hint}`,
        {
          subject: this.specs[g.indexes[0]!]?.name,
        },
      );
    }
    const now = this.opts.clock.monoNs();
    g.indexes.forEach((index, k) => {
      const level = (raw[k]! ^ this.invert[index]!) as Level;
      if (report && level !== this.levels[index]) {
        this.droppedEdges++;
        this.levels[index] = level;
        this.handlers?.dropped(index, 1, now);
        this.handlers?.edge(index, level, now);
      }
      this.levels[index] = level;
    });
  }

  private async startHelpers(chip: ChipInfo, groups: readonly LineGroup[]): Promise<Helper[]> {
    const started: Helper[] = [];
    try {
      for (const g of groups) started.push(await this.spawnHelper(chip, g));
    } catch (err) {
      await Promise.all(started.map((h) => this.kill(h)));
      throw err;
    }
    return started;
  }

  private spawnHelper(chip: ChipInfo, g: LineGroup): Promise<Helper> {
    const v = this.version!;
    const args = gpiomonArgs(v, chip.name, g);
    const names = g.indexes.map((i) => this.specs[i]!.name).join(", ");
    return new Promise((resolve, reject) => {
      const child = spawn(this.cmds.gpiomon, args, { stdio: ["ignore", "pipe", "pipe"], env: this.env() });
      let ready = false;
      let startTimer: NodeJS.Timeout | undefined;
      let exitResolve: () => void = () => {};
      const h: Helper = {
        child,
        group: g,
        splitter: undefined as unknown as LineSplitter,
        stderr: "",
        alive: true,
        exited: new Promise<void>((r) => (exitResolve = r)),
      };
      const becomeReady = (): void => {
        if (ready) return;
        ready = true;
        if (startTimer) clearTimeout(startTimer);
        resolve(h);
      };
      h.splitter = new LineSplitter((line) => this.onLine(h, line, becomeReady));
      child.stdout!.on("data", (d: Buffer) => h.splitter.push(d));
      child.stderr!.on("data", (d: Buffer) => {
        h.stderr = (h.stderr + d.toString("latin1")).slice(-2000);
      });
      child.once("error", (err: NodeJS.ErrnoException) => {
        if (ready) return;
        ready = true;
        if (startTimer) clearTimeout(startTimer);
        reject(
          err.code === "ENOENT"
            ? new IoError("ENOENT", `${this.cmds.gpiomon} is not installed or not on PATH; ${INSTALL_HINT}`)
            : new IoError("EIO", `cannot run gpiomon: ${err.message}`),
        );
      });
      child.once("close", (code, signal) => {
        h.alive = false;
        h.splitter.flush();
        exitResolve();
        if (!ready) {
          ready = true;
          if (startTimer) clearTimeout(startTimer);
          const { code: c, hint } = explainToolError(h.stderr);
          reject(
            new IoError(
              c,
              `gpiomon could not watch inputs ${names} (lines ${g.offsets.join(", ")} on ${chip.name}): ${h.stderr.trim().split("\n").pop() || `exit ${code ?? signal}`}; ${hint}`,
              { subject: this.specs[g.indexes[0]!]?.name },
            ),
          );
          return;
        }
        this.helperExited(h, code, signal);
      });
      // v1 prints nothing on success: still running after startupMs means the request worked.
      // v2 prints its banner; if it never does, fall back to the same rule after the tool timeout.
      startTimer = setTimeout(becomeReady, v.major >= 2 ? (this.opts.toolTimeoutMs ?? 5000) : (this.opts.startupMs ?? 300));
    });
  }

  private helperExited(h: Helper, code: number | null, signal: NodeJS.Signals | null): void {
    // closing, a restart in progress (it checks liveness itself), or a helper already replaced
    if (this.state !== "open" || !this.helpers.includes(h)) return;
    this.state = "faulted";
    const names = h.group.indexes.map((i) => this.specs[i]!.name).join(", ");
    const last = h.stderr.trim().split("\n").pop();
    const err = new IoError(
      "HELPER_EXIT",
      `gpiomon watching ${names} exited (${signal ? `signal ${signal}` : `code ${code}`})${last ? `: ${last}` : ""}; edges are lost until it restarts. Check dmesg and \`gpiodetect\` if this repeats.`,
      { subject: this.specs[h.group.indexes[0]!]?.name, disconnected: true },
    );
    this.log.error(err.message);
    this.handlers?.fault(err);
    void this.killAll().then(() => this.scheduleRestart());
  }

  private scheduleRestart(): void {
    if (this.state !== "faulted") return;
    const min = this.opts.restartMinMs ?? 500;
    const max = this.opts.restartMaxMs ?? 30_000;
    const wait = backoffDelay(this.attempt++, min, max, this.opts.random ?? Math.random);
    const clock = this.opts.clock;
    this.restartTimer = clock.setTimer(clock.monoNs() + wait * NS_PER_MS, () => {
      this.restartTimer = undefined;
      void this.restart();
    });
  }

  private async restart(): Promise<void> {
    if (this.state !== "faulted") return;
    this.state = "restarting";
    const gen = this.gen;
    try {
      const chip = await this.findChip();
      this.checkClosed(gen);
      const groups = groupLines(this.specs, this.version!);
      for (const g of groups) await this.readLevels(chip, g, true);
      this.checkClosed(gen);
      const helpers = await this.startHelpers(chip, groups);
      this.helpers = helpers;
      this.checkClosed(gen);
      if (helpers.some((h) => !h.alive)) throw new IoError("HELPER_EXIT", "gpiomon exited again right after its restart");
      this.chip = chip;
      this.state = "open";
      this.attempt = 0;
      this.restarts++;
      this.log.info(`gpiomon restarted; watching ${this.specs.length} input(s) on ${chip.name} [${chip.label}] again`);
      this.handlers?.restored();
    } catch (err) {
      if (gen !== this.gen) {
        await this.killAll();
        return;
      }
      await this.killAll();
      this.state = "faulted";
      this.log.warn(`gpiomon restart failed (${(err as Error).message}); trying again`);
      this.scheduleRestart();
    }
  }

  private checkClosed(gen: number): void {
    if (gen !== this.gen) throw new IoError("ECANCELED", "GPIO inputs were closed while opening");
  }

  private async killAll(): Promise<void> {
    const hs = this.helpers;
    this.helpers = [];
    await Promise.all(hs.map((h) => this.kill(h)));
  }

  /** SIGTERM, then SIGKILL if gpiomon has not gone within 2 s. */
  private async kill(h: Helper): Promise<void> {
    if (!h.alive) return;
    h.child.kill("SIGTERM");
    const t = setTimeout(() => h.child.kill("SIGKILL"), 2000);
    await h.exited;
    clearTimeout(t);
  }
}
