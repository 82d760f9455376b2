import type { OutboxStats } from "../outbox/outbox.js";
import type { SessionCounters } from "../mqtt/session.js";
import type { BudgetReport } from "../publish/index.js";
import type { HealthSection } from "./health.js";

/**
 * The `…/health` heartbeat payload (docs/payloads.md "Health"): JSON, not SenML, because it is a
 * nested diagnostic record whose sections grow with the features a device has, read by people and
 * dashboards rather than stored as time series. Times are ISO 8601 UTC; durations in seconds.
 */
export interface HealthReport {
  health: 1;
  device: string;
  /** Wall time of the report. */
  time: string;
  /** Whether the device's wall clock is synchronised (NTP). */
  timeq: "synced" | "unsynced";
  uptimeS: number;
  software: { name: "roadside"; version: string };
  configHash: string;
  outbox: {
    depth: number;
    bytes: number;
    maxBytes: number;
    /** Age of the oldest waiting message, s (null when empty). */
    oldestAgeS: number | null;
    nextSeq: number;
    /** Drops since the outbox was created: routine (full), alarms (full, only after all routine), expired, damaged (failed checksum), interrupted (windows open at a crash). */
    dropped: { routine: number; alarms: number; expired: number; damaged: number; interrupted: number };
    /** The most recent loss: count, span lost (from, to) and when it happened. */
    lastLoss: { count: number; from: string; to: string; at: string } | null;
    /** Losses not yet reported in a message of their topic. */
    unreported: number;
    /** Set when a damaged outbox was replaced at start (what happened, where the old file is). */
    recovered?: string;
  };
  mqtt: {
    state: string;
    protocol: string;
    connects: number;
    reconnects: number;
    disconnects: number;
    since: string | null;
    delivered: number;
    lastError: string | null;
  };
  clock: { synced: boolean; jumps: number };
  /** SoC temperature, °C; null where the board has no such sensor. */
  cpuTempC: number | null;
  /** The state folder's file system. */
  disk: { freeBytes: number; totalBytes: number } | null;
  commands: { received: number; rejected: number; rateLimited: number };
  /** Only with `publish.budget`: the month's bytes on the wire against the SIM plan's. */
  budget?: BudgetReport;
  /** Sections registered by features (sensor faults, serial links…), by name. */
  sections: Record<string, HealthSection>;
}

export interface HealthSources {
  device: string;
  version: string;
  configHash: string;
  wallMs: number;
  synced: boolean;
  uptimeS: number;
  outbox: OutboxStats;
  recovered?: string;
  mqtt: SessionCounters;
  clockJumps: number;
  cpuTempC: number | null;
  disk: { freeBytes: number; totalBytes: number } | null;
  commands: { received: number; rejected: number; rateLimited: number };
  budget?: BudgetReport;
  sections: Record<string, HealthSection>;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function buildHealthReport(s: HealthSources): HealthReport {
  const o = s.outbox;
  const last = o.drops.last;
  const report: HealthReport = {
    health: 1,
    device: s.device,
    time: iso(s.wallMs),
    timeq: s.synced ? "synced" : "unsynced",
    uptimeS: Math.round(s.uptimeS),
    software: { name: "roadside", version: s.version },
    configHash: s.configHash,
    outbox: {
      depth: o.depth,
      bytes: o.bytes,
      maxBytes: o.maxBytes,
      oldestAgeS: o.oldestMs === undefined ? null : Math.max(0, Math.round((s.wallMs - o.oldestMs) / 1000)),
      nextSeq: o.nextSeq,
      dropped: {
        routine: o.drops.routine,
        alarms: o.drops.alarms,
        expired: o.drops.expired,
        damaged: o.drops.damaged,
        interrupted: o.drops.interrupted,
      },
      lastLoss: last ? { count: last.count, from: iso(last.fromMs), to: iso(last.toMs), at: iso(last.atMs) } : null,
      unreported: o.unreported,
    },
    mqtt: {
      state: s.mqtt.state,
      protocol: s.mqtt.protocol,
      connects: s.mqtt.connects,
      reconnects: Math.max(0, s.mqtt.connects - 1),
      disconnects: s.mqtt.disconnects,
      since: s.mqtt.sinceMs === null ? null : iso(s.mqtt.sinceMs),
      delivered: s.mqtt.delivered,
      lastError: s.mqtt.lastError,
    },
    clock: { synced: s.synced, jumps: s.clockJumps },
    cpuTempC: s.cpuTempC,
    disk: s.disk,
    commands: s.commands,
    ...(s.budget ? { budget: s.budget } : {}),
    sections: s.sections,
  };
  if (s.recovered !== undefined) report.outbox.recovered = s.recovered;
  return report;
}
