/**
 * Parsing of `gpiomon` output (Debian package `gpiod`, libgpiod v1 and v2). Never throws: a line it
 * cannot read is reported as `garbage` and counted by the caller.
 *
 * roadside starts gpiomon with a machine format (see `gpiomonArgs` in gpiod-tools.ts):
 * - libgpiod v1 (`-F "%o %e %s %n"`): `17 1 1234 567890123`: offset, 1 rising / 0 falling, seconds,
 *   nanoseconds. v1 prints `%n` without zero padding (`1234 5` is 1234 s + 5 ns).
 * - libgpiod v2 (`-F "%o %e %S"`): `17 1 1234.567890123`: offset, 1 rising / 2 falling,
 *   seconds with nine decimals.
 * It also reads v1's default human format (DOMAIN.md §5), so output captured by a technician with a
 * plain `gpiomon` can be fed through the same code:
 *   `event:  RISING EDGE offset: 17 timestamp: [    1234.567890123]`
 * and v2's `--banner` line (`Monitoring line …`), which marks a successful line request.
 */

/** One edge as gpiomon printed it. Timestamps stay split (s, ns) so no precision is lost. */
export interface GpiomonEvent {
  offset: number;
  rising: boolean;
  sec: number;
  nsec: number;
}

export type GpiomonLine = "event" | "banner" | "blank" | "garbage";

const SPACE = 0x20;
const TAB = 0x09;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/** Scanner state over one line, kept in module-level scratch so the per-edge path allocates nothing. */
let pos = 0;

function skipSpaces(s: string): void {
  while (pos < s.length) {
    const c = s.charCodeAt(pos);
    if (c !== SPACE && c !== TAB) break;
    pos++;
  }
}

/** Read the decimal digits at `pos` into `digitsValue`; returns how many there were. */
let digitsValue = 0;
function digits(s: string): number {
  const start = pos;
  let v = 0;
  while (pos < s.length) {
    const c = s.charCodeAt(pos);
    if (c < ZERO || c > NINE) break;
    v = v * 10 + (c - ZERO);
    pos++;
  }
  digitsValue = v;
  return pos - start;
}

/** Unsigned decimal at `pos`; -1 if none. Limited to 15 digits so the result is exact in a float64. */
function uint(s: string): number {
  const n = digits(s);
  return n === 0 || n > 15 ? -1 : digitsValue;
}

/** Fractional digits after a dot as nanoseconds (`567890123`, or `5` → 500000000). -1 if malformed. */
function nanos(s: string): number {
  const n = digits(s);
  if (n === 0 || n > 9) return -1;
  let v = digitsValue;
  for (let i = n; i < 9; i++) v *= 10;
  return v;
}

const HUMAN = /^event:\s+(RISING|FALLING) EDGE offset:\s*(\d{1,6}) timestamp:\s*\[\s*(\d{1,15})\.(\d{1,9})\]\s*$/;

/**
 * Parse one line (without its newline) into `out`. Returns what the line was; `out` is only written
 * for `event`.
 */
export function parseGpiomonLine(line: string, out: GpiomonEvent): GpiomonLine {
  pos = 0;
  skipSpaces(line);
  if (pos >= line.length || (pos === line.length - 1 && line.charCodeAt(pos) === 0x0d)) return "blank";
  const first = line.charCodeAt(pos);
  if (first >= ZERO && first <= NINE) return parseMachine(line, out);
  if (line.startsWith("event:", pos)) {
    const m = HUMAN.exec(line);
    if (!m) return "garbage";
    out.offset = Number(m[2]);
    out.rising = m[1] === "RISING";
    out.sec = Number(m[3]);
    out.nsec = Number(m[4]!.padEnd(9, "0"));
    return "event";
  }
  if (line.startsWith("Monitoring line", pos)) return "banner";
  return "garbage";
}

function parseMachine(line: string, out: GpiomonEvent): GpiomonLine {
  const offset = uint(line);
  if (offset < 0 || offset > 65535) return "garbage";
  skipSpaces(line);
  const e = uint(line);
  // 1 = rising in both versions; falling is 0 in v1 and 2 in v2.
  if (e !== 0 && e !== 1 && e !== 2) return "garbage";
  skipSpaces(line);
  const sec = uint(line);
  if (sec < 0) return "garbage";
  let nsec: number;
  if (pos < line.length && line.charCodeAt(pos) === DOT) {
    pos++;
    nsec = nanos(line);
  } else {
    skipSpaces(line);
    nsec = uint(line);
  }
  if (nsec < 0 || nsec > 999_999_999) return "garbage";
  skipSpaces(line);
  if (pos < line.length && !(pos === line.length - 1 && line.charCodeAt(pos) === 0x0d)) return "garbage";
  out.offset = offset;
  out.rising = e === 1;
  out.sec = sec;
  out.nsec = nsec;
  return "event";
}

/**
 * Splits a byte stream into lines. Bounded: a "line" longer than `maxLine` bytes without a newline
 * (a helper printing binary garbage) is discarded and counted, so memory never grows with bad input.
 */
export class LineSplitter {
  private rest = "";
  /** Over-long runs discarded so far. */
  overlong = 0;
  private skipping = false;

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxLine = 4096,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl < 0) break;
      if (this.skipping) {
        this.skipping = false;
      } else {
        const part = chunk.toString("latin1", start, nl);
        const line = this.rest.length > 0 ? this.rest + part : part;
        this.rest = "";
        if (line.length <= this.maxLine) this.onLine(line);
        else this.overlong++;
      }
      start = nl + 1;
    }
    if (start < chunk.length && !this.skipping) {
      this.rest += chunk.toString("latin1", start);
      if (this.rest.length > this.maxLine) {
        this.rest = "";
        this.skipping = true;
        this.overlong++;
      }
    }
  }

  /** The unterminated tail, if any (a helper that died mid-line). */
  flush(): void {
    if (this.rest.length > 0 && !this.skipping) this.onLine(this.rest);
    this.rest = "";
    this.skipping = false;
  }
}
