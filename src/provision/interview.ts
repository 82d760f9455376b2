import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import type { Board } from "../config/boards.js";
import { findLine, resolveSerialPath } from "../config/boards.js";
import { dividesHour, parseDuration, SUGGESTED_WINDOWS } from "../config/duration.js";
import { TOPIC_SAFE } from "../config/types.js";
import type { LaneAnswer, ProvisionAnswers } from "./build.js";
import { parseLineRef, schemaHas, showLineRef, SUGGESTED_LINES, TLS_PATHS } from "./build.js";
import type { Prompter } from "./prompter.js";
import type { SensorAnswer, SensorKind } from "./sensors.js";
import { parseAdc, SENSOR_KINDS } from "./sensors.js";

export interface InterviewOptions {
  boards: ReadonlyMap<string, Board>;
  /** The board the device tree names, if any: the default answer. */
  detected?: Board | undefined;
  /** Answers already given as flags: asked again with these as defaults. */
  given: Partial<ProvisionAnswers>;
  /** Default device id (e.g. from the host name). */
  defaultId: string;
  write: (text: string) => void;
}

/**
 * The questions of `roadside provision` on a terminal, in the order a technician wires a cabinet:
 * who the device is, which board, the lanes and the lines their detector cards are wired to, the
 * window, the broker. Each answer is checked at once where it can be, so a typo is asked again
 * rather than reported at the end.
 */
export async function interview(p: Prompter, o: InterviewOptions): Promise<ProvisionAnswers> {
  const g = o.given;
  o.write("roadside provision: answer each question, Enter keeps the [default].\n\n");
  const id = await p.askValid("Device id (letters, digits, _ and -)", g.id ?? o.defaultId, (a) =>
    TOPIC_SAFE.test(a)
      ? undefined
      : `${JSON.stringify(a)} cannot be used in MQTT topics; use letters, digits, _ and - only, e.g. pole-0042`,
  );
  const boardId = await askBoard(p, o);
  const board = o.boards.get(boardId);
  const site = await p.ask("Site, in words (e.g. A38 northbound, km 12.4)", g.site ?? "");
  const wiring = new Wiring(p, board);
  const lanes = await askLanes(p, g.lanes ?? [], wiring);
  const sensors = await askSensors(p, g.sensors ?? [], wiring);

  const window = await p.askValid("Summary window", g.window ?? "1m", (a) => {
    const s = parseDuration(a);
    return s !== undefined && s >= 5 && dividesHour(s) ? undefined : `use a window that divides an hour: ${SUGGESTED_WINDOWS}`;
  });
  const broker = await p.askValid("Broker URL (empty: embedded broker, for trying out only)", g.broker ?? "", (a) =>
    a === "" || /^(mqtts?|wss?):\/\/[^/\s]+/.test(a) ? undefined : "write e.g. mqtts://broker.city.example:8883",
  );
  const answers: ProvisionAnswers = { id, board: boardId, inputs: g.inputs ?? [], lanes, sensors, window, sets: g.sets ?? [] };
  if (site) answers.site = site;
  if (broker) answers.broker = broker;
  if (g.prefix) answers.prefix = g.prefix;
  if (g.encoding) answers.encoding = g.encoding;
  await askBrokerAccess(p, o, broker, answers);
  return answers;
}

/** The board, by number in the list printed or by name; the detected one is the default. */
async function askBoard(p: Prompter, o: InterviewOptions): Promise<string> {
  const ids = [...o.boards.keys()];
  o.write("Boards:\n");
  ids.forEach((b, i) => {
    o.write(`  ${i + 1}) ${b.padEnd(22)} ${o.boards.get(b)!.name}${o.detected?.id === b ? "  (this machine)" : ""}\n`);
  });
  const boardDefault = o.given.board ?? o.detected?.id ?? "sim";
  const boardAnswer = await p.askValid("Board (number or name)", boardDefault, (a) =>
    boardOf(a, ids) ? undefined : `no board ${JSON.stringify(a)}; pick 1–${ids.length} or a name above`,
  );
  return boardOf(boardAnswer, ids) ?? boardAnswer;
}

/**
 * The GPIO lines and serial ports wired so far: a line feeds one input and a port serves one
 * sensor, so a second use is asked again. Also suggests the next free line as a default.
 */
class Wiring {
  private readonly free: readonly string[];
  private nextLine = 0;
  // lines already wired (BCM number → what uses it): a line feeds one input only
  private readonly usedLines = new Map<number | string, string>();
  private readonly usedPorts = new Map<string, string>();

  constructor(
    private readonly p: Prompter,
    readonly board: Board | undefined,
  ) {
    this.free = SUGGESTED_LINES.filter((l) => !board || findLine(board, { line: l }));
  }

  /** The next suggested line nobody uses yet, if any is left. */
  suggestLine(): string | undefined {
    let def: string | undefined;
    while (def === undefined && this.nextLine < this.free.length * 2) {
      const c = this.free[this.nextLine++ % this.free.length]!;
      if (!this.usedLines.has(this.lineKey(c)!)) def = c;
    }
    return def;
  }

  async askLine(question: string, def: string, user: string, optional = false): Promise<string> {
    const a = await this.p.askValid(question, def, (x) => (optional && x === "" ? undefined : this.lineCheck(x)));
    const key = a === "" ? undefined : this.lineKey(a);
    if (key !== undefined && !this.usedLines.has(key)) this.usedLines.set(key, user);
    return a;
  }

  portCheck(a: string, adcOk: boolean): string | undefined {
    const { board } = this;
    if (a === "") return "give the serial port: a device path (/dev/ttyUSB0, /dev/serial/by-id/…) or a board port name";
    if (parseAdc(a)) return adcOk ? undefined : "this sensor is serial; give its serial port";
    const resolved = board ? resolveSerialPath(board, a) : a;
    if (resolved === undefined)
      return `${JSON.stringify(a)} is not a serial port of ${board!.id}; use a device path (/dev/ttyUSB0) or one of ${board!.serial.map((s) => s.name).join(", ") || "none"}`;
    const user = this.usedPorts.get(resolved);
    return user !== undefined ? `${a} is already used by ${user}; each sensor needs its own port` : undefined;
  }

  claimPort(port: string, user: string): void {
    const { board } = this;
    if (!parseAdc(port)) this.usedPorts.set(board ? (resolveSerialPath(board, port) ?? port) : port, user);
  }

  private lineKey(a: string): number | string | undefined {
    const ref = parseLineRef(a);
    if (!ref) return undefined;
    const found = this.board ? findLine(this.board, "pin" in ref ? { pin: ref.pin } : { line: ref.line }) : undefined;
    return found ? found.line : showLineRef(ref);
  }

  private lineCheck(a: string): string | undefined {
    const { board } = this;
    const ref = parseLineRef(a);
    if (!ref) return `${JSON.stringify(a)} is not a line: write GPIO17, 17 (BCM number) or pin:11 (header pin)`;
    if (board && !findLine(board, "pin" in ref ? { pin: ref.pin } : { line: ref.line }))
      return `${showLineRef(ref)} is not a usable GPIO of ${board.id} (see boards/${board.id}.json)`;
    const user = this.usedLines.get(this.lineKey(a)!);
    if (user !== undefined) return `${showLineRef(ref)} is already wired to ${user}; each line feeds one input`;
    return undefined;
  }
}

async function askLanes(p: Prompter, givenLanes: readonly LaneAnswer[], wiring: Wiring): Promise<LaneAnswer[]> {
  const count = Number(
    await p.askValid("How many lanes (detectors)", String(givenLanes.length || 2), (a) =>
      /^\d+$/.test(a) && Number(a) <= 8 ? undefined : "a number from 0 to 8",
    ),
  );
  const lanes: LaneAnswer[] = [];
  for (let i = 0; i < count; i++) lanes.push(await askLane(p, i, givenLanes[i], wiring));
  return lanes;
}

async function askLane(p: Prompter, i: number, prev: LaneAnswer | undefined, wiring: Wiring): Promise<LaneAnswer> {
  const name = await p.askValid(`Lane ${i + 1} name`, prev?.name ?? `lane${i + 1}`, (a) =>
    TOPIC_SAFE.test(a) ? undefined : "letters, digits, _ and - only: the name appears in topics",
  );
  const trap = await p.yesNo(`${name}: speed trap with two loops (upstream, downstream)`, prev ? prev.loops.length === 2 : true);
  const loops: string[] = [];
  for (const role of trap ? ["upstream", "downstream"] : ["loop"]) {
    const def = prev?.loops[loops.length] ?? wiring.suggestLine();
    loops.push(
      await wiring.askLine(
        `${name} ${role === "loop" ? "" : `${role} `}loop: card output wired to (GPIO17, 17 or pin:11)`,
        def ?? "GPIO17",
        `lane ${name}`,
      ),
    );
  }
  const mode = trap
    ? "presence"
    : (await p.ask(`${name}: card output mode, presence or pulse`, prev?.mode ?? "presence")) === "pulse"
      ? "pulse"
      : "presence";
  return mode === "pulse" ? { name, loops, mode } : { name, loops };
}

type SensorAnswers = { kind: SensorKind; answer: SensorAnswer }[];

async function askSensors(p: Prompter, given: Readonly<SensorAnswers>, wiring: Wiring): Promise<SensorAnswers> {
  const sensors: SensorAnswers = [];
  const names = new Set<string>();
  for (const kind of ["manhole", "bin", "probe", "rfid"] as const) {
    const givenOfKind = given.filter((s) => s.kind === kind).map((s) => s.answer);
    const n = Number(
      await p.askValid(`How many ${SENSOR_KINDS[kind].what}s`, String(givenOfKind.length), (a) =>
        /^\d+$/.test(a) && Number(a) <= 8 ? undefined : "a number from 0 to 8",
      ),
    );
    for (let i = 0; i < n; i++) sensors.push({ kind, answer: await askSensor(p, kind, i, givenOfKind[i], names, wiring) });
  }
  return sensors;
}

async function askSensor(
  p: Prompter,
  kind: SensorKind,
  i: number,
  prev: SensorAnswer | undefined,
  names: Set<string>,
  wiring: Wiring,
): Promise<SensorAnswer> {
  const def = SENSOR_KINDS[kind];
  const prefix = { manhole: "mh", bin: "bin", probe: "scanner", rfid: "reader" }[kind];
  const name = await p.askValid(`${def.what} ${i + 1} name`, prev?.name ?? `${prefix}${i + 1}`, (a) =>
    !TOPIC_SAFE.test(a)
      ? "letters, digits, _ and - only: the name appears in topics"
      : names.has(`${kind}:${a}`)
        ? `${a} is taken; give each ${def.what} its own name`
        : undefined,
  );
  names.add(`${kind}:${name}`);
  const port = await p.askValid(
    `${name}: serial port${kind === "manhole" ? " (or adc:CH for a 4–20 mA transducer)" : ""}`,
    prev?.port ?? "",
    (a) => wiring.portCheck(a, kind === "manhole"),
  );
  wiring.claimPort(port, `${def.what} ${name}`);
  const options = await askSensorOptions(p, kind, name, port, prev, wiring);
  for (const [k, v] of Object.entries(prev?.options ?? {})) if (!(k in options) && v !== "") options[k] = v;
  return { name, port, options };
}

const mmCheck = (a: string): string | undefined =>
  /^\d+(\.\d+)?\s*(mm|cm|m)?$/.test(a) ? undefined : "a length in millimetres, e.g. 2400 (or 2.4m)";

/** The settings of one sensor that depend on its kind (and, for a manhole, on serial or 4–20 mA). */
async function askSensorOptions(
  p: Prompter,
  kind: SensorKind,
  name: string,
  port: string,
  prev: SensorAnswer | undefined,
  wiring: Wiring,
): Promise<Record<string, string>> {
  const options: Record<string, string> = {};
  const ask = async (key: string, question: string, check?: (a: string) => string | undefined): Promise<void> => {
    const a = check ? await p.askValid(question, prev?.options[key] ?? "", check) : await p.ask(question, prev?.options[key] ?? "");
    if (a !== "") options[key] = a;
  };
  const required = (a: string): string | undefined => (a === "" ? "needed; " : "") + (mmCheck(a) ?? "") || undefined;
  const optionalLine = async (key: string, question: string): Promise<void> => {
    const a = await wiring.askLine(question, prev?.options[key] ?? "", `${name} ${key}`, true);
    if (a !== "") options[key] = a;
  };
  if (kind === "manhole") {
    if (parseAdc(port)) {
      await ask("span", `${name}: depth at 20 mA, mm`, required);
      await ask("offset", `${name}: transducer height above the channel invert, mm (empty: 0)`, (a) => (a === "" ? undefined : mmCheck(a)));
    } else {
      await ask("model", `${name}: MaxBotix model, hrxl, hrxl-10m, xl or lv (empty: hrxl)`, (a) =>
        a === "" || ["hrxl", "hrxl-10m", "xl", "lv"].includes(a) ? undefined : "hrxl, hrxl-10m, xl or lv",
      );
      await ask("mount", `${name}: sensor face above the channel invert, mm`, required);
    }
    await ask("overflow", `${name}: overflow (weir crest) above the invert, mm`, required);
    await optionalLine("cover", `${name}: cover switch wired to (empty: none)`);
  } else if (kind === "bin") {
    await ask("empty", `${name}: sensor to the bottom of the empty bin, mm`, required);
    await ask("full", `${name}: sensor to the full line, mm`, required);
    await optionalLine("lid", `${name}: lid switch wired to (empty: none)`);
    await optionalLine("tilt", `${name}: tilt switch wired to (empty: none)`);
  } else if (kind === "probe") {
    await ask("min-rssi", `${name}: count only devices stronger than, dBm (e.g. -80; empty: all)`, (a) =>
      a === "" || /^-\d+$/.test(a) ? undefined : "a negative whole number, e.g. -80",
    );
  }
  return options;
}

// a file that is not there is asked again now, not found missing on the pole
const fileCheck =
  (optional: boolean) =>
  (a: string): string | undefined => {
    if (a === "") return optional ? undefined : "give the file's path";
    const abs = resolve(a);
    return !existsSync(abs) ? `no file ${abs}; check the path` : !statSync(abs).isFile() ? `${abs} is not a file` : undefined;
  };

/** Credentials, TLS files and the command key, asked only when there is a broker (TLS only for mqtts/wss). */
async function askBrokerAccess(p: Prompter, o: InterviewOptions, broker: string, answers: ProvisionAnswers): Promise<void> {
  const g = o.given;
  if (broker) {
    const username = await p.ask("Broker user name (empty: none)", g.username ?? "");
    if (username) {
      answers.username = username;
      const pw = await p.askValid("File holding the broker password, one line (empty: none)", g.passwordFile ?? "", fileCheck(true));
      if (pw) answers.passwordFile = pw;
    }
  }
  if (broker.startsWith("mqtts") || broker.startsWith("wss")) {
    if (schemaHas(TLS_PATHS.ca)) {
      const tls: NonNullable<ProvisionAnswers["tls"]> = {};
      const ca = await p.askValid("CA certificate of the broker (PEM file; empty: the system's CAs)", g.tls?.ca ?? "", fileCheck(true));
      const cert = await p.askValid("Client certificate (PEM file; empty: none)", g.tls?.cert ?? "", fileCheck(true));
      const key = cert ? await p.askValid("Client key (PEM file)", g.tls?.key ?? "", fileCheck(false)) : "";
      if (ca) tls.ca = ca;
      if (cert) tls.cert = cert;
      if (key) tls.key = key;
      answers.tls = tls;
    } else {
      o.write("  (this version's config has no TLS file settings yet: the system's CAs verify the broker)\n");
    }
  }
  if (broker) {
    const key = await p.askValid(
      "Public key for signed config/restart commands (PEM file; empty: none)",
      g.controlKey ?? "",
      fileCheck(true),
    );
    if (key) answers.controlKey = key;
  }
}

function boardOf(answer: string, ids: readonly string[]): string | undefined {
  if (/^\d+$/.test(answer)) return ids[Number(answer) - 1];
  return ids.includes(answer) ? answer : undefined;
}
