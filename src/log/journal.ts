import { fstatSync } from "node:fs";

/**
 * journald reads a service's stdout/stderr line by line; a line starting `<N>` (N a syslog priority,
 * sd-daemon(3): SD_ERR "<3>", SD_WARNING "<4>", SD_INFO "<6>", SD_DEBUG "<7>") is stored at that
 * priority when the unit keeps SyslogLevelPrefix=yes (systemd's default). Without the prefix every
 * line is info, and `journalctl -p warning` shows nothing: a technician filtering for trouble at
 * 3 a.m. would see a healthy device.
 */
export const SYSLOG_PRIORITY = { error: 3, warn: 4, info: 6, debug: 7 } as const;

/**
 * True when file descriptor `fd` is the stream systemd connected to journald. systemd sets
 * JOURNAL_STREAM to "DEVICE:INODE" of that stream (systemd.exec(5)); comparing it with the fd's own
 * stat tells a service's stderr from one redirected elsewhere by a child or a shell.
 */
export function isJournalStream(fd: number, env: NodeJS.ProcessEnv = process.env): boolean {
  const spec = env["JOURNAL_STREAM"];
  if (!spec) return false;
  const m = /^(\d+):(\d+)$/.exec(spec);
  if (!m) return false;
  try {
    const st = fstatSync(fd, { bigint: true });
    return st.dev === BigInt(m[1]!) && st.ino === BigInt(m[2]!);
  } catch {
    return false;
  }
}

/** Prefix every line of `text` with `<priority>`, so a multi-line message keeps its priority on each line. */
export function withPriority(text: string, priority: number): string {
  const tag = `<${priority}>`;
  const end = text.endsWith("\n");
  const body = end ? text.slice(0, -1) : text;
  return `${tag}${body.split("\n").join(`\n${tag}`)}${end ? "\n" : ""}`;
}
