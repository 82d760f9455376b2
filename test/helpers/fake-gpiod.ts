import { appendFileSync, chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GpiodCommands } from "../../src/io/gpiod-tools.js";

/**
 * Fake `gpiomon`, `gpioget` and `gpiodetect` executables (real processes, as the backend runs them)
 * driven through files in a temp folder, so tests can make gpiomon print recorded lines, garbage,
 * exit, or fail to start.
 *
 * - `version`: what `--version` prints (default libgpiod v1.6.3).
 * - `chips`: what gpiodetect prints.
 * - `levels.json`: raw level per offset for gpioget; `gpioget.fail`: stderr text, exit 1.
 * - `gpiomon.fail`: stderr text, gpiomon exits 1 at once (a refused line request).
 * - `feed-N`: lines the N-th gpiomon prints (it follows the file). `!exit C` exits with code C,
 *   `!stderr TEXT` writes to stderr, `!raw TEXT` writes without a newline.
 * - `<tool>.calls`: one JSON argv per invocation.
 */
const SCRIPT = String.raw`
const fs = require("fs");
const path = require("path");
const dir = process.env.FAKE_GPIOD_DIR;
const tool = path.basename(process.argv[1]);
const args = process.argv.slice(2);
const read = (f) => { try { return fs.readFileSync(path.join(dir, f), "utf8"); } catch { return undefined; } };
const version = (read("version") || "gpiomon (libgpiod) v1.6.3").trim();
const v2 = /v2\./.test(version);
if (args.includes("--version") || args.includes("-v")) { process.stdout.write(version.replace("gpiomon", tool) + "\n"); process.exit(0); }
fs.appendFileSync(path.join(dir, tool + ".calls"), JSON.stringify(args) + "\n");
const offsets = args.filter((a, i) => /^\d+$/.test(a) && !["-c", "-B", "-b", "-p", "-C", "-F"].includes(args[i - 1]));
if (tool === "gpiodetect") { process.stdout.write(read("chips") ?? "gpiochip0 [pinctrl-bcm2711] (58 lines)\n"); process.exit(0); }
if (tool === "gpioget") {
  const fail = read("gpioget.fail");
  if (fail !== undefined) { process.stderr.write("gpioget: " + fail + "\n"); process.exit(1); }
  const levels = JSON.parse(read("levels.json") || "{}");
  const vals = offsets.map((o) => levels[o] ?? 0);
  process.stdout.write((v2 ? offsets.map((o, i) => JSON.stringify(o) + "=" + (vals[i] ? "active" : "inactive")).join(" ") : vals.join(" ")) + "\n");
  process.exit(0);
}
// gpiomon
const n = fs.readFileSync(path.join(dir, "gpiomon.calls"), "utf8").trim().split("\n").length;
fs.writeFileSync(path.join(dir, "gpiomon-" + n + ".pid"), String(process.pid));
const fail = read("gpiomon.fail");
if (fail !== undefined) { process.stderr.write("gpiomon: " + fail + "\n"); process.exit(1); }
process.on("SIGTERM", () => { fs.writeFileSync(path.join(dir, "gpiomon-" + n + ".term"), "1"); process.exit(0); });
if (v2 && args.includes("--banner")) process.stdout.write("Monitoring lines " + offsets.map((o) => "'" + o + "'").join(", ") + "...\n");
const feed = path.join(dir, "feed-" + n);
let pos = 0;
let rest = "";
setInterval(() => {
  let buf;
  try { buf = fs.readFileSync(feed); } catch { return; }
  if (buf.length <= pos) return;
  const text = rest + buf.subarray(pos).toString("latin1");
  pos = buf.length;
  const lines = text.split("\n");
  rest = lines.pop();
  for (const line of lines) {
    if (line.startsWith("!exit ")) process.exit(Number(line.slice(6)));
    else if (line.startsWith("!stderr ")) process.stderr.write(line.slice(8) + "\n");
    else if (line.startsWith("!raw ")) process.stdout.write(line.slice(5));
    else process.stdout.write(line + "\n");
  }
}, 5);
`;

export interface FakeGpiod {
  dir: string;
  commands: GpiodCommands;
  env: NodeJS.ProcessEnv;
  setVersion(text: string): void;
  setChips(text: string): void;
  /** Raw (electrical) levels gpioget reports, by offset. */
  setLevels(levels: Record<number, 0 | 1>): void;
  failGpioget(stderr: string | undefined): void;
  failGpiomon(stderr: string | undefined): void;
  /** Append lines for the n-th gpiomon (1-based) to print. */
  feed(n: number, ...lines: string[]): void;
  /** Number of gpiomon processes started so far (not counting --version). */
  monitors(): number;
  /** Wait until at least n gpiomon processes have started. */
  waitForMonitors(n: number, timeoutMs?: number): Promise<void>;
  /** Whether the n-th gpiomon got SIGTERM. */
  terminated(n: number): boolean;
  calls(tool: "gpiomon" | "gpioget" | "gpiodetect"): string[][];
  cleanup(): void;
}

export function fakeGpiod(): FakeGpiod {
  const dir = mkdtempSync(join(tmpdir(), "roadside-gpiod-"));
  const script = `#!${process.execPath}\n${SCRIPT}`;
  const commands = { gpiomon: join(dir, "gpiomon"), gpioget: join(dir, "gpioget"), gpiodetect: join(dir, "gpiodetect") };
  for (const p of Object.values(commands)) {
    writeFileSync(p, script);
    chmodSync(p, 0o755);
  }
  const put = (f: string, text: string | undefined): void => {
    const p = join(dir, f);
    if (text === undefined) rmSync(p, { force: true });
    else writeFileSync(p, text);
  };
  const monitors = (): number => {
    const p = join(dir, "gpiomon.calls");
    return existsSync(p) ? readFileSync(p, "utf8").trim().split("\n").filter(Boolean).length : 0;
  };
  return {
    dir,
    commands,
    env: { ...process.env, FAKE_GPIOD_DIR: dir },
    setVersion: (t) => put("version", t),
    setChips: (t) => put("chips", t),
    setLevels: (l) => put("levels.json", JSON.stringify(l)),
    failGpioget: (t) => put("gpioget.fail", t),
    failGpiomon: (t) => put("gpiomon.fail", t),
    feed: (n, ...lines) => appendFileSync(join(dir, `feed-${n}`), lines.map((l) => `${l}\n`).join("")),
    monitors,
    waitForMonitors: async (n, timeoutMs = 10_000) => {
      const end = Date.now() + timeoutMs;
      while (monitors() < n || !existsSync(join(dir, `gpiomon-${n}.pid`))) {
        if (Date.now() > end) throw new Error(`fake gpiomon #${n} did not start within ${timeoutMs} ms (${monitors()} started)`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    terminated: (n) => existsSync(join(dir, `gpiomon-${n}.term`)),
    calls: (tool) => {
      const p = join(dir, `${tool}.calls`);
      return existsSync(p)
        ? readFileSync(p, "utf8")
            .trim()
            .split("\n")
            .filter(Boolean)
            .map((l) => JSON.parse(l) as string[])
        : [];
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A v1 machine-format line as roadside's gpiomon prints it: `offset edge sec nsec`. */
export function v1Line(offset: number, rising: boolean, tNs: number): string {
  return `${offset} ${rising ? 1 : 0} ${Math.floor(tNs / 1e9)} ${tNs % 1e9}`;
}

/** A v2 machine-format line: `offset edge sec.nnnnnnnnn` (falling = 2). */
export function v2Line(offset: number, rising: boolean, tNs: number): string {
  return `${offset} ${rising ? 1 : 2} ${Math.floor(tNs / 1e9)}.${String(tNs % 1e9).padStart(9, "0")}`;
}
