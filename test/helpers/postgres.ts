import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./brokers.js";

export const POSTGRES_MISSING =
  "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): `apt-get install -y postgresql` (.ci/run does this)";

/** Debian's PostgreSQL binaries (the newest major installed), or undefined. */
export function postgresBin(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root)
    .filter((d) => /^\d+$/.test(d) && existsSync(join(root, d, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return majors[0] === undefined ? undefined : join(root, majors[0], "bin");
}

export interface Postgres {
  /** postgres://postgres@127.0.0.1:PORT/roadside */
  url: string;
  port: number;
  dir: string;
  /** Runs psql as the superuser; returns stdout (throws with stderr on failure). */
  psql(sql: string): string;
  stop(): Promise<void>;
}

/**
 * A throw-away PostgreSQL cluster on a free loopback port, in a temp folder. initdb refuses to run as
 * root, so when the tests run as root (CI) the cluster belongs to Debian's `postgres` system user,
 * which the postgresql package creates. Durability settings are relaxed: the tests kill the ingest
 * process, never the database.
 */
export async function startPostgres(opts: { durable?: boolean } = {}): Promise<Postgres> {
  const bin = postgresBin();
  if (!bin) throw new Error(POSTGRES_MISSING);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "roadside-pg-"));
  const data = join(dir, "data");
  const asUser = process.getuid?.() === 0 ? ["runuser", "-u", "postgres", "--"] : [];
  if (asUser.length) {
    const ids = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" });
    const gids = spawnSync("id", ["-g", "postgres"], { encoding: "utf8" });
    if (ids.status !== 0) throw new Error(`running as root needs the postgres system user: ${POSTGRES_MISSING}`);
    chownSync(dir, Number(ids.stdout.trim()), Number(gids.stdout.trim()));
    chmodSync(dir, 0o700);
  }
  const run = (cmd: string, args: string[]): string => {
    const argv = [...asUser, join(bin, cmd), ...args];
    const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", cwd: dir });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr || r.stdout}`);
    return r.stdout;
  };
  run("initdb", ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--locale=C"]);
  const settings = [
    `-c listen_addresses=127.0.0.1`,
    `-p ${port}`,
    `-k ${dir}`,
    `-c max_connections=50`,
    ...(opts.durable ? [] : ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]),
  ];
  run("pg_ctl", ["-D", data, "-l", join(dir, "log"), "-o", settings.join(" "), "-w", "-t", "30", "start"]);
  const psql = (sql: string, db = "roadside"): string =>
    run("psql", ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-d", db, "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql]);
  psql("CREATE DATABASE roadside", "postgres");
  return {
    url: `postgres://postgres@127.0.0.1:${port}/roadside`,
    port,
    dir,
    psql: (sql) => psql(sql),
    stop: async () => {
      try {
        run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
