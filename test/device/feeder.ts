import { connect, type Socket } from "node:net";

/**
 * The sensor on the virtual device's second UART: writes MaxBotix HRXL frames (`R` + 4 digits in mm
 * + CR, docs/sewer.md) into the host end of QEMU's ttyS1 (a unix socket QEMU listens on), at the
 * free-running sensor's rate (~6 frames/s). Reconnects whenever QEMU restarts (power cuts, boots).
 */
export class MaxbotixFeeder {
  rangeMm: number;
  frames = 0;
  private sock: Socket | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly path: string,
    rangeMm: number,
    private readonly periodMs = 160,
  ) {
    this.rangeMm = rangeMm;
  }

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.tick(), this.periodMs);
  }

  private tick(): void {
    if (this.stopped) return;
    if (!this.sock) {
      const s = connect(this.path);
      s.on("error", () => {
        if (this.sock === s) this.sock = undefined;
        s.destroy();
      });
      s.on("close", () => {
        if (this.sock === s) this.sock = undefined;
      });
      // whatever the guest writes (nothing, for a free-running sensor) is read and dropped
      s.on("data", () => {});
      this.sock = s;
      return;
    }
    if (!this.sock.writable || this.sock.connecting) return;
    this.sock.write(`R${String(Math.round(this.rangeMm)).padStart(4, "0")}\r`);
    this.frames++;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.sock?.destroy();
    this.sock = undefined;
  }
}
