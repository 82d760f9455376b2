import { copyFileSync, existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { Document, isScalar, visit } from "yaml";
import { loadBoards } from "../config/boards.js";
import { formatIssues, validateConfig } from "../config/load.js";
import { TOPIC_SAFE } from "../config/types.js";
import { matchBoard, readMachine } from "../doctor/board.js";
import type { LaneAnswer, ProvisionAnswers } from "../provision/build.js";
import { buildConfig, parseLineRef } from "../provision/build.js";
import type { Placement } from "../provision/files.js";
import { planFiles, retarget, SECRETS_DIR } from "../provision/files.js";
import { interview } from "../provision/interview.js";
import type { FileRole } from "../provision/owner.js";
import { applyOwnership, systemAccounts } from "../provision/owner.js";
import { Prompter } from "../provision/prompter.js";
import { DEVICE_ETC, SeedError, writeSeed } from "../provision/seed.js";
import type { SensorKind } from "../provision/sensors.js";
import { parseSensorSpec } from "../provision/sensors.js";
import { UserDataError } from "../provision/userdata.js";
import type { Io } from "./args.js";
import { EXIT, parse, UsageError } from "./args.js";
import { version } from "./version.js";

export const PROVISION_HELP = `Usage: roadside provision [options]

Write a device config for a board and a site, check it against the schema
and the board, and save it: to a file (-o), or with --seed onto a freshly
flashed card's boot partition, where the device installs itself on its
first boot. On a terminal without --id (or with --interactive) it asks each
setting in turn, flags giving the defaults.

Options:
  -o, --output FILE      where to write (default: ./<device id>.yaml; on a
                         device: /etc/roadside/device.yaml, what the service
                         reads). Files the config names (--ca, --key, …) are
                         copied beside it, secrets into secrets/. As root:
                         the config root:roadside 0640, secrets roadside 0600.
      --seed DIR         write a first-boot seed into DIR, the card's mounted
                         boot partition (e.g. /media/$USER/bootfs) after
                         flashing Raspberry Pi OS with Raspberry Pi Imager:
                         DIR/roadside/ (config, files, bundle, firstboot.sh)
                         and a runcmd entry in DIR/user-data, keeping what
                         Imager wrote. Re-running replaces roadside's part.
      --bundle FILE      with --seed: the offline bundle to put on the card
                         (scripts/bundle.sh output, with FILE.sha256 beside
                         it). Default: build one with scripts/bundle.sh
                         (in a checkout only).
      --arch ARCH        with --seed: arm64 (default for Raspberry Pi boards),
                         armhf (32-bit Raspberry Pi OS) or x64
      --id ID            device id, e.g. pole-0042 (letters, digits, _ and -)
      --board BOARD      raspberry-pi-5, raspberry-pi-4, raspberry-pi-3,
                         raspberry-pi-zero-2w or sim (default: this machine's,
                         from the device tree)
      --site TEXT        where it is installed, in words (published in the manifest)
      --lane NAME=A[,B]  a lane: one loop, or upstream,downstream for a speed trap.
                         A and B are lines (GPIO17, 17, pin:11), which make inputs
                         NAME.up and NAME.down, or input names from --input. Repeatable.
      --pulse NAME       lane NAME's card is in pulse mode (counts only). Repeatable.
      --manhole NAME=PORT,mount=MM,overflow=MM[,model=M][,cover=LINE][,window=W]
                         a manhole level sensor: MaxBotix on serial PORT
                         (/dev/ttyUSB0, serial0), mounted MM above the channel
                         invert, overflow (weir crest) MM above it; model hrxl
                         (default), hrxl-10m, xl or lv; cover switch on LINE.
                         4–20 mA: PORT adc:CH[@0x49],span=MM[,offset=MM].
      --bin NAME=PORT,empty=MM,full=MM[,lid=LINE][,tilt=LINE][,temp=adc:CH][,every=T]
                         a bin fill sensor: distances from the sensor to the
                         empty bin's bottom and to the full line.
      --probe NAME=PORT[,min-rssi=DBM][,baud=N][,window=W]
                         a Wi-Fi/Bluetooth probe scanner (counts only).
      --rfid NAME=PORT[,repeat=T][,baud=N][,window=W]
                         an RFID reader at a bin (counts only).
      --input NAME=LINE  an input by GPIO name, BCM number or header pin (pin:11).
                         Repeatable.
      --window TIME      summary window: 10s, 20s, 30s, 1m (default), 5m, 15m, 1h
      --broker URL       MQTT broker, e.g. mqtts://broker.city.example:8883
                         (default: none, the embedded broker, for trying out)
      --prefix P         topic prefix (default roadside)
      --encoding E       cbor (default) or json
      --username NAME    user name for the broker
      --password-file F  file holding the broker password (one line)
      --ca FILE          CA certificate of the broker (PEM)
      --cert FILE        client certificate (PEM), with --key, for mutual TLS
      --key FILE         client key (PEM)
      --control-key FILE Ed25519 public key (PEM) that signed config and restart
                         commands must match (control.publicKeyFile)
      --set PATH=VALUE   any other setting; VALUE is YAML. Keys with dots in
                         brackets: --set 'inputs[lane1.up].glitchMs=20'. Repeatable.
  -i, --interactive      ask, even when flags are given
      --stdout           print the config instead of writing it
  -f, --force            overwrite FILE (the old one is kept as FILE.bak); with
                         --seed, write into a DIR that does not look like a boot
                         partition
  -h, --help             show this help

--manhole, --bin, --probe and --rfid are repeatable; docs/field-guide.md has
an example of each. On board sim every lane and sensor gets simulated
signals (lanes 600 veh/h; change with --set sim.traffic.NAME.vehiclesPerHour=900).

Exit codes: 0 written, 1 writing failed, 2 bad usage or the config has
problems (each printed as path: message; nothing is written).
`;

const SENSOR_FLAGS: Record<string, SensorKind> = { manhole: "manhole", bin: "bin", probe: "probe", rfid: "rfid" };

const PROVISION_FLAGS = {
  output: { type: "string", short: "o" },
  seed: { type: "string" },
  bundle: { type: "string" },
  arch: { type: "string" },
  id: { type: "string" },
  board: { type: "string" },
  site: { type: "string" },
  lane: { type: "string", multiple: true },
  pulse: { type: "string", multiple: true },
  manhole: { type: "string", multiple: true },
  bin: { type: "string", multiple: true },
  probe: { type: "string", multiple: true },
  rfid: { type: "string", multiple: true },
  input: { type: "string", multiple: true },
  window: { type: "string" },
  broker: { type: "string" },
  prefix: { type: "string" },
  encoding: { type: "string" },
  username: { type: "string" },
  "password-file": { type: "string" },
  ca: { type: "string" },
  cert: { type: "string" },
  key: { type: "string" },
  "control-key": { type: "string" },
  set: { type: "string", multiple: true },
  interactive: { type: "boolean", short: "i" },
  stdout: { type: "boolean" },
  force: { type: "boolean", short: "f" },
} as const;

type ProvisionFlags = ReturnType<typeof parse<typeof PROVISION_FLAGS>>["values"];

export async function provisionCommand(argv: string[], io: Io, stdin: Readable & { isTTY?: boolean } = process.stdin): Promise<number> {
  const { values } = parse(argv, PROVISION_FLAGS);
  if (values.help) {
    io.out(PROVISION_HELP);
    return EXIT.ok;
  }
  if (values.encoding !== undefined && values.encoding !== "cbor" && values.encoding !== "json")
    throw new UsageError(`--encoding ${JSON.stringify(values.encoding)}: use cbor or json`);
  if (values.seed !== undefined && (values.output !== undefined || values.stdout))
    throw new UsageError("--seed writes the config onto the card (DIR/roadside/etc/device.yaml); leave out --output and --stdout");
  if (values.seed === undefined && (values.bundle !== undefined || values.arch !== undefined))
    throw new UsageError(`${values.bundle !== undefined ? "--bundle" : "--arch"} goes with --seed DIR (the card's boot partition)`);
  const boards = loadBoards();
  const machine = readMachine();
  const detected = machine ? matchBoard(machine, boards) : undefined;
  const given = answersFromFlags(values);
  const { answers, output } = await completeAnswers(values, given, { boards, detected }, io, stdin);
  return checkAndWrite(values, answers, output, boards, io);
}

/** What the flags already answer; the rest is asked, or must be given (UsageError on a bad flag). */
function answersFromFlags(values: ProvisionFlags): Partial<ProvisionAnswers> {
  const given: Partial<ProvisionAnswers> = { inputs: [], lanes: [], sensors: [], sets: values.set ?? [] };
  for (const spec of values.input ?? []) {
    const [name, ref] = splitOnce(spec, "--input", "NAME=LINE, e.g. --input lane1.up=GPIO17");
    const line = parseLineRef(ref);
    if (!line)
      throw new UsageError(`--input ${spec}: ${JSON.stringify(ref)} is not a line; write GPIO17, 17 (BCM number) or pin:11 (header pin)`);
    given.inputs!.push({ name, ref: line });
  }
  const pulse = new Set(values.pulse ?? []);
  for (const spec of values.lane ?? []) {
    const [name, loops] = splitOnce(spec, "--lane", "NAME=LOOP[,LOOP], e.g. --lane lane1=GPIO17,GPIO27");
    const lane: LaneAnswer = {
      name,
      loops: loops
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    };
    if (pulse.has(name)) lane.mode = "pulse";
    given.lanes!.push(lane);
  }
  for (const name of pulse)
    if (!given.lanes!.some((l) => l.name === name)) throw new UsageError(`--pulse ${name}: no --lane ${name}=… to apply it to`);
  for (const [flag, kind] of Object.entries(SENSOR_FLAGS)) {
    for (const spec of (values[flag as keyof typeof values] as string[] | undefined) ?? []) {
      const answer = parseSensorSpec(kind, spec);
      if (typeof answer === "string") throw new UsageError(answer);
      given.sensors!.push({ kind, answer });
    }
  }
  if (values.id !== undefined) given.id = values.id;
  if (values.board !== undefined) given.board = values.board;
  if (values.site !== undefined) given.site = values.site;
  if (values.window !== undefined) given.window = values.window;
  if (values.broker !== undefined) given.broker = values.broker;
  if (values.prefix !== undefined) given.prefix = values.prefix;
  if (values.encoding !== undefined) given.encoding = values.encoding as "cbor" | "json";
  if (values.username !== undefined) given.username = values.username;
  if (values["password-file"] !== undefined) given.passwordFile = values["password-file"];
  if (values["control-key"] !== undefined) given.controlKey = values["control-key"];
  if (values.ca || values.cert || values.key)
    given.tls = {
      ...(values.ca ? { ca: values.ca } : {}),
      ...(values.cert ? { cert: values.cert } : {}),
      ...(values.key ? { key: values.key } : {}),
    };
  return given;
}

/** The interview on a terminal (flags as defaults), or the flags alone; also where to write, if asked. */
async function completeAnswers(
  values: ProvisionFlags,
  given: Partial<ProvisionAnswers>,
  hw: { boards: ReturnType<typeof loadBoards>; detected: ReturnType<typeof matchBoard> | undefined },
  io: Io,
  stdin: Readable & { isTTY?: boolean },
): Promise<{ answers: ProvisionAnswers; output: string | undefined }> {
  const { boards, detected } = hw;
  const interactive = values.interactive === true || (values.id === undefined && stdin.isTTY === true);
  let answers: ProvisionAnswers;
  let output = values.output;
  if (interactive) {
    const p = new Prompter(stdin, io.out, stdin.isTTY !== true);
    try {
      const host = hostname().toLowerCase();
      answers = await interview(p, {
        boards,
        detected,
        given,
        defaultId: TOPIC_SAFE.test(host) && host !== "raspberrypi" && host !== "localhost" ? host : "pole-0001",
        write: io.out,
      });
      if (output === undefined && !values.stdout && values.seed === undefined)
        output = await p.ask("Write the config to", `${answers.id}.yaml`);
    } finally {
      p.close();
    }
  } else {
    if (given.id === undefined)
      throw new UsageError("give the device id with --id (e.g. --id pole-0042), or run on a terminal (or with --interactive) to be asked");
    const board = given.board ?? detected?.id;
    if (board === undefined)
      throw new UsageError(`give the board with --board (${[...boards.keys()].join(", ")}); this machine's device tree names none of them`);
    answers = { id: given.id, board, inputs: given.inputs!, lanes: given.lanes!, sensors: given.sensors!, sets: given.sets! };
    for (const k of ["site", "window", "broker", "prefix", "encoding", "tls", "username", "passwordFile", "controlKey"] as const)
      if (given[k] !== undefined) Object.assign(answers, { [k]: given[k] });
  }
  return { answers, output };
}

/** Builds the config, checks it and the files it names, and prints it, writes it or seeds a card. */
function checkAndWrite(
  values: ProvisionFlags,
  answers: ProvisionAnswers,
  output: string | undefined,
  boards: ReturnType<typeof loadBoards>,
  io: Io,
): number {
  const { config, errors } = buildConfig(answers);
  // the files the config names: checked here, copied beside the config when it is written
  const files = values.stdout ? { placements: [], errors: [] } : planFiles(config, process.cwd());
  errors.push(...files.errors);
  if (errors.length > 0) {
    for (const e of errors) io.err(`${e}\n`);
    return EXIT.usage;
  }
  const seedDir = values.seed !== undefined ? resolve(values.seed) : undefined;
  const file = seedDir === undefined ? resolve(output ?? `${answers.id}.yaml`) : undefined;
  const finalDir = seedDir !== undefined ? DEVICE_ETC : dirname(file ?? ".");
  retarget(config, files.placements, finalDir);
  const result = validateConfig(config, { boards });
  if (!result.ok) {
    io.err(`the config for ${answers.id} has ${result.issues.length} problem${result.issues.length === 1 ? "" : "s"}; nothing written:\n`);
    for (const line of formatIssues(result.issues)) io.err(`${line}\n`);
    return EXIT.usage;
  }
  const { loaded } = result;
  const text = `# roadside device config: ${answers.id} on ${loaded.board.name}
# Written by \`roadside provision\` (roadside ${version()})${seedDir === undefined ? ` on ${new Date().toISOString().slice(0, 10)}` : " for first boot"}.
# Check it: roadside validate FILE. On site: roadside doctor --config FILE.
# Every setting and its default: docs/config-reference.md.
${toYaml(config)}`;
  if (values.stdout) {
    io.out(text);
    return EXIT.ok;
  }
  const summary = describe(loaded.config as unknown as Record<string, unknown>, loaded.lines, loaded.board.name);
  if (seedDir !== undefined) return seed(seedDir, text, files.placements, answers, values, io, summary);
  return writeConfigFile(file!, text, files.placements, values.force === true, io, summary);
}

function describe(c: Record<string, unknown>, lines: ReadonlyMap<string, { name: string }>, boardName: string): string {
  const cfg = c as {
    device: { id: string };
    detectors: Record<string, { loops: string[] }>;
    manholes: object;
    bins: object;
    identifiers: { scanners: object; readers: object };
    mqtt: { url?: string };
  };
  const lanes = Object.entries(cfg.detectors).map(
    ([n, d]) => `${n} (${d.loops.map((i) => lines.get(i)?.name ?? i).join("/")}${d.loops.length === 2 ? ", speed trap" : ""})`,
  );
  const parts = [lanes.length ? `lanes ${lanes.join(", ")}` : "no lanes"];
  const list = (label: string, o: object): void => {
    const names = Object.keys(o);
    if (names.length) parts.push(`${label} ${names.join(", ")}`);
  };
  list("manholes", cfg.manholes);
  list("bins", cfg.bins);
  list("probe scanners", cfg.identifiers.scanners);
  list("RFID readers", cfg.identifiers.readers);
  return `device ${cfg.device.id} on ${boardName}; ${parts.join("; ")}; broker ${cfg.mqtt.url ?? "embedded (trying out only)"}`;
}

function writeConfigFile(file: string, text: string, placements: readonly Placement[], force: boolean, io: Io, summary: string): number {
  if (existsSync(file) && !force) {
    io.err(
      `${file} exists; nothing written. Pass --force to replace it (the old one is kept as ${file}.bak), or choose another --output\n`,
    );
    return EXIT.usage;
  }
  const dir = dirname(file);
  const owned: { path: string; role: FileRole }[] = [];
  try {
    mkdirSync(dir, { recursive: true });
    if (existsSync(file)) copyFileSync(file, `${file}.bak`);
    for (const p of placements) {
      const dest = join(dir, p.dest);
      if (p.setting.secret && !owned.some((o) => o.role === "secrets-dir")) {
        mkdirSync(join(dir, SECRETS_DIR), { recursive: true });
        owned.push({ path: join(dir, SECRETS_DIR), role: "secrets-dir" });
      }
      if (dest !== p.source) copyFileSync(p.source, dest);
      owned.push({ path: dest, role: p.setting.secret ? "secret" : "public" });
    }
    // write then rename: a power cut mid-write leaves the old config, never half a new one
    const tmp = `${file}.tmp-${process.pid}`;
    writeFileSync(tmp, text, { mode: 0o640 });
    renameSync(tmp, file);
    owned.unshift({ path: file, role: "config" });
  } catch (err) {
    io.err(
      `cannot write ${file}: ${(err as NodeJS.ErrnoException).code === "EACCES" ? "permission denied; run with sudo, or choose another --output" : (err as Error).message}\n`,
    );
    return EXIT.failure;
  }
  const notes = applyOwnership(owned, systemAccounts(), process.getuid?.() === 0);
  io.out(`wrote ${file}: ${summary}\n`);
  for (const p of placements)
    io.out(
      `  ${p.source === join(dir, p.dest) ? "kept" : "copied"} ${p.setting.at.join(".")}: ${join(dir, p.dest)}${p.setting.secret ? " (secret: owner only)" : ""}\n`,
    );
  for (const n of notes) io.err(`note: ${n}\n`);
  io.out(`next: roadside doctor --config ${file}\n`);
  return EXIT.ok;
}

function seed(
  dir: string,
  text: string,
  placements: readonly Placement[],
  answers: ProvisionAnswers,
  values: { force?: boolean | undefined; bundle?: string | undefined; arch?: string | undefined },
  io: Io,
  summary: string,
): number {
  try {
    const r = writeSeed({
      dir,
      force: values.force === true,
      board: answers.board,
      id: answers.id,
      configText: text,
      placements,
      bundle: values.bundle !== undefined ? resolve(values.bundle) : undefined,
      arch: values.arch,
      appDir: fileURLToPath(new URL("../..", import.meta.url)),
      log: (l) => io.err(`${l}\n`),
    });
    io.out(`wrote the first-boot seed to ${dir}: ${summary}\n`);
    io.out(`  ${join(dir, "roadside", "etc", "device.yaml")} (on the device: ${DEVICE_ETC}/device.yaml)\n`);
    for (const p of placements)
      io.out(
        `  ${join(dir, "roadside", "etc", p.dest)} (${p.setting.at.join(".")}${p.setting.secret ? "; a secret: deleted from the card on first boot" : ""})\n`,
      );
    io.out(`  ${r.bundle} (+ .sha256)\n  ${join(dir, "roadside", "firstboot.sh")}\n`);
    io.out(
      `  ${join(dir, "user-data")} (${r.userData === "merged" ? "what was there kept, plus roadside's first-boot step" : "new"})${r.metaData === "created" ? `, ${join(dir, "meta-data")} (new)` : ""}\n`,
    );
    io.out(
      `next: eject the card, put it in the device and power it on; it installs roadside and starts publishing (check with roadside watch --device ${answers.id})\n`,
    );
    return EXIT.ok;
  } catch (err) {
    if (err instanceof SeedError || err instanceof UserDataError) {
      io.err(`${err.message}; nothing written\n`);
      return err instanceof SeedError ? err.exitCode : EXIT.usage;
    }
    io.err(
      `cannot write the seed to ${dir}: ${(err as NodeJS.ErrnoException).code === "EACCES" ? "permission denied; is the card mounted read-only?" : (err as Error).message}\n`,
    );
    return EXIT.failure;
  }
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
