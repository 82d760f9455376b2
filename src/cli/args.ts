import { parseArgs } from "node:util";
import type { ParseArgsConfig } from "node:util";
import { isJournalStream, SYSLOG_PRIORITY, withPriority } from "../log/journal.js";

/** Bad usage: printed with the command's usage hint, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Exit codes of every command (DESIGN.md "Commands"). */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

type Options = NonNullable<ParseArgsConfig["options"]>;

/** parseArgs that turns its errors into UsageError with the flag named. */
export function parse<O extends Options>(argv: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: "boolean", short: "h" } }, allowPositionals, strict: true });
  } catch (err) {
    const msg = (err as Error).message.replace(/\. To specify a positional argument.*$/, "");
    throw new UsageError(msg);
  }
}

/** Output streams, injectable for tests. */
export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  /** True when stdout is a terminal. */
  isTTY: boolean;
}

/** What a command writes to stderr is a problem: under systemd it is stored at error priority. */
const errToJournal = isJournalStream(2);

export const processIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(errToJournal ? withPriority(t, SYSLOG_PRIORITY.error) : t),
  isTTY: Boolean(process.stdout.isTTY),
};
