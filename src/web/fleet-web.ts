import type { IncomingMessage, ServerResponse } from "node:http";
import type { WatchEvent } from "../watch/index.js";
import { WatchModel } from "../watch/model.js";
import type { FleetRow } from "./fleet.js";
import { fleetRow, Heartbeats, OpenAlarms } from "./fleet.js";
import { HistoryStore } from "./history.js";
import { devicePage, fleetPage } from "./pages.js";
import { deviceSeries, levelThresholds } from "./series.js";
import type { Handler } from "./server.js";
import { sendHtml, sendJson, SseHub, WebServer } from "./server.js";

export interface FleetWebOptions {
  prefix: string;
  host: string;
  port: number;
  /** SQLite file of the history (`:memory:` in tests). */
  historyPath: string;
  retentionS: number;
  /** Shown in the page header: the broker and filter. */
  title: string;
  /** Wall clock, ms (a test passes its own). */
  now?: () => number;
}

interface Filter {
  fleet: boolean;
  device: string | undefined;
}

const DEVICE_PATH = /^\/device\/([A-Za-z0-9][A-Za-z0-9_-]{0,63})$/;
const API_DEVICE = /^\/api\/device\/([A-Za-z0-9][A-Za-z0-9_-]{0,63})$/;

/**
 * `roadside watch --web`: the watch model (status, sequence check, silence) plus a history store
 * and an HTTP server with the fleet and device pages. Fed messages by whoever holds the MQTT link
 * (src/web/watch-web.ts), so tests can drive it with any clock.
 */
export class FleetWeb {
  readonly model: WatchModel;
  readonly history: HistoryStore;
  private readonly alarms = new OpenAlarms();
  private readonly beats = new Heartbeats();
  /** Devices whose heartbeat was late at the last tick. */
  private readonly late = new Set<string>();
  private readonly manifests: Map<string, unknown>;
  private readonly storedHealth: Map<string, unknown>;
  private readonly server: WebServer;
  private readonly hub = new SseHub<Filter>();
  private readonly dirty = new Set<string>();
  private readonly now: () => number;
  private lastPruneMs = 0;
  link = "connecting";

  constructor(private readonly opts: FleetWebOptions) {
    this.now = opts.now ?? Date.now;
    this.model = new WatchModel({ prefix: opts.prefix, keepEvents: 50 });
    this.history = new HistoryStore({ path: opts.historyPath, retentionS: opts.retentionS });
    this.manifests = this.history.docs("manifest");
    this.storedHealth = this.history.docs("health");
    // alarms still open when watch stopped are open again after a restart
    for (const a of this.history.alarms(this.now() - opts.retentionS * 1000))
      this.alarms.note({
        device: a.device,
        source: a.stream,
        alarm: a.measures["alarm"]?.vs ?? "",
        state: a.measures["state"]?.vs ?? "",
        measures: a.measures,
        time: new Date(a.tMs).toISOString(),
      });
    const handlers: Handler[] = [(req, res, url) => this.route(req, res, url), (_req, res, url) => this.api(res, url)];
    this.server = new WebServer({ host: opts.host, port: opts.port, handlers });
  }

  start(): Promise<string> {
    return this.server.start();
  }

  async stop(): Promise<void> {
    this.hub.close();
    await this.server.stop();
    this.history.close();
  }

  /** One MQTT message. Returns the model's events (for a caller that also prints them). */
  message(topic: string, payload: Uint8Array, retained: boolean): WatchEvent[] {
    const now = this.now();
    const events = this.model.message(topic, payload, retained, now);
    for (const ev of events) {
      if (ev.type === "health") this.beats.note(ev.device, retained, now, ev.health);
      this.apply(ev);
    }
    return events;
  }

  /** Once a second: silence and catch-up, pruning, and the changed rows to the pages. */
  tick(): WatchEvent[] {
    const now = this.now();
    const events = this.model.tick(now);
    for (const ev of events) this.apply(ev);
    for (const id of this.model.devices.keys()) {
      const late = this.beats.late(id, now);
      if (late === this.late.has(id)) continue;
      if (late) this.late.add(id);
      else this.late.delete(id);
      this.dirty.add(id);
    }
    if (now - this.lastPruneMs > 60_000) {
      this.lastPruneMs = now;
      this.history.prune(now);
    }
    this.flush();
    return events;
  }

  /** Push the rows that changed since the last flush (at most one event per tick, whatever the rate). */
  flush(): void {
    if (this.dirty.size === 0) return;
    const rows: FleetRow[] = [];
    for (const id of this.dirty) {
      const d = this.model.devices.get(id);
      if (d) rows.push(fleetRow(d, this.manifests.get(id), this.alarms, this.late.has(id)));
    }
    this.dirty.clear();
    this.hub.send("rows", { rows, totals: this.model.totals(), link: this.link, now: this.now() }, (f) => f.fleet);
  }

  rows(): FleetRow[] {
    const rows = [...this.model.devices.values()].map((d) => fleetRow(d, this.manifests.get(d.id), this.alarms, this.late.has(d.id)));
    // devices known from the history only (watch restarted, the device has said nothing since)
    for (const [id, manifest] of this.manifests)
      if (!this.model.devices.has(id)) {
        const row = fleetRow(placeholder(id, this.storedHealth.get(id)), manifest, this.alarms);
        rows.push(row);
      }
    return rows;
  }

  private apply(ev: WatchEvent): void {
    switch (ev.type) {
      case "data":
      case "alarm": {
        if (ev.seqCheck === "duplicate") return;
        const row =
          ev.type === "data"
            ? {
                device: ev.device,
                seq: ev.seq,
                kind: ev.kind,
                stream: ev.stream,
                tMs: Date.parse(ev.windowStart),
                windowS: ev.windowS,
                observedS: ev.observedS,
                measures: ev.measures,
              }
            : {
                device: ev.device,
                seq: ev.seq,
                kind: "alarm",
                stream: ev.source,
                tMs: Date.parse(ev.time),
                windowS: 0,
                observedS: 0,
                measures: { ...ev.measures, alarm: { vs: ev.alarm }, state: { vs: ev.state } },
              };
        if (ev.type === "alarm") {
          if (ev.code !== undefined) row.measures["code"] = { v: ev.code };
          if (ev.message !== undefined) row.measures["message"] = { vs: ev.message };
          this.alarms.note(ev);
        }
        if (this.history.add(row)) this.hub.send("msg", row, (f) => f.device === ev.device);
        this.dirty.add(ev.device);
        return;
      }
      case "manifest":
        this.manifests.set(ev.device, ev.manifest);
        this.history.putDoc(ev.device, "manifest", ev.manifest);
        this.dirty.add(ev.device);
        return;
      case "health":
        this.history.putDoc(ev.device, "health", ev.health);
        this.dirty.add(ev.device);
        return;
      case "invalid":
      case "broker":
        return;
      default:
        this.dirty.add(ev.device);
    }
  }

  private route(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    if (url.pathname === "/") sendHtml(res, fleetPage("roadside fleet"));
    else if (DEVICE_PATH.test(url.pathname)) sendHtml(res, devicePage("roadside fleet", DEVICE_PATH.exec(url.pathname)![1]!));
    else if (url.pathname === "/events") {
      const device = url.searchParams.get("device") ?? undefined;
      this.hub.add(req, res, { fleet: device === undefined, device });
    } else return false;
    return true;
  }

  private api(res: ServerResponse, url: URL): boolean {
    if (url.pathname === "/api/fleet") {
      sendJson(res, { rows: this.rows(), totals: this.model.totals(), link: this.link, title: this.opts.title, now: this.now() });
      return true;
    }
    const m = API_DEVICE.exec(url.pathname);
    if (!m) return false;
    const id = m[1]!;
    const dev = this.model.devices.get(id);
    const manifest = this.manifests.get(id);
    if (!dev && manifest === undefined && !this.history.has(id)) {
      sendJson(res, { error: `no device ${id} under this prefix (yet)` }, 404);
      return true;
    }
    const hours = Math.min(Math.max(Number(url.searchParams.get("hours") ?? 24) || 24, 1 / 60), this.opts.retentionS / 3600);
    const now = this.now();
    const from = now - hours * 3_600_000;
    // a device's clock may run ahead of the watcher's: keep what it says is the future too
    const to = now + 86_400_000;
    const overflow: Record<string, number> = {};
    for (const s of manifestStreams(manifest)) {
      const t = s.kind === "level" ? levelThresholds(s) : undefined;
      if (t) overflow[s.name] = t.overflowM;
    }
    sendJson(res, {
      id,
      row: fleetRow(dev ?? placeholder(id, this.storedHealth.get(id)), manifest, this.alarms, this.late.has(id)),
      manifest: manifest ?? null,
      health: dev?.health ?? this.storedHealth.get(id) ?? null,
      retentionS: this.opts.retentionS,
      hours,
      now,
      series: deviceSeries(this.history.range(id, from, to), from, to, overflow),
    });
    return true;
  }
}

function manifestStreams(manifest: unknown): { kind: string; name: string; description: string; limits?: unknown }[] {
  const streams = (manifest as { streams?: unknown } | null | undefined)?.streams;
  if (!Array.isArray(streams)) return [];
  return streams.filter(
    (s): s is { kind: string; name: string; description: string } =>
      typeof s === "object" && s !== null && typeof s.kind === "string" && typeof s.name === "string" && typeof s.description === "string",
  );
}

/** A device the history knows but this watcher has not heard from since it started. */
function placeholder(id: string, health: unknown): Parameters<typeof fleetRow>[0] {
  const m = new WatchModel({ prefix: "x" });
  m.message(`x/${id}/health`, Buffer.from(JSON.stringify(health ?? {})), true, 0);
  const d = m.devices.get(id)!;
  d.lastMessageMs = undefined;
  return d;
}
