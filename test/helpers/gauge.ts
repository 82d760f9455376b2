import { WindowBuckets } from "../../src/aggregate/buckets.js";
import type { Window, WindowListener } from "../../src/clock/windows.js";
import { NS_PER_S } from "../../src/clock/clock.js";
import type { FeatureFactory } from "../../src/features/index.js";
import type { ScenarioFactory } from "../../src/sim/scenario.js";

/**
 * A minimal serial sensor for framework tests (the real manhole and bin sensors live elsewhere):
 * a gauge on /dev/ttySIM0 sending `R` + 4 digits + CR every 2 s, and a feature that parses its
 * frames and publishes per-window count, mean and bad-frame count as a `level` stream named `gauge`.
 */
export const GAUGE_PATH = "/dev/ttySIM0";

export const gaugeScenario: ScenarioFactory = (ctx) => {
  const dev = ctx.createSerialDevice("gauge", GAUGE_PATH, 9600);
  const rng = ctx.rng("gauge");
  let mm = 1200;
  let timer: ReturnType<typeof ctx.clock.setTimer> | undefined;
  const tick = (tNs: number): void => {
    mm = Math.max(300, Math.min(4999, Math.round(mm + rng.normal(0, 15))));
    ctx.truth({ kind: "level", sensor: "gauge", mm, tNs });
    dev.emit(`R${String(mm).padStart(4, "0")}\r`);
    timer = ctx.clock.setTimer(tNs + 2 * NS_PER_S, () => tick(tNs + 2 * NS_PER_S));
  };
  return {
    name: "gauge",
    start: () => {
      timer = ctx.clock.setTimer(ctx.clock.monoNs() + NS_PER_S, () => tick(ctx.startNs + NS_PER_S));
    },
    stop: () => {
      if (timer) ctx.clock.clearTimer(timer);
    },
  };
};

interface Bucket {
  n: number;
  sum: number;
  bad: number;
}

export const gaugeFeature: FeatureFactory = (ctx) => {
  const buckets = new WindowBuckets<Bucket>(() => ({ n: 0, sum: 0, bad: 0 }));
  const listener: WindowListener = {
    open: (w) => buckets.open(w),
    rotate: (c, o) => buckets.rotate(c, o),
    finalize: (w: Window) => {
      const b = buckets.take(w);
      if (!b) return;
      ctx.summaries([
        {
          kind: "level",
          name: "gauge",
          window: w,
          measures: [
            { n: "samples", u: "count", v: b.n },
            { n: "mean", u: "mm", v: b.n > 0 ? Math.round((b.sum / b.n) * 1000) / 1000 : 0 },
            { n: "bad", u: "count", v: b.bad },
          ],
        },
      ]);
    },
  };
  ctx.windows(ctx.loaded.config.windows.default).add(listener);
  let text = "";
  const frame = (f: string, tNs: number): void => {
    const m = /^R(\d{4})$/.exec(f);
    const b = buckets.at(tNs);
    if (!b) return; // before the first window opened
    if (m) {
      b.n++;
      b.sum += Number(m[1]);
    } else b.bad++;
  };
  return {
    name: "gauge",
    start: async () => {
      await ctx.openSerial(
        { name: "gauge", path: GAUGE_PATH, baudRate: 9600, dataBits: 8, parity: "none", stopBits: 1 },
        {
          data: (chunk, tNs) => {
            text += chunk.toString("latin1");
            for (let i = text.indexOf("\r"); i >= 0; i = text.indexOf("\r")) {
              frame(text.slice(0, i), tNs);
              text = text.slice(i + 1);
            }
            if (text.length > 64) {
              const b = buckets.at(tNs);
              if (b) b.bad++;
              text = "";
            }
          },
          state: () => {
            text = "";
          },
        },
      );
    },
  };
};
