import type { WatchEvent } from "./events.js";
import type { DeviceState, StreamState, WatchModel } from "./model.js";
import { healthView } from "./health.js";
import { age, duration, formatValue } from "./units.js";

export interface TableOptions {
  nowMs: number;
  /** Terminal width and height. */
  columns: number;
  rows: number;
  /** Show times in UTC (default: local time). */
  utc?: boolean;
  /** ANSI colours. */
  color?: boolean;
  /** First header line, e.g. `roadside watch  mqtt://…  roadside/+/#  connected`. */
  title: string;
}

const RED = 31;
const GREEN = 32;
const YELLOW = 33;

/**
 * The live table of `roadside watch`: a header with fleet totals, one row per device and stream
 * with its latest window in readable units, and the latest notable events (gaps, offline, alarms).
 * Returns the lines of one screen; each fits `columns` (ANSI colour codes excepted).
 */
export function renderTable(model: WatchModel, opts: TableOptions): string[] {
  const p = pen(opts);
  const lines = headerLines(model, p);
  const devices = [...model.devices.values()].sort((a, b) => a.id.localeCompare(b.id));
  const idW = Math.min(24, Math.max(6, ...devices.map((d) => d.id.length)));
  // the fleet's health first (zigbee2mqtt's device list: last seen and health per device), one line each
  if (devices.length > 0) lines.push(...healthLines(devices, p, idW));
  const streams = devices.flatMap((d) => [...d.streams.keys()]);
  const streamW = Math.min(24, Math.max(6, ...streams.map((s) => s.length)));
  const head = `${"DEVICE".padEnd(idW)}  ${"STATUS".padEnd(STATUS_W)}  ${"STREAM".padEnd(streamW)}  ${"WINDOW".padEnd(12)}  ${"SEQ".padStart(7)}  VALUES`;
  lines.push(p.paint(1, p.clip(head)));

  const events = model.notable.slice(-Math.max(0, Math.min(model.notable.length, Math.floor(opts.rows / 4))));
  const budget = Math.max(1, opts.rows - lines.length - (events.length > 0 ? events.length + 2 : 0) - 1);
  lines.push(...streamLines(devices, p, { idW, streamW, budget }));
  if (events.length > 0) {
    lines.push("");
    lines.push(p.paint(1, "RECENT"));
    for (const ev of events) {
      const [code, text] = describe(ev);
      const line = p.clip(`${p.clock(Date.parse(ev.receivedAt))}  ${text}`);
      lines.push(code ? p.paint(code, line) : line);
    }
  }
  return lines;
}

const STATUS_W = 12;

/** How one screen writes: times in the chosen zone, colours if on, lines clipped to the width. */
interface Pen {
  opts: TableOptions;
  clock: (ms: number) => string;
  paint: (code: number, s: string) => string;
  clip: (s: string) => string;
}

function pen(opts: TableOptions): Pen {
  return {
    opts,
    clock: (ms) => {
      const d = new Date(ms);
      return opts.utc ? d.toISOString().slice(11, 19) : d.toTimeString().slice(0, 8);
    },
    paint: (code, s) => (opts.color ? `\x1b[${code}m${s}\x1b[0m` : s),
    clip: (s) => (s.length > opts.columns ? `${s.slice(0, Math.max(0, opts.columns - 1))}…` : s),
  };
}

/** Title and time, the fleet totals, a device catching up on its backlog, and a blank line. */
function headerLines(model: WatchModel, p: Pen): string[] {
  const { opts, clip } = p;
  const t = model.totals();
  const lines: string[] = [];
  lines.push(clip(`${opts.title}  ${p.clock(opts.nowMs)}${opts.utc ? " UTC" : ""}`));
  const parts = [
    `${t.devices} device${t.devices === 1 ? "" : "s"}: ${t.online} online, ${t.offline} offline`,
    `${t.messages} messages`,
    `gaps ${t.gaps}${t.missing > 0 ? ` (${t.missing} missing)` : ""}`,
    `duplicates ${t.duplicates}`,
  ];
  if (t.resets > 0) parts.push(`counter restarts ${t.resets}`);
  if (t.invalid > 0) parts.push(`invalid ${t.invalid}`);
  if (t.conflicts > 0) parts.push(`conflicts ${t.conflicts}`);
  lines.push(clip(parts.join(" · ")));
  const behind = [...model.devices.values()].filter((d) => d.catchingUp);
  if (behind.length > 0) {
    const d = behind[0]!;
    lines.push(
      p.paint(
        YELLOW,
        clip(
          `catching up: ${d.id} ${duration(d.behindS)} behind, ${d.catchupMessages} backlog messages so far${behind.length > 1 ? ` (+${behind.length - 1} more devices)` : ""}`,
        ),
      ),
    );
  }
  lines.push("");
  return lines;
}

/** One line per device from its heartbeat (a third of the screen at most), then a blank line. */
function healthLines(devices: readonly DeviceState[], p: Pen, idW: number): string[] {
  const { opts, paint, clip } = p;
  const lines: string[] = [];
  lines.push(
    paint(
      1,
      clip(
        `${"DEVICE".padEnd(idW)}  ${"STATUS".padEnd(STATUS_W)}  ${"LAST SEEN".padEnd(9)}  ${"OUTBOX".padEnd(13)}  ${"DROPS".padStart(5)}  ${"CLOCK".padEnd(7)}  ${"TEMP".padStart(6)}  FAULTS`,
      ),
    ),
  );
  const budget = Math.max(1, Math.floor(opts.rows / 3));
  for (const d of devices.slice(0, budget)) {
    const h = d.health === undefined ? undefined : healthView(d.health);
    const seen = d.lastMessageMs === undefined ? "–" : `${age((opts.nowMs - d.lastMessageMs) / 1000)} ago`;
    const outbox =
      !h || h.outboxDepth === null
        ? "–"
        : h.outboxDepth === 0
          ? "0"
          : `${h.outboxDepth}${h.oldestAgeS !== null ? `, ${age(h.oldestAgeS)} old` : ""}`;
    const cells = [
      d.id.padEnd(idW),
      status(d, opts.nowMs).padEnd(STATUS_W),
      seen.padEnd(9),
      outbox.padEnd(13),
      (h?.drops ?? "–").toString().padStart(5),
      (!h || h.synced === null ? "–" : h.synced ? "synced" : "NOT NTP").padEnd(7),
      (h?.cpuTempC == null ? "–" : `${h.cpuTempC.toFixed(0)} °C`).padStart(6),
      !h ? "(no health yet)" : h.faults.length === 0 ? "none" : h.faults.join(", "),
    ];
    const bad = h !== undefined && (h.faults.length > 0 || h.synced === false || (h.oldestAgeS ?? 0) > 3600 || (h.cpuTempC ?? 0) >= 80);
    const line = clip(cells.join("  "));
    lines.push(d.status === "offline" ? paint(RED, line) : bad || d.silent || d.catchingUp ? paint(YELLOW, line) : line);
  }
  if (devices.length > budget) lines.push(clip(`… ${devices.length - budget} more devices`));
  lines.push("");
  return lines;
}

/** One row per device and stream with its latest window, as many as `budget` rows allow. */
function streamLines(devices: readonly DeviceState[], p: Pen, w: { idW: number; streamW: number; budget: number }): string[] {
  const { opts, paint, clip, clock } = p;
  const { idW, streamW, budget } = w;
  const body: string[] = [];
  let hidden = 0;
  for (const d of devices) {
    const st = status(d, opts.nowMs);
    const rows: StreamState[] = [...d.streams.values()].sort((a, b) => a.key.localeCompare(b.key));
    const color = d.status === "offline" ? RED : d.silent || d.catchingUp ? YELLOW : undefined;
    // a device with no stream yet has its line in the device list above
    if (rows.length === 0) continue;
    rows.forEach((s, i) => {
      const ev = s.last;
      const first = i === 0;
      const cells = [
        (first ? d.id : "").padEnd(idW),
        (first ? st : "").padEnd(STATUS_W),
        s.key.padEnd(streamW),
        (ev.type === "data" ? `${clock(Date.parse(ev.windowStart))} ${shortLen(ev.windowS)}` : clock(Date.parse(ev.time))).padEnd(12),
        String(ev.seq).padStart(7),
        values(ev),
      ];
      const line = clip(cells.join("  "));
      if (body.length < budget) body.push(color && first ? paint(color, line) : line);
      else hidden++;
    });
  }
  if (devices.length === 0) body.push("(waiting for messages…)");
  else if (body.length === 0) body.push("(no window closed yet)");
  if (hidden > 0) {
    body.pop();
    body.push(clip(`… ${hidden + 1} more rows; narrow it down with --device ID`));
  }
  return body;
}

function status(d: DeviceState, nowMs: number): string {
  // a retained status tells the state, not since when
  if (d.status === "offline") return d.statusRetained ? "OFFLINE" : `OFFLINE ${age((nowMs - d.statusMs) / 1000)}`;
  if (d.catchingUp) return `behind ${age(d.behindS)}`;
  if (d.silent && d.lastSeenMs !== undefined) return `silent ${age((nowMs - d.lastSeenMs) / 1000)}`;
  if (d.status === "online") return "online";
  return "?";
}

function shortLen(s: number): string {
  if (s >= 3600 && s % 3600 === 0) return `${s / 3600}h`;
  if (s >= 60 && s % 60 === 0) return `${s / 60}m`;
  return `${s}s`;
}

function values(ev: StreamState["last"]): string {
  const parts: string[] = [];
  if (ev.type === "alarm") {
    parts.push(`${ev.alarm} ${ev.state}`);
    if (ev.code !== undefined) parts.push(`code ${ev.code}`);
    if (ev.message !== undefined) parts.push(JSON.stringify(ev.message));
  }
  for (const [n, m] of Object.entries(ev.measures)) parts.push(`${n} ${formatValue(m, ev.type === "data" ? ev.kind : "alarm")}`);
  if (ev.type === "data") {
    if (ev.timeq !== "synced") parts.push(`time ${ev.timeq}`);
    if (Math.abs(ev.observedS - ev.windowS) > 0.5) parts.push(`partial ${duration(ev.observedS)}`);
  }
  return parts.join("  ");
}

/** One line for a notable event, with its colour. */
export function describe(ev: WatchEvent): [number | undefined, string] {
  switch (ev.type) {
    case "gap":
      return [YELLOW, `${ev.device}: gap, seq ${ev.from === ev.to ? ev.from : `${ev.from}–${ev.to}`} missing (${ev.missing})`];
    case "dropped":
      return [
        YELLOW,
        `${ev.device}: dropped ${ev.count} message${ev.count === 1 ? "" : "s"} of ${ev.topic.split("/").slice(-2).join("/")} (${ev.from.slice(0, 16).replace("T", " ")} – ${ev.to.slice(0, 16).replace("T", " ")} UTC), outbox full or expired`,
      ];
    case "reset":
      return [YELLOW, `${ev.device}: sequence restarted at ${ev.seq} after ${ev.previous} (device state was reset)`];
    case "status":
      return [
        ev.status === "offline" ? RED : GREEN,
        `${ev.device}: ${ev.status}${ev.retained ? " (retained, from before this watch)" : ""}`,
      ];
    case "alarm":
      return [
        RED,
        `${ev.device}: alarm ${ev.source} ${ev.alarm} ${ev.state}${ev.code !== undefined ? ` code ${ev.code}` : ""}${ev.message ? ` ${JSON.stringify(ev.message)}` : ""}`,
      ];
    case "silent":
      return [YELLOW, `${ev.device}: silent for ${duration(ev.silentS)} though online`];
    case "catchup":
      return ev.state === "start"
        ? [YELLOW, `${ev.device}: delivering a backlog, ${duration(ev.behindS)} behind`]
        : [GREEN, `${ev.device}: caught up after ${ev.messages} backlog messages`];
    case "doctor":
      return [undefined, `${ev.device}: doctor test publish received`];
    case "invalid":
      return [YELLOW, `${ev.topic}: ${ev.error}`];
    case "conflict":
      return [RED, `${ev.device}: conflicting payloads for ${ev.stream} window ${ev.windowStart.slice(11, 19)} UTC (${ev.detail})`];
    case "broker":
      return [ev.state === "connected" ? GREEN : RED, `broker ${ev.state}${ev.detail ? `: ${ev.detail}` : ""}`];
    default:
      return [undefined, `${"device" in ev ? ev.device : ""}: ${ev.type}`];
  }
}
