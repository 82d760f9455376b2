import { writeFileSync } from "node:fs";
import { loadBoards } from "../config/boards.js";
import { formatIssue } from "../config/issues.js";
import { loadConfigFile } from "../config/load.js";
import { systemEnv } from "../doctor/check.js";
import { runDoctor } from "../doctor/index.js";
import { boardHardware } from "./hardware.js";
import { configAsWritten, journalSinceBoot, lastHealth, outboxStatistics, SUPPORT_BUNDLE_VERSION, versions } from "../doctor/support.js";
import type { Io } from "./args.js";
import { EXIT, parse, UsageError } from "./args.js";
import { jsonResult } from "./doctor.js";
import { checkDelivery, stateDir } from "./run.js";
import { version } from "./version.js";

export const SUPPORT_HELP = `Usage: roadside support [options]

Write a support bundle for a ticket: one JSON file with the versions
(roadside, Node.js, OS, machine), the board, the config as written with
secrets redacted, doctor's results (as doctor --json), the device's last
heartbeat (its retained …/health, read from its broker), outbox statistics
(counts and ages per topic; never a payload), and on systemd hosts the
service's journal since boot. It never holds a password, a key or a raw
identifier: credentials are not read, URLs lose their user:password, and
identifier ports are only counted. Stop the service first (sudo systemctl
stop roadside) for doctor's wiring check; the journal needs sudo.

Options:
  -c, --config FILE     device config (default /etc/roadside/device.yaml)
  -o, --output FILE     where to write it (default
                        roadside-support-{device}-{time}.json here; - for stdout)
  -s, --seconds N       how long doctor watches the inputs (default 10)
      --state-dir DIR   outbox folder (default as for roadside run)
      --journal-lines N most recent journal lines since boot (default 5000)
  -h, --help            show this help

Exit codes: 0 the bundle was written (whatever doctor found), 1 it could
not be written, 2 bad usage.
`;

export async function supportCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, {
    config: { type: "string", short: "c" },
    output: { type: "string", short: "o" },
    seconds: { type: "string", short: "s" },
    "state-dir": { type: "string" },
    "journal-lines": { type: "string" },
  });
  if (values.help) {
    io.out(SUPPORT_HELP);
    return EXIT.ok;
  }
  const seconds = values.seconds === undefined ? 10 : Number(values.seconds);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 600)
    throw new UsageError(`--seconds ${JSON.stringify(values.seconds)}: give a number of seconds from 1 to 600`);
  const journalLines = values["journal-lines"] === undefined ? 5000 : Number(values["journal-lines"]);
  if (!Number.isInteger(journalLines) || journalLines < 0 || journalLines > 1_000_000)
    throw new UsageError(`--journal-lines ${JSON.stringify(values["journal-lines"])}: give a whole number`);

  const configPath = values.config ?? "/etc/roadside/device.yaml";
  const result = loadConfigFile(configPath);
  const loaded = result.ok ? result.loaded : undefined;
  const created = new Date();
  const state = loaded ? stateDir(loaded, values["state-dir"]) : values["state-dir"];
  const say = (t: string): void => io.err(`roadside support: ${t}\n`);

  say("running doctor");
  const doctor = await runDoctor({
    configPath,
    loaded,
    issues: result.ok ? [] : result.issues,
    boards: loadBoards(),
    hardware: boardHardware,
    env: systemEnv,
    options: { seconds, realTime: false, brokerUrl: undefined, stateDir: state ?? ".", version: version(), checkDelivery },
    progress: () => {},
  });
  say("reading the last heartbeat, the outbox and the journal");
  const bundle = {
    supportBundle: SUPPORT_BUNDLE_VERSION,
    created: created.toISOString(),
    versions: versions(systemEnv, version()),
    board: loaded ? { id: loaded.board.id, name: loaded.board.name, io: loaded.board.io } : null,
    device: loaded ? { id: loaded.config.device.id, site: loaded.config.device.site ?? null } : null,
    config: { ...configAsWritten(configPath), problems: result.ok ? [] : result.issues.map(formatIssue) },
    doctor: doctor.map(jsonResult),
    health: loaded ? await lastHealth(loaded, 3000) : { unavailable: "the config does not validate" },
    outbox: state ? outboxStatistics(state, created.getTime()) : { unavailable: "the config does not validate; give --state-dir" },
    journal: await journalSinceBoot(systemEnv, "roadside.service", journalLines),
  };
  const text = `${JSON.stringify(bundle, null, 2)}\n`;
  if (values.output === "-") {
    io.out(text);
    return EXIT.ok;
  }
  const stamp = created
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  const out = values.output ?? `roadside-support-${loaded?.config.device.id ?? "unknown"}-${stamp}.json`;
  try {
    writeFileSync(out, text, { mode: 0o600 });
  } catch (err) {
    io.err(`roadside support: cannot write ${out}: ${(err as Error).message}\n`);
    return EXIT.failure;
  }
  const failed = doctor.filter((r) => r.status === "fail").length;
  say(`wrote ${out} (${text.length} bytes; doctor: ${failed} failed). Attach it to the ticket: it holds no password, key or identifier.`);
  return EXIT.ok;
}
