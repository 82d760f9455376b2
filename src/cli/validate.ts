import { dirname, resolve } from "node:path";
import { formatIssues, loadConfigFile } from "../config/load.js";
import type { Io } from "./args.js";
import { EXIT, parse, UsageError } from "./args.js";
import { checkDelivery } from "./run.js";

export const VALIDATE_HELP = `Usage: roadside validate FILE [FILE…]

Check device configs against the schema and the board, before any hardware
is touched, and the files they name as roadside run does (a password file
or key readable by others, a missing certificate). Prints every problem,
one per line, as  path: message  (the message names the bad value and the
fix).

Options:
  -q, --quiet   print nothing for valid files
      --no-files  check the schema and the board only, not the files the
                config names: for a config written for another machine,
                such as the one on a first-boot card (roadside provision
                --seed), whose files are placed at first boot
  -h, --help    show this help

Exit codes: 0 all valid, 2 a file has problems (or bad usage).
`;

export async function validateCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { quiet: { type: "boolean", short: "q" }, "no-files": { type: "boolean" } }, true);
  if (values.help) {
    io.out(VALIDATE_HELP);
    return EXIT.ok;
  }
  if (positionals.length === 0) throw new UsageError("name the config file to check, e.g. roadside validate /etc/roadside/device.yaml");
  let bad = 0;
  for (const file of positionals) {
    const r = loadConfigFile(file);
    if (r.ok) {
      // the file checks roadside run makes before it starts (a secret readable by others, a missing
      // CA file): a config that run refuses is not valid
      const files = values["no-files"] ? [] : checkDelivery(r.loaded, dirname(resolve(file)));
      if (files.length === 0) {
        if (!values.quiet) io.out(`${file}: ok (device ${r.loaded.config.device.id} on ${r.loaded.board.name})\n`);
        continue;
      }
      bad++;
      io.err(`${file}: ${files.length} problem${files.length === 1 ? "" : "s"}\n`);
      for (const line of files) io.err(`${line}\n`);
      continue;
    }
    bad++;
    io.err(`${file}: ${r.issues.length} problem${r.issues.length === 1 ? "" : "s"}\n`);
    for (const line of formatIssues(r.issues)) io.err(`${line}\n`);
  }
  return bad > 0 ? EXIT.usage : EXIT.ok;
}
