import { closeSync, copyFileSync, existsSync, fsyncSync, openSync, renameSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import type { Clock } from "../clock/clock.js";
import { NS_PER_MS } from "../clock/clock.js";
import type { LoadedConfig } from "../config/load.js";
import type { Logger } from "../log/logger.js";
import type { CommandReply, CommandRequest, ConfigCandidate } from "./commands.js";

/**
 * Exit code asking the service manager for a restart (sysexits.h EX_TEMPFAIL). systemd restarts on
 * it with `Restart=always` (the unit `roadside install` writes), `Restart=on-failure` or `RestartForceExitStatus=75`.
 */
export const RESTART_EXIT_CODE = 75;

/**
 * What the supervisor needs of a running device to tell whether it came up and to answer a command.
 * src/runtime.ts's Device has it; the supervisor does not import runtime.ts (it sits below it).
 */
export interface SupervisedDevice {
  /** Features that threw on start. */
  readonly failedFeatures: readonly string[];
  readonly session: { readonly state: string; stats(): { lastError: string | null } };
  readonly commands: { reply(req: CommandRequest, body: CommandReply): Promise<void> } | undefined;
}

/** One running device built from one config: the Device and whatever hardware it was given. */
export interface Generation {
  device: SupervisedDevice;
  /** Stop the device (windows closed as partial, nothing lost) and release its hardware. */
  stop(): Promise<void>;
}

/** What a generation is given so its commands can reach the supervisor. */
export interface SupervisorHooks {
  applyConfig: (candidate: ConfigCandidate, req: CommandRequest) => void;
  restart: (req: CommandRequest) => void;
}

export interface SupervisorOptions {
  initial: LoadedConfig;
  /** The config file a successful apply replaces (its old text kept as `.prev`). */
  configPath: string;
  /** Build and start a device from a config. Throws if it cannot start. */
  build: (loaded: LoadedConfig, hooks: SupervisorHooks) => Promise<Generation>;
  logger: Logger;
  /** Times the wait for a new config to come up (the process's real clock). */
  clock: Clock;
  /** The process should end with this code (restart requested, or no config could be brought up). */
  onExit: (code: number, why: string) => void;
  /** Poll interval while waiting for a new config to come up, ms. Default 50. */
  pollMs?: number;
}

/**
 * Keeps one device generation running in `roadside run` and replaces it on a signed `config`
 * command: stop the running device (its open windows are published as partial, so nothing already
 * counted is lost), build one from the new config, and wait up to `control.applyTimeout` for it to
 * come up — inputs open, every feature started, the broker connected. Only then is the config file
 * replaced (atomically; the old text kept beside it as `.prev`). If the new config does not come up,
 * the previous one is rebuilt and the reply says why. If the process dies mid-way, the file on disk
 * is still the previous config, so systemd's restart brings the old device back.
 */
export class Supervisor {
  private current: Generation | undefined;
  private loaded: LoadedConfig;
  private busy: Promise<void> | undefined;
  private stopping = false;
  readonly hooks: SupervisorHooks = {
    applyConfig: (candidate, req) => {
      if (this.busy || this.stopping)
        return void this.reply(req, {
          ok: false,
          error: { code: "busy", message: "another config change or restart is in progress; try again in a minute" },
        });
      this.busy = this.apply(candidate, req).finally(() => (this.busy = undefined));
    },
    restart: (req) => {
      if (this.busy || this.stopping) return;
      this.busy = this.restart(req);
    },
  };

  constructor(private readonly opts: SupervisorOptions) {
    this.loaded = opts.initial;
  }

  /** The device running now. */
  get device(): SupervisedDevice | undefined {
    return this.current?.device;
  }

  get config(): LoadedConfig {
    return this.loaded;
  }

  async start(): Promise<void> {
    this.current = await this.opts.build(this.loaded, this.hooks);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.busy;
    const gen = this.current;
    this.current = undefined;
    await gen?.stop();
  }

  private async apply(candidate: ConfigCandidate, req: CommandRequest): Promise<void> {
    const log = this.opts.logger;
    const previous = this.loaded;
    const timeoutMs = previous.config.control.applyTimeout * 1000;
    await this.current?.stop();
    this.current = undefined;
    let gen: Generation | undefined;
    let reason: string | undefined;
    try {
      gen = await this.opts.build(candidate.loaded, this.hooks);
      await this.waitUp(gen, timeoutMs);
      writeAtomically(this.opts.configPath, candidate.text);
    } catch (err) {
      reason = (err as Error).message;
    }
    if (reason === undefined && gen) {
      this.current = gen;
      this.loaded = candidate.loaded;
      log.info(`new config applied (hash ${candidate.loaded.hash.slice(0, 12)}…); the previous one is in ${this.opts.configPath}.prev`);
      void this.reply(req, { ok: true, result: { applied: true, configHash: candidate.loaded.hash } });
      return;
    }
    log.error(`the new config did not come up: ${reason}; going back to the previous one`);
    try {
      await gen?.stop();
    } catch (err) {
      log.warn(`stopping the failed config's device: ${(err as Error).message}`);
    }
    try {
      this.current = await this.opts.build(previous, this.hooks);
    } catch (err) {
      // neither config runs in this process: let systemd start afresh from the file, which is the old one
      log.error(`the previous config does not come up either: ${(err as Error).message}; exiting so the service manager restarts roadside`);
      this.opts.onExit(1, "no config could be brought up");
      return;
    }
    void this.reply(req, {
      ok: false,
      error: {
        code: "rolled-back",
        message: `the new config did not come up (${reason}); the previous config runs again and the file is unchanged`,
      },
    });
  }

  private async restart(req: CommandRequest): Promise<void> {
    this.opts.logger.info(
      `restarting on request${req.id ? ` ${req.id}` : ""}: stopping, then exiting with ${RESTART_EXIT_CODE} for the service manager`,
    );
    const gen = this.current;
    this.current = undefined;
    this.stopping = true;
    await gen?.stop();
    this.opts.onExit(RESTART_EXIT_CODE, "restart requested by command");
  }

  private async waitUp(gen: Generation, timeoutMs: number): Promise<void> {
    const { clock } = this.opts;
    const end = clock.monoNs() + timeoutMs * NS_PER_MS;
    for (;;) {
      const failed = gen.device.failedFeatures;
      if (failed.length > 0) throw new Error(`${failed.join(", ")} could not start`);
      if (gen.device.session.state === "connected") return;
      if (clock.monoNs() >= end) {
        const err = gen.device.session.stats().lastError;
        throw new Error(`not connected to the broker within ${Math.round(timeoutMs / 1000)} s${err ? ` (${err})` : ""}`);
      }
      await new Promise<void>((r) => clock.setTimer(clock.monoNs() + (this.opts.pollMs ?? 50) * NS_PER_MS, r));
    }
  }

  private reply(req: CommandRequest, body: CommandReply): Promise<void> {
    const commands = this.current?.device.commands;
    return commands ? commands.reply(req, body) : Promise.resolve();
  }
}

/** Replace `path` with `text` so a power cut leaves either the old or the new file, never half of one. */
export function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.new`;
  const fd = openSync(tmp, "w", 0o640);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  if (existsSync(path)) copyFileSync(path, `${path}.prev`);
  renameSync(tmp, path);
  // the rename is durable only once the folder is synced
  const dir = openSync(dirname(path), "r");
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
