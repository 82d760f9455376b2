import { execFile } from "node:child_process";
import type { Logger } from "../log/logger.js";

/** Runs `systemd-notify` with these arguments; resolves with an error message, or undefined on success. */
export type NotifySender = (args: readonly string[]) => Promise<string | undefined>;

/**
 * Node.js cannot send AF_UNIX datagrams, so the sd_notify(3) messages go through systemd's own
 * `systemd-notify`, which the unit allows with NotifyAccess=all. Since systemd 246 it waits until the
 * manager has read the message (sd_notify_barrier), so the message is attributed to the service even
 * though its sender exits at once.
 */
export const systemdNotify: NotifySender = (args) =>
  new Promise((resolve) => {
    execFile("systemd-notify", [...args], { timeout: 10_000 }, (err, _stdout, stderr) => {
      resolve(err ? `systemd-notify ${args.join(" ")}: ${stderr.trim() || err.message}` : undefined);
    });
  });

export interface ServiceNotifierOptions {
  logger: Logger;
  /** Default process.env: NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID as systemd sets them. */
  env?: NodeJS.ProcessEnv;
  /** Default process.pid (compared with WATCHDOG_PID). */
  pid?: number;
  /** Default: spawn systemd-notify. */
  send?: NotifySender;
  /** Timers; default the global ones. Tests pass fakes. */
  setInterval?: (fn: () => void, ms: number) => unknown;
  clearInterval?: (handle: unknown) => void;
}

/**
 * Tells systemd how the service is doing (sd_notify(3)): READY=1 once the device runs (Type=notify,
 * so `systemctl start` and an upgrade's restart wait for it), STATUS= lines for `systemctl status`,
 * STOPPING=1, and WATCHDOG=1 pings from a timer on the event loop. A hung event loop stops the pings
 * and systemd restarts the service after WatchdogSec; a device on a pole has nobody to press reset.
 * Does nothing where the process was not started by systemd with a notification socket.
 */
export class ServiceNotifier {
  private readonly env: NodeJS.ProcessEnv;
  private readonly send: NotifySender;
  private timer: unknown;
  private failed = false;

  constructor(private readonly opts: ServiceNotifierOptions) {
    this.env = opts.env ?? process.env;
    this.send = opts.send ?? systemdNotify;
  }

  /** True when systemd listens for notifications from this process. */
  get enabled(): boolean {
    return Boolean(this.env["NOTIFY_SOCKET"]);
  }

  /**
   * How often to ping: half of WATCHDOG_USEC (systemd's advice), when the watchdog is on and meant for
   * this process (WATCHDOG_PID unset or ours), else undefined.
   */
  get watchdogIntervalMs(): number | undefined {
    const usec = Number(this.env["WATCHDOG_USEC"]);
    if (!this.enabled || !Number.isFinite(usec) || usec <= 0) return undefined;
    const pid = this.env["WATCHDOG_PID"];
    if (pid !== undefined && pid !== "" && Number(pid) !== (this.opts.pid ?? process.pid)) return undefined;
    return Math.max(1, Math.floor(usec / 2000));
  }

  /** The device is up: READY=1 with a status line, and the watchdog pings begin. */
  async ready(status: string): Promise<void> {
    if (!this.enabled) return;
    await this.notify(["--ready", `--status=${status}`]);
    const every = this.watchdogIntervalMs;
    if (every !== undefined && this.timer === undefined) {
      const set = this.opts.setInterval ?? ((fn: () => void, ms: number) => setInterval(fn, ms).unref());
      this.timer = set(() => void this.notify(["WATCHDOG=1"]), every);
      this.opts.logger.info(`systemd watchdog on: a ping every ${every / 1000} s; if the event loop hangs, systemd restarts roadside`);
    }
  }

  async status(text: string): Promise<void> {
    if (this.enabled) await this.notify([`--status=${text}`]);
  }

  /** The service is stopping on purpose: no more pings, and systemd is told so. */
  async stopping(): Promise<void> {
    this.stopWatchdog();
    if (this.enabled) await this.notify(["STOPPING=1"]);
  }

  stopWatchdog(): void {
    if (this.timer === undefined) return;
    (this.opts.clearInterval ?? ((h: unknown) => clearInterval(h as NodeJS.Timeout)))(this.timer);
    this.timer = undefined;
  }

  private async notify(args: readonly string[]): Promise<void> {
    const err = await this.send(args);
    // said once: a missing systemd-notify would otherwise log every ping
    if (err !== undefined && !this.failed) {
      this.failed = true;
      this.opts.logger.warn(
        `cannot notify systemd (${err}); with WatchdogSec= set, systemd will restart roadside. Check that systemd-notify is installed (package systemd)`,
      );
    } else if (err === undefined) this.failed = false;
  }
}
