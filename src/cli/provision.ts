import { existsSync, mkdirSync, renameSync, writeFileSync, copyFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, resolve } from "node:path";
import type { Readable } from "node:stream";
import { Document, isScalar, visit } from "yaml";
import { loadBoards } from "../config/boards.js";
import { formatIssues, validateConfig } from "../config/load.js";
import { TOPIC_SAFE } from "../config/types.js";
import { matchBoard, readMachine } from "../doctor/board.js";
import type { LaneAnswer, ProvisionAnswers } from "../provision/build.js";
import { buildConfig, parseLineRef } from "../provision/build.js";
import { interview } from "../provision/interview.js";
import { Prompter } from "../provision/prompter.js";
import type { Io } from "./args.js";
import { EXIT, parse, UsageError } from "./args.js";
import { version } from "./version.js";

export const PROVISION_HELP = `Usage: roadside provision [options]

Write a device config for a board and a site, check it against the schema
and the board, and save it. On a terminal without --id (or with
--interactive) it asks each setting in turn, flags giving the defaults.

Options:
  -o, --output FILE      where to write (default: ./<device id>.yaml; on a
                         device: /etc/roadside/device.yaml, what the service reads)
      --id ID            device id, e.g. pole-0042 (letters, digits, _ and -)
      --board BOARD      raspberry-pi-5, raspberry-pi-4, raspberry-pi-3,
                         raspberry-pi-zero-2w or sim (default: this machine's,
                         from the device tree)
      --site TEXT        where it is installed, in words (published in the manifest)
      --lane NAME=A[,B]  a lane: one loop, or upstream,downstream for a speed trap.
                         A and B are lines (GPIO17, 17, pin:11), which make inputs
                         NAME.up and NAME.down, or input names from --input. Repeatable.
      --pulse NAME       lane NAME's card is in pulse mode (counts only). Repeatable.
      --input NAME=LINE  an input by GPIO name, BCM number or header pin (pin:11).
                         Repeatable.
      --window TIME      summary window: 10s, 20s, 30s, 1m (default), 5m, 15m, 1h
      --broker URL       MQTT broker, e.g. mqtts://broker.city.example:8883
                         (default: none, the embedded broker, for trying out)
      --prefix P         topic prefix (default roadside)
      --encoding E       cbor (default) or json
      --ca FILE          CA certificate of the broker (PEM)
      --cert FILE        client certificate (PEM), with --key, for mutual TLS
      --key FILE         client key (PEM)
      --set PATH=VALUE   any other setting; VALUE is YAML. Keys with dots in
                         brackets: --set 'inputs[lane1.up].glitchMs=20'. Repeatable.
  -i, --interactive      ask, even when flags are given
      --stdout           print the config instead of writing it
  -f, --force            overwrite FILE (the old one is kept as FILE.bak)
  -h, --help             show this help

On board sim every lane gets simulated traffic (600 veh/h; change it with
--set sim.traffic.NAME.vehiclesPerHour=900), so the device has data to publish.

Exit codes: 0 written, 2 bad usage or the config has problems (each printed
as path: message; nothing is written).
`;

export async function provisionCommand(argv: string[], io: Io, stdin: Readable & { isTTY?: boolean } = process.stdin): Promise<number> {
  const { values } = parse(argv, {
    output: { type: "string", short: "o" },
    id: { type: "string" },
    board: { type: "string" },
    site: { type: "string" },
    lane: { type: "string", multiple: true },
    pulse: { type: "string", multiple: true },
    input: { type: "string", multiple: true },
    window: { type: "string" },
    broker: { type: "string" },
    prefix: { type: "string" },
    encoding: { type: "string" },
    ca: { type: "string" },
    cert: { type: "string" },
    key: { type: "string" },
    set: { type: "string", multiple: true },
    interactive: { type: "boolean", short: "i" },
    stdout: { type: "boolean" },
    force: { type: "boolean", short: "f" },
  });
  if (values.help) {
    io.out(PROVISION_HELP);
    return EXIT.ok;
  }
  if (values.encoding !== undefined && values.encoding !== "cbor" && values.encoding !== "json") throw new UsageError(`--encoding ${JSON.stringify(values.encoding)}: use cbor or json`);
  const boards = loadBoards();
  const machine = readMachine();
  const detected = machine ? matchBoard(machine, boards) : undefined;

  const given: Partial<ProvisionAnswers> = { inputs: [], lanes: [], sets: values.set ?? [] };
  for (const spec of values.input ?? []) {
    const [name, ref] = splitOnce(spec, "--input", "NAME=LINE, e.g. --input lane1.up=GPIO17");
    const line = parseLineRef(ref);
    if (!line) throw new UsageError(`--input ${spec}: ${JSON.stringify(ref)} is not a line; write GPIO17, 17 (BCM number) or pin:11 (header pin)`);
    given.inputs!.push({ name, ref: line });
  }
  const pulse = new Set(values.pulse ?? []);
  for (const spec of values.lane ?? []) {
    const [name, loops] = splitOnce(spec, "--lane", "NAME=LOOP[,LOOP], e.g. --lane lane1=GPIO17,GPIO27");
    const lane: LaneAnswer = { name, loops: loops.split(",").map((s) => s.trim()).filter(Boolean) };
    if (pulse.has(name)) lane.mode = "pulse";
    given.lanes!.push(lane);
  }
  for (const name of pulse) if (!given.lanes!.some((l) => l.name === name)) throw new UsageError(`--pulse ${name}: no --lane ${name}=… to apply it to`);
  if (values.id !== undefined) given.id = values.id;
  if (values.board !== undefined) given.board = values.board;
  if (values.site !== undefined) given.site = values.site;
  if (values.window !== undefined) given.window = values.window;
  if (values.broker !== undefined) given.broker = values.broker;
  if (values.prefix !== undefined) given.prefix = values.prefix;
  if (values.encoding !== undefined) given.encoding = values.encoding as "cbor" | "json";
  if (values.ca || values.cert || values.key) given.tls = { ...(values.ca ? { ca: values.ca } : {}), ...(values.cert ? { cert: values.cert } : {}), ...(values.key ? { key: values.key } : {}) };

  const interactive = values.interactive === true || (values.id === undefined && stdin.isTTY === true);
  let answers: ProvisionAnswers;
  let output = values.output;
  if (interactive) {
    const p = new Prompter(stdin, io.out, stdin.isTTY !== true);
    try {
      const host = hostname().toLowerCase();
      answers = await interview(p, { boards, detected, given, defaultId: TOPIC_SAFE.test(host) && host !== "raspberrypi" && host !== "localhost" ? host : "pole-0001", write: io.out });
      if (output === undefined && !values.stdout) output = await p.ask("Write the config to", `${answers.id}.yaml`);
    } finally {
      p.close();
    }
  } else {
    if (given.id === undefined) throw new UsageError("give the device id with --id (e.g. --id pole-0042), or run on a terminal (or with --interactive) to be asked");
    const board = given.board ?? detected?.id;
    if (board === undefined) throw new UsageError(`give the board with --board (${[...boards.keys()].join(", ")}); this machine's device tree names none of them`);
    answers = { id: given.id, board, inputs: given.inputs!, lanes: given.lanes!, sets: given.sets! };
    for (const k of ["site", "window", "broker", "prefix", "encoding", "tls"] as const) if (given[k] !== undefined) Object.assign(answers, { [k]: given[k] });
  }

  const { config, errors } = buildConfig(answers);
  if (errors.length > 0) {
    for (const e of errors) io.err(`${e}\n`);
    return EXIT.usage;
  }
  const result = validateConfig(config, { boards });
  if (!result.ok) {
    io.err(`the config for ${answers.id} has ${result.issues.length} problem${result.issues.length === 1 ? "" : "s"}; nothing written:\n`);
    for (const line of formatIssues(result.issues)) io.err(`${line}\n`);
    return EXIT.usage;
  }
  const { loaded } = result;
  const text = `# roadside device config: ${answers.id} on ${loaded.board.name}
# Written by \`roadside provision\` (roadside ${version()}) on ${new Date().toISOString().slice(0, 10)}.
# Check it: roadside validate FILE. On site: roadside doctor --config FILE.
# Every setting and its default: docs/config-reference.md.
${toYaml(config)}`;
  if (values.stdout) {
    io.out(text);
    return EXIT.ok;
  }
  const file = resolve(output ?? `${answers.id}.yaml`);
  if (existsSync(file) && !values.force) {
    io.err(`${file} exists; nothing written. Pass --force to replace it (the old one is kept as ${file}.bak), or choose another --output\n`);
    return EXIT.usage;
  }
  try {
    mkdirSync(dirname(file), { recursive: true });
    if (existsSync(file)) copyFileSync(file, `${file}.bak`);
    // write then rename: a power cut mid-write leaves the old config, never half a new one
    const tmp = `${file}.tmp-${process.pid}`;
    writeFileSync(tmp, text, { mode: 0o640 });
    renameSync(tmp, file);
  } catch (err) {
    io.err(`cannot write ${file}: ${(err as NodeJS.ErrnoException).code === "EACCES" ? "permission denied; run with sudo, or choose another --output" : (err as Error).message}\n`);
    return EXIT.failure;
  }
  const lanes = Object.entries(loaded.config.detectors).map(([n, d]) => `${n} (${d.loops.map((i) => loaded.lines.get(i)?.name ?? i).join("/")}${d.loops.length === 2 ? ", speed trap" : ""})`);
  io.out(`wrote ${file}: device ${loaded.config.device.id} on ${loaded.board.name}; ${lanes.length ? `lanes ${lanes.join(", ")}` : "no lanes"}; broker ${loaded.config.mqtt.url ?? "embedded (trying out only)"}\n`);
  io.out(`next: roadside doctor --config ${file}\n`);
  return EXIT.ok;
}

function splitOnce(spec: string, flag: string, hint: string): [string, string] {
  const eq = spec.indexOf("=");
  if (eq <= 0 || eq === spec.length - 1) throw new UsageError(`${flag} ${JSON.stringify(spec)}: write ${hint}`);
  return [spec.slice(0, eq).trim(), spec.slice(eq + 1).trim()];
}

/** YAML as a person writes it: small leaf mappings and lists on one line, `{ line: GPIO17 }`. */
function toYaml(config: Record<string, unknown>): string {
  const doc = new Document(config);
  visit(doc, {
    Map: (_, node) => {
      if (node.items.length <= 4 && node.items.every((p) => isScalar(p.value))) node.flow = true;
    },
    Seq: (_, node) => {
      if (node.items.every((i) => isScalar(i))) node.flow = true;
    },
  });
  return doc.toString({ lineWidth: 0 });
}
