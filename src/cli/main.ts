import type { Io } from "./args.js";
import { EXIT, processIo, UsageError } from "./args.js";
import { startConfigEarly } from "./early-config.js";
import { version } from "./version.js";

type Command = (argv: string[], io: Io) => Promise<number>;

/**
 * A command whose module is imported only when it runs: every module loaded stays in memory for the
 * life of the process (its source text too), and `roadside run` on a 512 MB board must not carry
 * doctor, provision or watch code for years (issue 15; docs/hardware.md "Memory").
 */
function lazy<K extends string>(load: () => Promise<Record<K, Command>>, name: K): Command {
  return async (argv, io) => (await load())[name](argv, io);
}

/** Commands by name, with a one-line summary for the top-level help. */
export const COMMANDS: Record<string, { run: Command; summary: string }> = {
  run: {
    // the config worker starts while run's modules load (early-config.ts)
    run: async (argv, io) => {
      const early = startConfigEarly(argv);
      return (await import("./run.js")).runCommand(argv, io, early);
    },
    summary: "run the device (no config: a simulated site and an embedded broker)",
  },
  validate: {
    run: lazy(() => import("./validate.js"), "validateCommand"),
    summary: "check device configs; prints every problem as path: message",
  },
  sim: {
    run: lazy(() => import("./sim.js"), "simCommand"),
    summary: "run a simulated site (or fleet) in virtual time; record its trace and ground truth",
  },
  replay: {
    run: lazy(() => import("./replay.js"), "replayCommand"),
    summary: "feed a recorded signal trace through a device config's pipeline",
  },
  provision: {
    run: lazy(() => import("./provision.js"), "provisionCommand"),
    summary: "write a device config for a board and a site (asks on a terminal); validates it first",
  },
  doctor: {
    run: lazy(() => import("./doctor.js"), "doctorCommand"),
    summary: "on-site checklist: config, board, wiring (stuck inputs, speed traps), clock, disk, outbox, files, broker, service",
  },
  test: {
    run: lazy(() => import("./test.js"), "testCommand"),
    summary: "dry run: print the summaries and alarms a config would publish, publishing nothing",
  },
  support: {
    run: lazy(() => import("./support.js"), "supportCommand"),
    summary: "write a support bundle for a ticket: versions, config without secrets, doctor, health, outbox, journal",
  },
  install: {
    run: lazy(() => import("./install.js"), "installCommand"),
    summary: "write the systemd unit that runs this device as a hardened service",
  },
  watch: {
    run: lazy(() => import("./watch.js"), "watchCommand"),
    summary: "subscriber view: decode what devices publish, report gaps and offline devices",
  },
  ingest: {
    run: lazy(() => import("./ingest.js"), "ingestCommand"),
    summary: "write what devices publish into PostgreSQL, exactly once per (device, seq); scales out with MQTT 5 shared subscriptions",
  },
  calibrate: {
    run: lazy(() => import("./calibrate.js"), "calibrateCommand"),
    summary: "known-speed calibration of a speed trap's loop latencies from a recorded test drive",
  },
};

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `Usage: roadside <command> [options]

roadside ${version()}: privacy-by-design edge runtime for roadside sensors.

Commands:
${lines.join("\n")}

Run \`roadside <command> --help\` for a command's options.
Exit codes: 0 ok, 1 runtime failure, 2 bad usage or config.
`;
}

/** Run the CLI; resolves with the exit code. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === "help" || cmd === "--help" || cmd === "-h") {
    io.out(help());
    return cmd === undefined ? EXIT.usage : EXIT.ok;
  }
  if (cmd === "--version" || cmd === "-V") {
    io.out(`${version()}\n`);
    return EXIT.ok;
  }
  const command = COMMANDS[cmd];
  if (!command) {
    io.err(`roadside: unknown command ${JSON.stringify(cmd)}; commands: ${Object.keys(COMMANDS).join(", ")} (roadside --help)\n`);
    return EXIT.usage;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`roadside ${cmd}: ${err.message}\nRun \`roadside ${cmd} --help\` for usage.\n`);
      return EXIT.usage;
    }
    io.err(`roadside ${cmd}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return EXIT.failure;
  }
}
