import { readFileSync, statfsSync } from "node:fs";

/** Readings of the board itself for the health heartbeat. Each returns null when unknown; none throws. */
export interface SystemProbe {
  /** SoC temperature, °C. */
  cpuTempC(): number | null;
  /** Free and total bytes of the file system holding `path` (the state folder). */
  disk(path: string): { freeBytes: number; totalBytes: number } | null;
}

/**
 * Linux: the thermal zone file holds millidegrees Celsius as text (Raspberry Pi OS:
 * /sys/class/thermal/thermal_zone0/temp is the SoC); statfs gives the disk.
 */
export function linuxSystemProbe(cpuTempFile = "/sys/class/thermal/thermal_zone0/temp"): SystemProbe {
  return {
    cpuTempC() {
      try {
        const milli = Number.parseInt(readFileSync(cpuTempFile, "utf8").trim(), 10);
        return Number.isFinite(milli) ? Math.round(milli / 100) / 10 : null;
      } catch {
        return null;
      }
    },
    disk(path: string) {
      try {
        const s = statfsSync(path);
        // bavail: what an unprivileged process may still use (root's reserve excluded)
        return { freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
      } catch {
        return null;
      }
    },
  };
}
