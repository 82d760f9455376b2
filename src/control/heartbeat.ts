import type { Clock, TimerHandle } from "../clock/clock.js";
import { NS_PER_S } from "../clock/clock.js";
import type { Logger } from "../log/logger.js";
import type { MqttSession } from "../mqtt/session.js";
import type { Topics } from "../publish/index.js";
import { healthFingerprint } from "./health-changes.js";
import type { HealthReport } from "./health-report.js";

export interface HeartbeatOptions {
  clock: Clock;
  session: MqttSession;
  topics: Topics;
  logger: Logger;
  /** Seconds between heartbeats; 0 = off. */
  intervalS: number;
  /**
   * Cellular profile: at each interval publish only when the report changed in what a technician
   * acts on (src/control/health-changes.ts), and at least every this many seconds.
   */
  changesOnlyEveryS?: number;
  report: () => HealthReport;
}

/**
 * Publishes the health report on `…/health` every `intervalS` on the device clock (so a simulated
 * day has its heartbeats too), retained so a dashboard sees the latest at once. MQTT 5 brokers drop
 * the retained copy after three missed intervals (message expiry), so a stale health never passes
 * for a live one. Heartbeats are not stored while offline: an old heartbeat is worth nothing, and
 * the outbox's own depth says how long the device was cut off.
 */
export class Heartbeat {
  private timer: TimerHandle | undefined;
  private running = false;
  /** Heartbeats published. */
  sent = 0;
  private lastPrint: string | undefined;
  private lastSentNs = 0;

  constructor(private readonly opts: HeartbeatOptions) {}

  start(): void {
    if (this.running || this.opts.intervalS <= 0) return;
    this.running = true;
    this.arm();
  }

  stop(): void {
    this.running = false;
    if (this.timer) this.opts.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  /** Publish the report now (the `health` command, and every tick), or a given one. Resolves on PUBACK. */
  async publishNow(given?: HealthReport): Promise<HealthReport> {
    const report = given ?? this.opts.report();
    if (this.opts.changesOnlyEveryS !== undefined) {
      this.lastPrint = healthFingerprint(report);
      this.lastSentNs = this.opts.clock.monoNs();
    }
    const session = this.opts.session;
    await session.publish(this.opts.topics.health(), JSON.stringify(report), {
      qos: 1,
      retain: true,
      properties: {
        contentType: "application/json",
        ...(this.opts.intervalS > 0
          ? { messageExpiryInterval: Math.round(Math.max(this.opts.intervalS, this.opts.changesOnlyEveryS ?? 0) * 3) }
          : {}),
      },
    });
    this.sent++;
    return report;
  }

  private due(): boolean {
    const every = this.opts.changesOnlyEveryS;
    if (every === undefined) return true;
    if (this.opts.clock.monoNs() - this.lastSentNs >= every * NS_PER_S - NS_PER_S / 2) return true;
    return healthFingerprint(this.opts.report()) !== this.lastPrint;
  }

  private arm(): void {
    const clock = this.opts.clock;
    this.timer = clock.setTimer(clock.monoNs() + this.opts.intervalS * NS_PER_S, () => {
      if (!this.running) return;
      if (this.opts.session.state === "connected" && this.due()) {
        this.publishNow().catch((err: unknown) => this.opts.logger.debug(() => `heartbeat not published: ${String(err)}`));
      }
      this.arm();
    });
  }
}
