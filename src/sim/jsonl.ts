import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname } from "node:path";

/**
 * An append-only JSON Lines file written in large batches (one write per 64 KiB): a simulated day
 * produces hundreds of thousands of lines, and a write per line would dominate the run.
 * Constructing opens nothing; `open()` creates the file (and its folder).
 */
export class JsonlFile {
  private fd: number | undefined;
  private buf: string[] = [];
  private size = 0;
  /** Lines written so far. */
  lines = 0;

  constructor(
    readonly path: string,
    private readonly batchBytes = 65536,
  ) {}

  open(): void {
    if (this.fd !== undefined) return;
    mkdirSync(dirname(this.path), { recursive: true });
    this.fd = openSync(this.path, "w");
  }

  /** Append one line (without its newline). */
  write(line: string): void {
    this.buf.push(line);
    this.size += line.length + 1;
    this.lines++;
    if (this.size >= this.batchBytes) this.flush();
  }

  flush(): void {
    if (this.fd === undefined || this.buf.length === 0) return;
    writeSync(this.fd, `${this.buf.join("\n")}\n`);
    this.buf = [];
    this.size = 0;
  }

  close(): void {
    if (this.fd === undefined) return;
    this.flush();
    closeSync(this.fd);
    this.fd = undefined;
  }
}
