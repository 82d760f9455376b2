import { afterEach, describe, expect, it } from "vitest";
import { CronTicker } from "./cron.js";

const savedTz = process.env["TZ"];

describe("CronTicker", () => {
  let ticker: CronTicker | undefined;
  afterEach(() => {
    ticker?.stop();
    ticker = undefined;
    if (savedTz === undefined) delete process.env["TZ"];
    else process.env["TZ"] = savedTz;
  });

  // windows are aligned to multiples of their length since the epoch (UTC); a device whose local
  // time is not a whole number of hours from UTC must still tick at those instants
  for (const tz of ["Asia/Kathmandu", "Asia/Kolkata", "Australia/Adelaide", "America/St_Johns", "UTC"]) {
    for (const lengthS of [60, 300, 900, 1800, 3600]) {
      it(`fires at UTC-aligned boundaries of ${lengthS} s windows in ${tz}`, () => {
        process.env["TZ"] = tz;
        ticker = new CronTicker();
        ticker.start(lengthS, () => {});
        const runs = ticker.nextRuns(3).map((d) => d.getTime());
        expect(runs).toHaveLength(3);
        for (const t of runs) expect(t % (lengthS * 1000), `${new Date(t).toISOString()} in ${tz}`).toBe(0);
        expect(runs[1]! - runs[0]!).toBe(lengthS * 1000);
      });
    }
  }

  it("stops: no next run once stopped", () => {
    ticker = new CronTicker();
    ticker.start(60, () => {});
    ticker.stop();
    expect(ticker.nextRuns(1)).toEqual([]);
  });
});
