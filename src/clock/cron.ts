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

/** Closes windows in real time on node-cron schedules aligned to the wall clock. */
export class CronTicker implements Ticker {
  private task: ReturnType<typeof cron.schedule> | undefined;

  start(lengthS: number, tick: () => void): void {
    this.task = cron.schedule(cronExpression(lengthS), tick, { noOverlap: true });
  }

  stop(): void {
    void this.task?.stop();
    void this.task?.destroy();
    this.task = undefined;
  }
}
