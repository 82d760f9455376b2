import cron from "node-cron";
import type { Ticker } from "./windows.js";

/**
 * The node-cron expression (with seconds) that fires at every aligned boundary of a window of
 * `lengthS` seconds, where cron can express it; otherwise a once-a-second expression (the scheduler
 * ignores ticks that are not at a boundary).
 */
export function cronExpression(lengthS: number): string {
  if (!Number.isInteger(lengthS) || lengthS <= 0 || 3600 % lengthS !== 0) {
    throw new RangeError(`window length ${lengthS}s does not divide an hour`);
  }
  if (lengthS < 60 && 60 % lengthS === 0) return `*/${lengthS} * * * * *`;
  if (lengthS === 60) return "0 * * * * *";
  if (lengthS % 60 === 0) {
    const m = lengthS / 60;
    return m === 60 ? "0 0 * * * *" : `0 */${m} * * * *`;
  }
  return "* * * * * *";
}

/**
 * Closes windows in real time on node-cron schedules aligned to the wall clock. Windows are aligned
 * to UTC (multiples of their length since the epoch), so the schedule runs in UTC: in the device's
 * local time zone an hour window would fire at the wrong minute wherever the offset is not whole
 * hours (India +05:30, Nepal +05:45), leaving the scheduler's 1 s safety timer to close every window.
 */
export class CronTicker implements Ticker {
  private task: ReturnType<typeof cron.schedule> | undefined;

  start(lengthS: number, tick: () => void): void {
    this.task = cron.schedule(cronExpression(lengthS), tick, { noOverlap: true, timezone: "Etc/UTC" });
  }

  /** The next instants the ticker fires at (none when stopped). */
  nextRuns(count: number): Date[] {
    return this.task?.getNextRuns(count) ?? [];
  }

  stop(): void {
    void this.task?.stop();
    void this.task?.destroy();
    this.task = undefined;
  }
}
