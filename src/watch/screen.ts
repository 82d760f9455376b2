/**
 * Redraws a block of lines in place on a terminal (ANSI/VT100): the alternate screen, so the shell's
 * scrollback is left as it was, cursor hidden while drawing, each line cleared to its end, and the
 * rest of the screen cleared below. Redraws are coalesced to at most one per `minIntervalMs`, so a
 * burst of a thousand messages costs a few redraws, not a thousand.
 */
export interface ScreenOptions {
  write: (text: string) => void;
  /** Use the alternate screen (default true). */
  altScreen?: boolean;
  /** Least time between two redraws, ms. Default 250. */
  minIntervalMs?: number;
}

export const ESC = {
  altOn: "\x1b[?1049h",
  altOff: "\x1b[?1049l",
  hideCursor: "\x1b[?25l",
  showCursor: "\x1b[?25h",
  home: "\x1b[H",
  clearLine: "\x1b[K",
  clearBelow: "\x1b[J",
} as const;

export class Screen {
  private started = false;
  private timer: NodeJS.Timeout | undefined;
  private lastDraw = 0;
  private readonly minInterval: number;

  constructor(private readonly opts: ScreenOptions) {
    this.minInterval = opts.minIntervalMs ?? 250;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.opts.write(`${this.opts.altScreen === false ? "" : ESC.altOn}${ESC.hideCursor}${ESC.home}${ESC.clearBelow}`);
  }

  /** Draw now. */
  draw(lines: readonly string[]): void {
    if (!this.started) return;
    this.lastDraw = Date.now();
    this.opts.write(`${ESC.home}${lines.map((l) => `${l}${ESC.clearLine}`).join("\n")}\n${ESC.clearBelow}`);
  }

  /** Draw soon: at once if the last draw is old enough, else once the interval has passed. */
  schedule(render: () => readonly string[]): void {
    if (!this.started || this.timer) return;
    const wait = this.lastDraw + this.minInterval - Date.now();
    if (wait <= 0) {
      this.draw(render());
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.draw(render());
    }, wait);
  }

  /** Leave the screen as it was before start, cursor shown. */
  stop(): void {
    if (!this.started) return;
    this.started = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.opts.write(`${ESC.showCursor}${this.opts.altScreen === false ? "" : ESC.altOff}`);
  }
}
