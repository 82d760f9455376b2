import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { NS_PER_MS } from "./clock.js";
import { MAX_TIMEOUT_MS, RealClock } from "./real.js";

const DAY_MS = 86_400_000;

describe("RealClock timers of any length (fake timers and a fake monotonic clock)", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "hrtime", "Date"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("a 30-day timer fires after 30 days, not at once (setTimeout alone fires delays over 2^31-1 ms after 1 ms)", () => {
    const clock = new RealClock({ syncProbe: () => true });
    const fired: number[] = [];
    clock.setTimer(clock.monoNs() + 30 * DAY_MS * NS_PER_MS, () => fired.push(Date.now()));
    const start = Date.now();
    vi.advanceTimersByTime(1000);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(MAX_TIMEOUT_MS); // past the first chunk (24.8 days)
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(29 * DAY_MS - MAX_TIMEOUT_MS - 1000);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(DAY_MS);
    expect(fired).toEqual([start + 30 * DAY_MS]);
    vi.advanceTimersByTime(100 * DAY_MS);
    expect(fired).toHaveLength(1);
  });

  it("a long timer can be cleared in any of its chunks", () => {
    const clock = new RealClock({ syncProbe: () => true });
    let fired = 0;
    const t = clock.setTimer(clock.monoNs() + 60 * DAY_MS * NS_PER_MS, () => fired++);
    vi.advanceTimersByTime(40 * DAY_MS); // into the second chunk
    clock.clearTimer(t);
    vi.advanceTimersByTime(100 * DAY_MS);
    expect(fired).toBe(0);
  });
});
