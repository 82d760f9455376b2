import type { Clock } from "../clock/clock.js";
import { JsonlFile } from "./jsonl.js";
import type { TruthRecord } from "./scenario.js";
import { formatT } from "./trace.js";

/**
 * Ground truth beside a simulated run (`--truth truth.jsonl`): a header, then every TruthRecord the
 * scenarios and faults emit, one JSON object per line, with `t` (seconds since the start, µs) and,
 * in fleet runs, the device id. Instants inside records (`onNs`, `startNs`…) are on the run's
 * monotonic clock: `startMonoNs` in the header maps them to `start`.
 */
export class TruthWriter {
  private readonly file: JsonlFile;
  private startNs = 0;
  private started = false;
  /** Records written. */
  records = 0;

  constructor(
    path: string,
    private readonly clock: Clock,
    private readonly header: Record<string, unknown> = {},
  ) {
    this.file = new JsonlFile(path);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.startNs = this.clock.monoNs();
    this.file.open();
    this.file.write(
      JSON.stringify({
        truth: 1,
        start: new Date(Math.round(this.clock.toWallMs(this.startNs))).toISOString(),
        startMonoNs: this.startNs,
        ...this.header,
      }),
    );
  }

  /** A writer of one device's records (fleet runs tag each line with the device). */
  sink(device?: string): (r: TruthRecord) => void {
    return (r) => {
      if (!this.started) return;
      this.records++;
      const t = formatT(Math.round((this.clock.monoNs() - this.startNs) / 1000));
      this.file.write(`{"t":${t}${device ? `,"device":${JSON.stringify(device)}` : ""},${JSON.stringify(r).slice(1)}`);
    };
  }

  close(): void {
    if (!this.started) return;
    this.started = false;
    this.file.close();
  }
}
