import type { Board } from "../config/boards.js";
import { findLine } from "../config/boards.js";
import { dividesHour, parseDuration, SUGGESTED_WINDOWS } from "../config/duration.js";
import { TOPIC_SAFE } from "../config/types.js";
import type { LaneAnswer, ProvisionAnswers } from "./build.js";
import { parseLineRef, schemaHas, showLineRef, SUGGESTED_LINES, TLS_PATHS } from "./build.js";
import type { Prompter } from "./prompter.js";

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
    TOPIC_SAFE.test(a) ? undefined : `${JSON.stringify(a)} cannot be used in MQTT topics; use letters, digits, _ and - only, e.g. pole-0042`,
  );

  const ids = [...o.boards.keys()];
  o.write("Boards:\n");
  ids.forEach((b, i) => o.write(`  ${i + 1}) ${b.padEnd(22)} ${o.boards.get(b)!.name}${o.detected?.id === b ? "  (this machine)" : ""}\n`));
  const boardDefault = g.board ?? o.detected?.id ?? "sim";
  const boardAnswer = await p.askValid("Board (number or name)", boardDefault, (a) => (boardOf(a, ids) ? undefined : `no board ${JSON.stringify(a)}; pick 1–${ids.length} or a name above`));
  const boardId = boardOf(boardAnswer, ids) ?? boardAnswer;
  const board = o.boards.get(boardId);
  const site = await p.ask("Site, in words (e.g. A38 northbound, km 12.4)", g.site ?? "");

  const free = SUGGESTED_LINES.filter((l) => !board || findLine(board, { line: l }));
  let nextLine = 0;
  const lineCheck = (a: string): string | undefined => {
    const ref = parseLineRef(a);
    if (!ref) return `${JSON.stringify(a)} is not a line: write GPIO17, 17 (BCM number) or pin:11 (header pin)`;
    if (board && !findLine(board, "pin" in ref ? { pin: ref.pin } : { line: ref.line })) return `${showLineRef(ref)} is not a usable GPIO of ${board.id} (see boards/${board.id}.json)`;
    return undefined;
  };
  const givenLanes = g.lanes ?? [];
  const count = Number(await p.askValid("How many lanes (detectors)", String(givenLanes.length || 2), (a) => (/^\d+$/.test(a) && Number(a) <= 8 ? undefined : "a number from 0 to 8")));
  const lanes: LaneAnswer[] = [];
  for (let i = 0; i < count; i++) {
    const prev = givenLanes[i];
    const name = await p.askValid(`Lane ${i + 1} name`, prev?.name ?? `lane${i + 1}`, (a) => (TOPIC_SAFE.test(a) ? undefined : "letters, digits, _ and - only: the name appears in topics"));
    const trap = await p.yesNo(`${name}: speed trap with two loops (upstream, downstream)`, prev ? prev.loops.length === 2 : true);
    const loops: string[] = [];
    for (const role of trap ? ["upstream", "downstream"] : ["loop"]) {
      const def = prev?.loops[loops.length] ?? free[nextLine++ % Math.max(1, free.length)] ?? "GPIO17";
      loops.push(await p.askValid(`${name} ${role === "loop" ? "" : `${role} `}loop: card output wired to (GPIO17, 17 or pin:11)`, def, lineCheck));
    }
    const mode = trap ? "presence" : ((await p.ask(`${name}: card output mode, presence or pulse`, prev?.mode ?? "presence")) === "pulse" ? "pulse" : "presence");
    lanes.push(mode === "pulse" ? { name, loops, mode } : { name, loops });
  }

  const window = await p.askValid("Summary window", g.window ?? "1m", (a) => {
    const s = parseDuration(a);
    return s !== undefined && s >= 5 && dividesHour(s) ? undefined : `use a window that divides an hour: ${SUGGESTED_WINDOWS}`;
  });
  const broker = await p.askValid("Broker URL (empty: embedded broker, for trying out only)", g.broker ?? "", (a) =>
    a === "" || /^(mqtts?|wss?):\/\/[^/\s]+/.test(a) ? undefined : "write e.g. mqtts://broker.city.example:8883",
  );
  const answers: ProvisionAnswers = { id, board: boardId, inputs: g.inputs ?? [], lanes, window, sets: g.sets ?? [] };
  if (site) answers.site = site;
  if (broker) answers.broker = broker;
  if (g.prefix) answers.prefix = g.prefix;
  if (g.encoding) answers.encoding = g.encoding;
  if (broker.startsWith("mqtts") || broker.startsWith("wss")) {
    if (schemaHas(TLS_PATHS.ca)) {
      const tls: NonNullable<ProvisionAnswers["tls"]> = {};
      const ca = await p.ask("CA certificate of the broker (PEM file; empty: the system's CAs)", g.tls?.ca ?? "");
      const cert = await p.ask("Client certificate (PEM file; empty: none)", g.tls?.cert ?? "");
      const key = cert ? await p.ask("Client key (PEM file)", g.tls?.key ?? "") : "";
      if (ca) tls.ca = ca;
      if (cert) tls.cert = cert;
      if (key) tls.key = key;
      answers.tls = tls;
    } else {
      o.write("  (this version's config has no TLS file settings yet: the system's CAs verify the broker)\n");
    }
  }
  return answers;
}

function boardOf(answer: string, ids: readonly string[]): string | undefined {
  if (/^\d+$/.test(answer)) return ids[Number(answer) - 1];
  return ids.includes(answer) ? answer : undefined;
}
