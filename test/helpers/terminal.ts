import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";

/**
 * A tiny VT100 screen: enough of the escape sequences roadside's live views use (cursor home and
 * position, clear line / below / screen, the alternate screen, SGR colours ignored) to tell what a
 * person would see on the terminal at the end of a run.
 */
export class TerminalScreen {
  private cells: string[][];
  private row = 0;
  private col = 0;

  constructor(
    readonly columns: number,
    readonly rows: number,
  ) {
    this.cells = this.blank();
  }

  private blank(): string[][] {
    return Array.from({ length: this.rows }, () => new Array<string>(this.columns).fill(" "));
  }

  write(data: string): void {
    for (let i = 0; i < data.length; i++) {
      const ch = data[i]!;
      if (ch === "\x1b") {
        // biome-ignore lint/suspicious/noControlCharactersInRegex: CSI sequences start with ESC
        const m = /^\x1b\[([?0-9;]*)([A-Za-z])/.exec(data.slice(i));
        if (!m) continue;
        this.csi(m[1]!, m[2]!);
        i += m[0].length - 1;
      } else if (ch === "\r") {
        this.col = 0;
      } else if (ch === "\n") {
        this.lineFeed();
      } else if (ch >= " ") {
        if (this.col >= this.columns) {
          this.col = 0;
          this.lineFeed();
        }
        this.cells[this.row]![this.col++] = ch;
      }
    }
  }

  private lineFeed(): void {
    // a pty's output post-processing (onlcr) turns \n into \r\n
    this.col = 0;
    if (this.row < this.rows - 1) this.row++;
    else {
      this.cells.shift();
      this.cells.push(new Array<string>(this.columns).fill(" "));
    }
  }

  private csi(params: string, cmd: string): void {
    const n = params.split(";").map((p) => Number(p.replace("?", "")) || 0);
    switch (cmd) {
      case "H":
      case "f":
        this.row = Math.min(this.rows - 1, Math.max(0, (n[0] || 1) - 1));
        this.col = Math.min(this.columns - 1, Math.max(0, (n[1] || 1) - 1));
        break;
      case "K":
        for (let c = this.col; c < this.columns; c++) this.cells[this.row]![c] = " ";
        break;
      case "J":
        if (n[0] === 2) this.cells = this.blank();
        else {
          for (let c = this.col; c < this.columns; c++) this.cells[this.row]![c] = " ";
          for (let r = this.row + 1; r < this.rows; r++) this.cells[r] = new Array<string>(this.columns).fill(" ");
        }
        break;
      case "h":
      case "l":
        // ?1049h/l: alternate screen on/off: a fresh screen either way is close enough here
        if (params === "?1049") {
          this.cells = this.blank();
          this.row = 0;
          this.col = 0;
        }
        break;
      default:
        break; // m (colours) and the rest change nothing a test reads
    }
  }

  /** The screen as text lines, trailing spaces trimmed. */
  text(): string[] {
    return this.cells.map((r) => r.join("").replace(/\s+$/, ""));
  }
}

/** Whether util-linux `script` (runs a command in a pseudo-terminal) is installed. */
export function hasScript(): boolean {
  return spawnSync("sh", ["-c", "command -v script"]).status === 0;
}

export interface PtyRun {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | string>;
}

/**
 * Run a shell command in a pseudo-terminal of `columns`×`rows` with util-linux `script`, so the
 * program sees a TTY on stdout. Returns everything it drew.
 */
export function startInPty(command: string, opts: { columns: number; rows: number; env?: NodeJS.ProcessEnv }): PtyRun {
  const inner = `stty cols ${opts.columns} rows ${opts.rows}; exec ${command}`;
  const child = spawn("script", ["-q", "-e", "-c", inner, "/dev/null"], {
    env: { ...process.env, ...opts.env, TERM: "xterm-256color" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString("utf8")));
  child.stderr?.on("data", (d: Buffer) => (out += d.toString("utf8")));
  const exited = new Promise<number | string>((resolve) => child.on("exit", (code, signal) => resolve(code ?? signal ?? -1)));
  return { child, output: () => out, exited };
}
