import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { hardwareSerialPaths } from "../config/boards.js";
import { formatIssues, loadConfigFile } from "../config/load.js";
import { BOARD_DEVICES, BOARD_GROUPS, systemdUnit } from "../install/unit.js";
import type { Io } from "./args.js";
import { EXIT, parse, UsageError } from "./args.js";

export const INSTALL_HELP = `Usage: roadside install [options]

Write the systemd unit that runs this device as a service: Type=notify (ready
once the device runs), a watchdog that restarts a hung process (WatchdogSec=30s),
restarted after any exit and never given up on, as user roadside (groups gpio,
dialout, i2c for the hardware), with a read-only system except the config's
folder (a signed config command saves there) and only the device files it
needs, its outbox in /var/lib/roadside (StateDirectory=), its log in journald
with a priority on every line (journalctl -u roadside -p warning). Then says how
to enable it. scripts/install.sh runs this for you and starts the service; on a
fresh Raspberry Pi OS it installs Node.js, gpiod, the app and the user first.

Options:
  -c, --config FILE   device config the service runs (default /etc/roadside/device.yaml);
                      checked first if it exists
  -o, --output FILE   where to write (default /etc/systemd/system/NAME.service)
      --dry-run       print the unit instead of writing it
      --name NAME     unit name (default roadside)
      --user USER     user to run as (default roadside)
      --groups LIST   supplementary groups, comma-separated (default: those of
                      gpio, dialout, i2c that exist here; none for board sim)
      --node PATH     node binary (default: the one running this, ${process.execPath})
      --app-dir DIR   the app folder with bin/roadside.js (default: this one)
  -h, --help          show this help

Exit codes: 0 written, 1 cannot write, 2 bad usage or the config has problems.
`;

/** Group names in /etc/group. */
function existingGroups(): Set<string> {
  try {
    return new Set(
      readFileSync("/etc/group", "utf8")
        .split("\n")
        .map((l) => l.split(":")[0]!)
        .filter(Boolean),
    );
  } catch {
    return new Set();
  }
}

function userExists(user: string): boolean {
  try {
    return readFileSync("/etc/passwd", "utf8")
      .split("\n")
      .some((l) => l.split(":")[0] === user);
  } catch {
    return false;
  }
}

export async function installCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, {
    config: { type: "string", short: "c" },
    output: { type: "string", short: "o" },
    "dry-run": { type: "boolean" },
    name: { type: "string" },
    user: { type: "string" },
    groups: { type: "string" },
    node: { type: "string" },
    "app-dir": { type: "string" },
  });
  if (values.help) {
    io.out(INSTALL_HELP);
    return EXIT.ok;
  }
  const name = values.name ?? "roadside";
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new UsageError(`--name ${JSON.stringify(name)}: letters, digits, _ and - only`);
  const user = values.user ?? "roadside";
  if (!/^[a-z_][a-z0-9_-]*$/.test(user)) throw new UsageError(`--user ${JSON.stringify(user)} is not a user name`);
  const config = resolve(values.config ?? "/etc/roadside/device.yaml");
  const node = resolve(values.node ?? process.execPath);
  const appDir = resolve(values["app-dir"] ?? fileURLToPath(new URL("../..", import.meta.url)));
  if (!existsSync(`${appDir}/bin/roadside.js`))
    throw new UsageError(
      `--app-dir ${appDir}: no bin/roadside.js there; give the folder the app is installed in (/opt/roadside/current, where scripts/install.sh puts it)`,
    );
  const notes: string[] = [];

  let sim = false;
  let label: string | undefined;
  if (existsSync(config)) {
    const r = loadConfigFile(config);
    if (!r.ok) {
      io.err(`${config}: ${r.issues.length} problem(s); fix them before installing the service (it would not start):\n`);
      for (const line of formatIssues(r.issues)) io.err(`${line}\n`);
      return EXIT.usage;
    }
    // a simulated board with a real tty (boards/virtual-device.json) needs the serial group and devices like hardware
    sim = r.loaded.board.io === "sim" && hardwareSerialPaths(r.loaded.board).size === 0;
    label = `device ${r.loaded.config.device.id}`;
  } else {
    notes.push(`${config} does not exist yet: write it with roadside provision -o ${config} before starting the service`);
  }

  let groups: string[];
  if (values.groups !== undefined)
    groups = values.groups
      .split(",")
      .map((g) => g.trim())
      .filter(Boolean);
  else if (sim) groups = [];
  else {
    const have = existingGroups();
    groups = BOARD_GROUPS.filter((g) => have.has(g));
    const missing = BOARD_GROUPS.filter((g) => !have.has(g));
    if (missing.length)
      notes.push(
        `group${missing.length > 1 ? "s" : ""} ${missing.join(", ")} missing here and left out of the unit (scripts/install.sh creates gpio, dialout and i2c)`,
      );
  }
  if (/^\/(home|root)\//.test(node))
    notes.push(
      `node is in a home folder (${node}), which ProtectHome=yes hides from the service: install Node.js system-wide (scripts/install.sh) or pass --node`,
    );
  if (/^\/(home|root)\//.test(appDir))
    notes.push(
      `the app is in a home folder (${appDir}), hidden from the service by ProtectHome=yes: install it with scripts/install.sh (/opt/roadside/current)`,
    );
  if (!userExists(user))
    notes.push(
      `user ${user} does not exist yet: scripts/install.sh creates it (or: sudo useradd --system --user-group --shell /usr/sbin/nologin --home-dir /var/lib/roadside ${user})`,
    );

  const unit = systemdUnit({
    name,
    node,
    appDir,
    config,
    configDir: dirname(config),
    user,
    groups,
    devices: sim ? [] : BOARD_DEVICES,
    ...(label ? { label } : {}),
  });
  if (values["dry-run"]) {
    io.out(unit);
    for (const n of notes) io.err(`note: ${n}\n`);
    return EXIT.ok;
  }
  const output = values.output ?? `/etc/systemd/system/${name}.service`;
  try {
    mkdirSync(dirname(resolve(output)), { recursive: true });
    const tmp = `${output}.tmp-${process.pid}`;
    writeFileSync(tmp, unit, { mode: 0o644 });
    renameSync(tmp, output);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    io.err(
      `cannot write ${output}: ${code === "EACCES" ? "permission denied; run it with sudo (or --dry-run to see the unit)" : (err as Error).message}\n`,
    );
    return EXIT.failure;
  }
  io.out(`wrote ${output}\n`);
  for (const n of notes) io.out(`note: ${n}\n`);
  io.out(`
next:
  sudo systemctl daemon-reload && sudo systemctl enable --now ${name}
  systemctl status ${name}          # running?
  journalctl -u ${name} -f          # its log, one JSON object per line
  roadside watch --broker URL --device ID   # its data, from any machine that can reach the broker
`);
  return EXIT.ok;
}
