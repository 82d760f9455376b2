import { InputTally } from "./input-tally.js";
import type { Summary } from "../aggregate/summary.js";
import type { Clock } from "../clock/clock.js";
import { NS_PER_S } from "../clock/clock.js";
import type { LoadedConfig } from "../config/load.js";
import type { Level } from "../io/contract.js";
import type { Logger } from "../log/logger.js";
import type { SessionState } from "../mqtt/session.js";
import type { OutboxMessage, OutboxStats } from "../outbox/outbox.js";
import type { DecodedMessage } from "../publish/index.js";
import { decodeMessages } from "./compact.js";
import { Screen } from "./screen.js";
import { formatDuration } from "../config/duration.js";
import { age, formatValue } from "./units.js";

/**
 * What a running device tells its observers: the optional callbacks of `DeviceDeps` (src/runtime.ts)
 * under the same names, so an observer plugs in as `{ ...deps, ...observer }`.
 */
export interface DeviceObserver {
  onEdge(input: string, level: Level, tNs: number): void;
  onCommitted(messages: OutboxMessage[], summaries: Summary[]): void;
  onDelivered(message: OutboxMessage): void;
  onMqttState(state: SessionState, detail?: string): void;
}

export interface LiveViewOptions {
  loaded: LoadedConfig;
  clock: Clock;
  brokerUrl: string;
  /** The outbox's stats (Outbox.stats); read at most every 2 s, it counts rows. */
  outboxStats: () => OutboxStats;
  write: (text: string) => void;
  size: () => { columns: number; rows: number };
  /** Redraw period, ms. Default 500. */
  refreshMs?: number;
}

const OUTBOX_EVERY_MS = 2000;

/**
 * The live view of `roadside run` on a terminal: per input its state and counts in the current
 * window (the wiring at a glance), per stream the latest committed summary in readable units, the
 * outbox depth, the broker link and what was delivered. Redrawn in place; the edge path only
 * bumps counters (no allocation, no drawing).
 */
export class LiveView implements DeviceObserver {
  private readonly tally: InputTally;
  private readonly streams = new Map<string, DecodedMessage>();
  private readonly events: string[] = [];
  private readonly screen: Screen;
  private mqtt: { state: SessionState; detail?: string | undefined; sinceMs: number } = { state: "idle", sinceMs: 0 };
  private delivered = 0;
  private lastDelivered: { seq: number; ms: number } | undefined;
  private outbox: OutboxStats | undefined;
  private outboxReadMs = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: LiveViewOptions) {
    this.tally = new InputTally(o.loaded, o.clock);
    this.screen = new Screen({ write: o.write });
    this.onEdge = this.onEdge.bind(this);
    this.onCommitted = this.onCommitted.bind(this);
    this.onDelivered = this.onDelivered.bind(this);
    this.onMqttState = this.onMqttState.bind(this);
    this.log = this.log.bind(this);
  }

  start(): void {
    this.tally.at(this.o.clock.monoNs());
    this.screen.start();
    this.redraw();
    this.timer = setInterval(() => this.redraw(), this.o.refreshMs ?? 500);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.screen.stop();
  }

  redraw(): void {
    this.screen.draw(this.render());
  }

  onEdge(input: string, level: Level, tNs: number): void {
    this.tally.edge(input, level, tNs);
  }

  onCommitted(messages: OutboxMessage[]): void {
    for (const m of messages) {
      try {
        for (const d of decodeMessages(m.payload)) {
          this.streams.set(`${d.kind}/${d.stream}`, d);
          if (d.kind === "alarm") this.event(`alarm ${d.stream}: ${d.measures["alarm"]?.vs ?? ""} ${d.measures["state"]?.vs ?? ""}`);
        }
      } catch {
        this.event(`${m.topic}: seq ${m.seq} (${m.payload.length} bytes, not decodable)`);
      }
    }
  }

  onDelivered(message: OutboxMessage): void {
    this.delivered++;
    this.lastDelivered = { seq: message.seq, ms: this.o.clock.wallMs() };
  }

  onMqttState(state: SessionState, detail?: string): void {
    this.mqtt = { state, detail, sinceMs: this.o.clock.wallMs() };
    this.event(`broker ${state}${detail ? ` (${detail})` : ""}`);
  }

  /**
   * A log line (the logger's `write` while the view is on screen): shown among the recent events
   * instead of scrolling over the table.
   */
  log(line: string): void {
    this.event(line.replace(/\s+$/, "").replace(/^\d\d:\d\d:\d\d /, ""));
  }

  private event(text: string): void {
    const t = new Date(this.o.clock.wallMs()).toISOString().slice(11, 19);
    this.events.push(`${t}  ${text}`);
    if (this.events.length > 5) this.events.shift();
  }

  render(): string[] {
    const { columns, rows } = this.o.size();
    const nowNs = this.o.clock.monoNs();
    this.tally.at(nowNs);
    const nowMs = this.o.clock.wallMs();
    if (nowMs - this.outboxReadMs >= OUTBOX_EVERY_MS || !this.outbox) {
      this.outboxReadMs = nowMs;
      try {
        this.outbox = this.o.outboxStats();
      } catch {
        this.outbox = undefined;
      }
    }
    const clip = (s: string): string => (s.length > columns ? `${s.slice(0, columns - 1)}…` : s);
    const { config, board } = this.o.loaded;
    const clock = (ms: number): string => new Date(ms).toISOString().slice(11, 19);
    const out: string[] = [];
    const link = `${this.mqtt.state}${this.mqtt.detail ? ` (${this.mqtt.detail})` : ""}${this.mqtt.sinceMs ? ` for ${age((nowMs - this.mqtt.sinceMs) / 1000)}` : ""}`;
    out.push(clip(`roadside ${config.device.id} (${board.name})  ${clock(nowMs)} UTC  broker ${link} → ${this.o.brokerUrl}`));
    const ob = this.outbox;
    const outbox = ob
      ? `outbox ${ob.depth} waiting${ob.depth > 0 && ob.oldestMs !== undefined ? `, oldest ${age((nowMs - ob.oldestMs) / 1000)}` : ""}, next seq ${ob.nextSeq}`
      : "outbox ?";
    const last = this.lastDelivered ? ` (last seq ${this.lastDelivered.seq}, ${age((nowMs - this.lastDelivered.ms) / 1000)} ago)` : "";
    out.push(
      clip(
        `window ${clock(this.tally.windowStartMs)} +${formatDuration(config.windows.default)}, ${Math.floor((nowMs - this.tally.windowStartMs) / 1000)} s in · ${outbox} · delivered ${this.delivered}${last}`,
      ),
    );
    out.push("");
    const nameW = Math.max(5, ...this.tally.rows.map((r) => r.name.length));
    const whereW = Math.max(4, ...this.tally.rows.map((r) => r.where.length));
    out.push(`\x1b[1m${clip(`${"INPUT".padEnd(nameW)}  ${"LINE".padEnd(whereW)}  STATE   EDGES  ON  LAST EDGE`)}\x1b[0m`);
    for (const r of this.tally.rows) {
      const lastEdge = r.lastNs < 0 ? "–" : `${((nowNs - r.lastNs) / NS_PER_S).toFixed(1)} s ago`;
      out.push(
        clip(
          `${r.name.padEnd(nameW)}  ${r.where.padEnd(whereW)}  ${(r.level === 1 ? "ACTIVE" : "idle").padEnd(6)}  ${String(r.edges).padStart(5)}  ${String(r.activations).padStart(2)}  ${lastEdge}`,
        ),
      );
    }
    if (this.tally.rows.length === 0) out.push("(no inputs configured)");
    out.push("");
    const keys = [...this.streams.keys()].sort();
    const keyW = Math.max(6, ...keys.map((k) => k.length));
    out.push(`\x1b[1m${clip(`${"STREAM".padEnd(keyW)}  WINDOW       SEQ     LATEST`)}\x1b[0m`);
    for (const k of keys) {
      const d = this.streams.get(k)!;
      const values = Object.entries(d.measures)
        .map(([n, m]) => `${n} ${formatValue(m, d.kind)}`)
        .join("  ");
      const win = d.kind === "alarm" ? clock(d.windowStartMs) : `${clock(d.windowStartMs)} ${formatDuration(d.windowS)}`;
      out.push(
        clip(
          `${k.padEnd(keyW)}  ${win.padEnd(11)}  ${String(d.seq).padEnd(6)}  ${values}${d.timeq !== "synced" && d.timeq ? `  time ${d.timeq}` : ""}`,
        ),
      );
    }
    if (keys.length === 0)
      out.push(
        `(the first summaries come when the first window closes, ${clock(this.tally.windowStartMs + config.windows.default * 1000)})`,
      );
    if (this.events.length > 0 && out.length + this.events.length + 2 < rows) {
      out.push("");
      out.push(...this.events.map(clip));
    }
    return out.slice(0, Math.max(1, rows - 1));
  }
}

/**
 * Under systemd (no terminal): one structured log line per committed message, which journald keeps
 * and `journalctl -u roadside -o cat` shows; the logger writes JSON there. Deliveries at debug.
 */
export function journalObserver(logger: Logger): Pick<DeviceObserver, "onCommitted" | "onDelivered"> {
  return {
    onCommitted: (messages) => {
      for (const m of messages) {
        try {
          for (const d of decodeMessages(m.payload)) {
            const values = Object.entries(d.measures)
              .map(([n, v]) => `${n} ${formatValue(v, d.kind)}`)
              .join(", ");
            logger.info(`${d.kind}/${d.stream} seq ${d.seq}: ${values}`, {
              topic: m.topic,
              seq: m.seq,
              windowStart: new Date(d.windowStartMs).toISOString(),
              timeq: d.timeq,
            });
          }
        } catch {
          logger.info(`committed seq ${m.seq} to ${m.topic}`, { topic: m.topic, seq: m.seq });
        }
      }
    },
    onDelivered: (m) => logger.debug(() => `delivered seq ${m.seq}`, { topic: m.topic, seq: m.seq }),
  };
}
