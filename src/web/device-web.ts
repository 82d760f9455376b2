import { InputTally } from "../watch/input-tally.js";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Summary } from "../aggregate/summary.js";
import type { Clock } from "../clock/clock.js";
import { NS_PER_S } from "../clock/clock.js";
import type { LoadedConfig } from "../config/load.js";
import type { CheckResult } from "../doctor/check.js";
import type { Level } from "../io/contract.js";
import type { SessionState } from "../mqtt/session.js";
import type { OutboxMessage, OutboxStats } from "../outbox/outbox.js";
import { decodeMessages } from "../watch/compact.js";
import type { DeviceObserver } from "../watch/index.js";
import type { HistoryRow } from "./history.js";
import type { Listen } from "../config/listen.js";
import { statusPage } from "./pages.js";
import { deviceSeries } from "./series.js";
import { sendHtml, sendJson, SseHub, WebServer } from "./server.js";

export interface DeviceWebOptions {
  listen: Listen;
  /** Asked of every visitor when set (web.tokenFile). */
  token?: string | undefined;
  loaded: LoadedConfig;
  clock: Clock;
  /** Broker URL without credentials. */
  brokerUrl: string;
  /** The outbox's stats (counts rows: read at most every 2 s). */
  outboxStats: () => OutboxStats;
  /** doctor's read-only checks (clock, disk, outbox, files, service), run when the technician asks. */
  doctor?: () => Promise<CheckResult[]>;
}

/** The last hour is plotted: a minute-window device commits a few hundred summaries in it. */
const HOUR_MS = 3_600_000;
const OUTBOX_EVERY_MS = 2000;

/**
 * The technician's page on the device (`web.listen`): what the terminal live view shows (inputs with
 * their state and edges this window, the open window, the latest summaries, outbox, broker, clock),
 * the last hour plotted, and doctor's read-only checks on demand. Nothing on it changes the device:
 * the server answers GET only. The edge path bumps counters; everything else is built when asked.
 */
export class DeviceWeb implements DeviceObserver {
  private tally: InputTally;
  private loaded: LoadedConfig;
  private readonly latest = new Map<string, HistoryRow & { timeq: string }>();
  private hour: HistoryRow[] = [];
  private readonly events: { tMs: number; text: string }[] = [];
  private mqtt: { state: SessionState; detail?: string | undefined; sinceMs: number } = { state: "idle", sinceMs: 0 };
  private delivered = 0;
  private lastDelivered: { seq: number; ms: number } | undefined;
  private outbox: OutboxStats | undefined;
  private outboxReadMs = 0;
  private readonly hub = new SseHub<null>();
  private readonly server: WebServer;
  private timer: NodeJS.Timeout | undefined;
  private doctorRun: Promise<CheckResult[]> | undefined;

  constructor(private readonly o: DeviceWebOptions) {
    this.loaded = o.loaded;
    this.tally = new InputTally(o.loaded, o.clock);
    this.onEdge = this.onEdge.bind(this);
    this.onCommitted = this.onCommitted.bind(this);
    this.onDelivered = this.onDelivered.bind(this);
    this.onMqttState = this.onMqttState.bind(this);
    this.server = new WebServer({
      host: o.listen.host,
      port: o.listen.port,
      token: o.token,
      handlers: [(req, res, url) => this.route(req, res, url)],
    });
  }

  async start(): Promise<string> {
    const url = await this.server.start();
    // one status push a second, and only while someone looks
    this.timer = setInterval(() => {
      if (this.hub.size > 0) this.hub.send("status", this.status());
    }, 1000);
    this.timer.unref();
    return url;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.hub.close();
    await this.server.stop();
  }

  /** A config was applied: its inputs and window replace the old ones. */
  generation(loaded: LoadedConfig): void {
    this.loaded = loaded;
    this.tally = new InputTally(loaded, this.o.clock);
  }

  /** `deps` with each observer callback also telling this page (the live view or journal keeps its own). */
  wrap<T extends Partial<DeviceObserver>>(deps: T): T {
    const chain =
      <A extends unknown[]>(mine: (...a: A) => void, theirs: ((...a: A) => void) | undefined) =>
      (...a: A): void => {
        theirs?.(...a);
        mine(...a);
      };
    return {
      ...deps,
      onEdge: chain(this.onEdge, deps.onEdge),
      onCommitted: chain(this.onCommitted, deps.onCommitted),
      onDelivered: chain(this.onDelivered, deps.onDelivered),
      onMqttState: chain(this.onMqttState, deps.onMqttState),
    };
  }

  onEdge(input: string, level: Level, tNs: number): void {
    this.tally.edge(input, level, tNs);
  }

  onCommitted(messages: OutboxMessage[], _summaries?: Summary[]): void {
    const cut = this.o.clock.wallMs() - HOUR_MS;
    for (const m of messages) {
      try {
        for (const d of decodeMessages(m.payload)) {
          const row: HistoryRow & { timeq: string } = {
            device: d.device,
            seq: d.seq,
            kind: d.kind,
            stream: d.stream,
            tMs: d.windowStartMs,
            windowS: d.windowS,
            observedS: d.observedS,
            measures: d.measures,
            timeq: d.timeq,
          };
          this.latest.set(`${d.kind}/${d.stream}`, row);
          this.hour.push(row);
          if (d.kind === "alarm") this.event(`alarm ${d.stream}: ${d.measures["alarm"]?.vs ?? ""} ${d.measures["state"]?.vs ?? ""}`);
        }
      } catch {
        this.event(`${m.topic}: seq ${m.seq} (${m.payload.length} bytes, not decodable)`);
      }
    }
    if (this.hour.length > 0 && this.hour[0]!.tMs < cut) this.hour = this.hour.filter((r) => r.tMs >= cut);
    if (this.hub.size > 0) this.hub.send("msg", { count: messages.length });
  }

  onDelivered(message: OutboxMessage): void {
    this.delivered++;
    this.lastDelivered = { seq: message.seq, ms: this.o.clock.wallMs() };
  }

  onMqttState(state: SessionState, detail?: string): void {
    this.mqtt = { state, detail, sinceMs: this.o.clock.wallMs() };
    this.event(`broker ${state}${detail ? ` (${detail})` : ""}`);
  }

  private event(text: string): void {
    this.events.push({ tMs: this.o.clock.wallMs(), text });
    if (this.events.length > 20) this.events.shift();
  }

  /** What the page shows, as JSON (GET /api/status and the `status` event). */
  status(): Record<string, unknown> {
    const clock = this.o.clock;
    const nowNs = clock.monoNs();
    this.tally.at(nowNs);
    const nowMs = clock.wallMs();
    if (nowMs - this.outboxReadMs >= OUTBOX_EVERY_MS || !this.outbox) {
      this.outboxReadMs = nowMs;
      try {
        this.outbox = this.o.outboxStats();
      } catch {
        this.outbox = undefined;
      }
    }
    const { config, board } = this.loaded;
    return {
      device: config.device.id,
      site: config.device.site ?? null,
      board: board.name,
      nowMs,
      clock: { synced: clock.synced },
      window: { startMs: this.tally.windowStartMs, lengthS: config.windows.default },
      inputs: this.tally.rows.map((r) => ({
        name: r.name,
        where: r.where,
        active: r.level === 1,
        edges: r.edges,
        activations: r.activations,
        lastEdgeAgoS: r.lastNs < 0 ? null : (nowNs - r.lastNs) / NS_PER_S,
      })),
      broker: { url: this.o.brokerUrl, ...this.mqtt },
      outbox: this.outbox ? { depth: this.outbox.depth, oldestMs: this.outbox.oldestMs ?? null, nextSeq: this.outbox.nextSeq } : null,
      delivered: this.delivered,
      lastDelivered: this.lastDelivered ?? null,
      latest: [...this.latest.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([key, r]) => ({ key, ...r })),
      events: this.events,
    };
  }

  private async route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    switch (url.pathname) {
      case "/":
        sendHtml(res, statusPage(this.loaded.config.device.id));
        return true;
      case "/api/status":
        sendJson(res, this.status());
        return true;
      case "/api/hour": {
        const now = this.o.clock.wallMs();
        sendJson(res, { now, hours: 1, series: deviceSeries(this.hour, now - HOUR_MS, now) });
        return true;
      }
      case "/api/doctor": {
        if (!this.o.doctor) {
          sendJson(res, { results: [] });
          return true;
        }
        // one run at a time, however many phones ask
        this.doctorRun ??= this.o.doctor().finally(() => {
          this.doctorRun = undefined;
        });
        sendJson(res, { results: await this.doctorRun });
        return true;
      }
      case "/events":
        this.hub.add(req, res, null);
        return true;
      default:
        return false;
    }
  }
}
