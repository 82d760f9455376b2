import { spawn } from "node:child_process";
import type { Bias, DigitalInputSpec } from "./contract.js";
import { IoError } from "./contract.js";

/**
 * The command-line tools of Debian's `gpiod` package (libgpiod), as the GPIO character-device
 * backend uses them: `gpiodetect` to find a chip by label, `gpioget` to read initial levels and
 * `gpiomon` to stream edges with kernel timestamps. Both major versions are supported; their options
 * differ (v1: `-B as-is|disable|pull-up|pull-down`, no debounce; v2: `-c chip`, `-b
 * pull-up|pull-down|disabled`, `-p 500us` debounce, `--banner`).
 */

/** Paths (or names on PATH) of the tools. Tests point these at fakes. */
export interface GpiodCommands {
  gpiomon: string;
  gpioget: string;
  gpiodetect: string;
}

export const GPIOD_COMMANDS: GpiodCommands = { gpiomon: "gpiomon", gpioget: "gpioget", gpiodetect: "gpiodetect" };

export const INSTALL_HINT = "install Debian's gpiod package (sudo apt install gpiod)";

export interface GpiodVersion {
  major: number;
  minor: number;
  text: string;
}

/** `gpiomon (libgpiod) v1.6.3` → { major: 1, minor: 6 }. */
export function parseGpiodVersion(text: string): GpiodVersion | undefined {
  const m = /\(libgpiod\)\s+v?(\d+)\.(\d+)/.exec(text);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), text: text.split("\n")[0]!.trim() };
}

export interface ChipInfo {
  /** Device name, e.g. gpiochip0 (the number can change between kernels; the label does not). */
  name: string;
  /** Label, e.g. pinctrl-rp1 (Pi 5), pinctrl-bcm2711 (Pi 4), pinctrl-bcm2835 (Pi 3). */
  label: string;
  lines: number;
}

/** `gpiochip0 [pinctrl-bcm2711] (58 lines)` per line, the same in v1 and v2. */
export function parseGpiodetect(text: string): ChipInfo[] {
  const out: ChipInfo[] = [];
  for (const line of text.split("\n")) {
    const m = /^\s*(\S+)\s+\[([^\]]*)\]\s+\((\d+)\s+lines?\)/.exec(line);
    if (m) out.push({ name: m[1]!, label: m[2]!, lines: Number(m[3]) });
  }
  return out;
}

/**
 * gpioget output: v1 prints `1 0`; v2 prints `"17"=active "27"=inactive` (or `1 0` with --numeric).
 * Returns the raw levels in order, or undefined when the output does not hold `count` of them.
 */
export function parseGpioget(text: string, count: number): (0 | 1)[] | undefined {
  const out: (0 | 1)[] = [];
  for (const tok of text.trim().split(/\s+/)) {
    if (tok === "1" || tok.endsWith("=active")) out.push(1);
    else if (tok === "0" || tok.endsWith("=inactive")) out.push(0);
    else if (tok.length > 0) return undefined;
  }
  return out.length === count ? out : undefined;
}

/** Inputs that one gpiomon process can watch: same bias and (v2) debounce, since options apply to all its lines. */
export interface LineGroup {
  bias: Bias;
  debounceUs: number;
  /** Indexes into the specs given to `open`. */
  indexes: number[];
  offsets: number[];
}

/** Split inputs by the options that must be equal within one process. */
export function groupLines(specs: readonly DigitalInputSpec[], version: GpiodVersion): LineGroup[] {
  const groups = new Map<string, LineGroup>();
  specs.forEach((s, i) => {
    const debounceUs = version.major >= 2 ? s.debounceUs : 0;
    const key = `${s.bias}/${debounceUs}`;
    let g = groups.get(key);
    if (!g) {
      g = { bias: s.bias, debounceUs, indexes: [], offsets: [] };
      groups.set(key, g);
    }
    g.indexes.push(i);
    g.offsets.push(s.line);
  });
  return [...groups.values()];
}

function biasArgs(bias: Bias, v: GpiodVersion): string[] {
  if (bias === "as-is") return [];
  if (v.major >= 2) return ["-b", bias === "disable" ? "disabled" : bias];
  return ["-B", bias];
}

/**
 * gpiomon's arguments. Active-low is never passed: roadside inverts in software, so one process can
 * serve inputs of both polarities and the printed edge is always the electrical one.
 * v1: `-b` makes stdout line-buffered (a pipe is block-buffered otherwise and edges would arrive
 * seconds late). v2 flushes before every poll by itself, and `--banner` tells us the lines were
 * requested successfully.
 */
export function gpiomonArgs(v: GpiodVersion, chip: string, g: LineGroup): string[] {
  const offsets = g.offsets.map(String);
  if (v.major >= 2) {
    return [
      "--banner",
      "-c",
      chip,
      "-C",
      "roadside",
      "-F",
      "%o %e %S",
      ...biasArgs(g.bias, v),
      ...(g.debounceUs > 0 ? ["-p", `${g.debounceUs}us`] : []),
      ...offsets,
    ];
  }
  return ["-b", "-F", "%o %e %s %n", ...biasArgs(g.bias, v), chip, ...offsets];
}

export function gpiogetArgs(v: GpiodVersion, chip: string, g: LineGroup): string[] {
  const offsets = g.offsets.map(String);
  if (v.major >= 2) return ["-c", chip, "-C", "roadside", ...biasArgs(g.bias, v), ...offsets];
  return [...biasArgs(g.bias, v), chip, ...offsets];
}

export interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Run a short-lived tool and collect its output. Rejects with an `IoError` ENOENT naming the package
 * when the tool is not installed, ETIMEDOUT when it hangs.
 */
export function runTool(
  cmd: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env: opts.env ?? process.env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      if (stdout.length < 65536) stdout += d.toString("latin1");
    });
    child.stderr.on("data", (d: Buffer) => {
      if (stderr.length < 65536) stderr += d.toString("latin1");
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new IoError("ETIMEDOUT", `${cmd} ${args.join(" ")} did not finish within ${opts.timeoutMs ?? 5000} ms`));
    }, opts.timeoutMs ?? 5000);
    child.once("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        err.code === "ENOENT"
          ? new IoError("ENOENT", `${cmd} is not installed or not on PATH; ${INSTALL_HINT}`, { cause: err })
          : new IoError(err.code ?? "EIO", `cannot run ${cmd}: ${err.message}`, { cause: err }),
      );
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Map a tool's error text to a code and a hint a technician can act on. */
export function explainToolError(stderr: string): { code: string; hint: string } {
  if (/busy/i.test(stderr))
    return { code: "EBUSY", hint: "another program holds the line; `gpioinfo` shows its consumer (stop it, or pick another line)" };
  if (/permission denied/i.test(stderr))
    return { code: "EACCES", hint: "add the service user to the gpio group (sudo usermod -aG gpio USER) and log in again" };
  if (/out of range|invalid argument|cannot find line|offset/i.test(stderr))
    return { code: "BAD_LINE", hint: "check the line numbers against `gpioinfo` and boards/*.json" };
  if (/no such file|cannot find GPIO chip|unable to open chip/i.test(stderr))
    return { code: "ENODEV", hint: "the GPIO chip disappeared; check `gpiodetect`" };
  return { code: "EIO", hint: "run the same gpiod command by hand to see why" };
}
