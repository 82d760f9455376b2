import { createServer } from "node:net";
import type { Server, Socket } from "node:net";
import { NS_PER_S, RealClock, VirtualClock } from "../clock/index.js";
import type { Clock } from "../clock/index.js";
import { CronTicker } from "../clock/cron.js";
import type { LoadedConfig } from "../config/load.js";
import { boardHardware } from "./hardware.js";
import type { Logger } from "../log/logger.js";
import { SqliteOutbox } from "../outbox/sqlite.js";
import type { DecodedMessage } from "../publish/index.js";
import { decodeMessages } from "../watch/compact.js";
import { Device } from "../runtime.js";

/**
 * The device's MQTT link points here during a dry run: a loopback socket inside this process that
 * accepts and never answers, so the session stays "connecting" and not one byte is published. The
 * real pipeline runs unchanged (features → windows → publisher); only the link goes nowhere.
 */
async function silentEndpoint(): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on("error", () => {});
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

export interface DryRunOptions {
  seconds: number;
  /** On board sim: run the simulated site in real time (default: accelerated virtual time). */
  realTime: boolean;
  /** The device's logger, given the run's clock (log times follow simulated time). */
  logger: (clock: Clock) => Logger;
  version: string;
  /** Each summary or alarm the device would publish, decoded, with its topic. */
  onMessage: (topic: string, msg: DecodedMessage) => void;
  progress?: (text: string) => void;
}

export interface DryRunResult {
  summaries: number;
  alarms: number;
  time: "real" | "virtual";
  /** Wall time the run covered, ms. */
  fromMs: number;
  toMs: number;
}

/**
 * Run a config's real pipeline on its real inputs (or the simulator's) for `seconds`, collecting
 * what it would publish: an in-memory outbox (no file is opened, the device's own outbox is not
 * touched) and an MQTT link that reaches no broker. Windows still open at the end are closed as
 * partial, as a stopping device does, so every stream shows at least one window.
 */
export async function dryRun(loaded: LoadedConfig, opts: DryRunOptions): Promise<DryRunResult> {
  const virtual = loaded.board.io === "sim" && !opts.realTime;
  const clock: Clock = virtual ? new VirtualClock({ startWallMs: Date.now() }) : new RealClock();
  const logger = opts.logger(clock);
  const hw = await boardHardware(loaded, { clock, logger });
  const outbox = SqliteOutbox.open({ path: ":memory:", now: () => clock.wallMs() });
  const link = await silentEndpoint();
  const result: DryRunResult = {
    summaries: 0,
    alarms: 0,
    time: virtual ? "virtual" : "real",
    fromMs: clock.wallMs(),
    toMs: clock.wallMs(),
  };
  const device = new Device(loaded, {
    clock,
    logger,
    inputs: hw.inputs,
    serial: hw.serial,
    ioPlugin: hw.ioPlugin,
    outbox,
    brokerUrl: link.url,
    version: opts.version,
    ...(virtual ? {} : { ticker: () => new CronTicker() }),
    // no reconnect churn against the silent endpoint for the length of the run
    mqtt: { connectOptions: { connectTimeout: 2 ** 31 - 1 }, backoffMinMs: 2 ** 30, backoffMaxMs: 2 ** 30 },
    onCommitted: (messages) => {
      for (const m of messages) {
        // per stream, also from a cellular pack
        for (const msg of decodeMessages(m.payload)) {
          if (msg.kind === "alarm") result.alarms++;
          else result.summaries++;
          opts.onMessage(m.topic, msg);
        }
      }
    },
  });
  try {
    await device.start();
    hw.site?.start();
    const endNs = clock.monoNs() + opts.seconds * NS_PER_S;
    if (clock instanceof VirtualClock) {
      await clock.runUntil(endNs, { yieldEvery: 500 });
    } else {
      let stop = false;
      const interrupt = (): void => {
        stop = true;
      };
      process.once("SIGINT", interrupt);
      process.once("SIGTERM", interrupt);
      try {
        while (!stop && clock.monoNs() < endNs) {
          opts.progress?.(`watching: ${Math.ceil((endNs - clock.monoNs()) / NS_PER_S)} s left`);
          await new Promise((r) => setTimeout(r, Math.min(1000, (endNs - clock.monoNs()) / 1e6)));
        }
      } finally {
        process.off("SIGINT", interrupt);
        process.off("SIGTERM", interrupt);
      }
      opts.progress?.("");
    }
  } finally {
    hw.site?.stop();
    result.toMs = clock.wallMs();
    // stop closes the open windows as partial: they are committed (and printed) before this returns
    await device.stop(0);
    await hw.close?.();
    outbox.close();
    await link.close();
  }
  return result;
}
