import { spawn, type ChildProcess } from "node:child_process";

/**
 * The sensor on the virtual device's second UART: writes MaxBotix HRXL frames (`R` + 4 digits in mm
 * + CR, docs/sewer.md) into the host end of QEMU's ttyS1 (a unix socket QEMU listens on), at the
 * free-running sensor's rate (~6 frames/s), reconnecting whenever QEMU restarts (power cuts, boots).
 *
 * It runs in a child process: the test drives the guest with synchronous ssh calls that block its
 * own event loop for minutes (an install, doctor's watch), and a sensor does not stop talking while
 * a technician types.
 */
const SCRIPT = String.raw`
const net = require("node:net");
const [path, range, period] = process.argv.slice(1);
const frame = "R" + String(Math.round(Number(range))).padStart(4, "0") + "\r";
let sock, frames = 0;
setInterval(() => {
  if (!sock) {
    const s = net.connect(path);
    s.on("error", () => { if (sock === s) sock = undefined; s.destroy(); });
    s.on("close", () => { if (sock === s) sock = undefined; });
    s.on("data", () => {});
    sock = s;
    return;
  }
  // a guest that does not read (port closed) fills QEMU's FIFO and the socket: drop frames then, as
  // a UART with nobody listening does, rather than queue stale ones
  if (sock.connecting || !sock.writable || sock.writableLength > 64) return;
  sock.write(frame);
  frames++;
}, Number(period));
setInterval(() => process.stdout.write(frames + "\n"), 1000);
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
`;

export class MaxbotixFeeder {
  frames = 0;
  private child: ChildProcess | undefined;

  constructor(
    private readonly path: string,
    readonly rangeMm: number,
    private readonly periodMs = 160,
  ) {}

  start(): void {
    const child = spawn(process.execPath, ["-e", SCRIPT, this.path, String(this.rangeMm), String(this.periodMs)], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    child.stdout!.on("data", (d: Buffer) => {
      const last = d.toString().trim().split("\n").pop();
      if (last) this.frames = Number(last);
    });
    this.child = child;
  }

  stop(): void {
    // closing its stdin ends it (and it dies with the test process, whatever happens)
    this.child?.stdin?.end();
    this.child?.kill();
    this.child = undefined;
  }
}
