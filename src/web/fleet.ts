import type { AlarmEvent, DeviceState } from "../watch/index.js";
import { healthView } from "../watch/health.js";

/** One row of the fleet page (what `roadside watch`'s table shows per device, as data). */
export interface FleetRow {
  id: string;
  /** online; offline (its last will, a clean stop, or silent past the bound); behind (delivering a backlog); unknown. */
  status: "online" | "offline" | "behind" | "unknown";
  /**
   * Why offline: `status` (the broker said so), `silent` (no data for three windows), or
   * `heartbeat` (no heartbeat for three of its intervals).
   */
  why?: "status" | "silent" | "heartbeat";
  lastSeenMs: number | null;
  site: string | null;
  outboxDepth: number | null;
  oldestAgeS: number | null;
  drops: number | null;
  synced: boolean | null;
  cpuTempC: number | null;
  faults: string[];
  /** Alarms started and not ended, as `source:alarm`. */
  alarms: string[];
  /** Sequence gaps seen, and numbers still missing. */
  gaps: number;
  missing: number;
  messages: number;
  behindS: number;
}

/**
 * Which alarms of each device are open: a `start` opens (source, alarm[, input]), its `end` closes
 * it; `event` alarms (a pickup, a wrong-way car) never stay open.
 */
export class OpenAlarms {
  private readonly open = new Map<string, Map<string, number>>();

  note(ev: Pick<AlarmEvent, "device" | "source" | "alarm" | "state" | "measures" | "time">): void {
    const key = `${ev.source}:${ev.alarm}${ev.measures["input"]?.vs ? `:${ev.measures["input"].vs}` : ""}`;
    let dev = this.open.get(ev.device);
    if (ev.state === "start") {
      if (!dev) {
        dev = new Map();
        this.open.set(ev.device, dev);
      }
      dev.set(key, Date.parse(ev.time));
    } else if (ev.state === "end") dev?.delete(key);
  }

  of(device: string): string[] {
    return [...(this.open.get(device)?.keys() ?? [])].sort();
  }
}

const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

/**
 * When each device's heartbeats come, to see one stop: late after three of its intervals plus 30 s,
 * the bound after which an MQTT 5 broker drops the retained heartbeat (docs/payloads.md "Health").
 * The interval is learnt from the heartbeats' own `time` (a backlog or a simulator delivers them in
 * bursts, so arrival gaps would say seconds), the larger of the last two gaps, so a heartbeat a
 * `health` command asked for does not shorten it; retained replays teach nothing.
 */
export class Heartbeats {
  private readonly beats = new Map<string, { lastMs: number; deviceMs: number | undefined; gaps: [number, number] }>();

  note(device: string, retained: boolean, nowMs: number, health: unknown): void {
    const t = health !== null && typeof health === "object" ? Date.parse(String((health as Record<string, unknown>)["time"])) : Number.NaN;
    const deviceMs = Number.isFinite(t) ? t : undefined;
    const b = this.beats.get(device);
    if (!b) {
      this.beats.set(device, { lastMs: nowMs, deviceMs, gaps: [0, 0] });
      return;
    }
    if (!retained) {
      const gap = deviceMs !== undefined && b.deviceMs !== undefined ? deviceMs - b.deviceMs : nowMs - b.lastMs;
      if (gap > 0) b.gaps = [b.gaps[1], gap];
    }
    b.lastMs = nowMs;
    b.deviceMs = deviceMs;
  }

  late(device: string, nowMs: number): boolean {
    const b = this.beats.get(device);
    if (!b || b.gaps[1] === 0) return false;
    const interval = Math.max(b.gaps[0], b.gaps[1], 5000);
    return nowMs - b.lastMs > 3 * interval + 30_000;
  }
}

export function fleetRow(dev: DeviceState, manifest: unknown, alarms: OpenAlarms, heartbeatLate = false): FleetRow {
  const h = healthView(dev.health);
  const site = manifest !== null && typeof manifest === "object" ? str((manifest as Record<string, unknown>)["site"]) : null;
  let status: FleetRow["status"] = dev.status === "unknown" ? "unknown" : dev.status;
  let why: FleetRow["why"];
  if (dev.status === "offline") why = "status";
  else if (dev.silent) {
    // the watch model's rule (src/watch/model.ts tick): online but nothing for 3 windows + 30 s
    status = "offline";
    why = "silent";
  } else if (dev.status === "online" && heartbeatLate) {
    status = "offline";
    why = "heartbeat";
  } else if (dev.catchingUp) status = "behind";
  else if (dev.status === "unknown" && dev.lastMessageMs !== undefined) status = "online";
  const row: FleetRow = {
    id: dev.id,
    status,
    lastSeenMs: dev.lastMessageMs ?? dev.lastSeenMs ?? null,
    site,
    outboxDepth: h.outboxDepth,
    oldestAgeS: h.oldestAgeS,
    drops: h.drops,
    synced: h.synced,
    cpuTempC: h.cpuTempC,
    faults: h.faults,
    alarms: alarms.of(dev.id),
    gaps: dev.seq.gaps,
    missing: dev.seq.missing,
    messages: dev.messages,
    behindS: Math.round(dev.behindS),
  };
  if (why) row.why = why;
  return row;
}
