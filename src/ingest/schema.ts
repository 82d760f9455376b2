import type { Pool, PoolClient } from "pg";
import type { TimeTable } from "./migrations.js";
import { MIGRATIONS, TIME_TABLES } from "./migrations.js";

/** How the time tables are split: PostgreSQL's declarative partitions, or TimescaleDB chunks. */
export type Partitioning = "native" | "timescaledb";

/** Held while migrating, so two ingest processes started together do not both create the schema. */
const MIGRATE_LOCK = 0x726f6164; // "road"

export interface SchemaState {
  version: number;
  partitioning: Partitioning;
  /** Migrations applied by this call. */
  applied: number[];
}

/**
 * Bring the `roadside` schema up to the newest migration. Each migration runs in its own transaction
 * with its row in `roadside.schema_version`; a database already newer than this software is refused
 * (an old ingest must not write into tables it does not know).
 */
export async function migrate(pool: Pool): Promise<SchemaState> {
  const c = await pool.connect();
  try {
    await c.query("SELECT pg_advisory_lock($1)", [MIGRATE_LOCK]);
    await c.query("CREATE SCHEMA IF NOT EXISTS roadside");
    await c.query(
      "CREATE TABLE IF NOT EXISTS roadside.schema_version (version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
    );
    const { rows } = await c.query<{ v: number | null }>("SELECT max(version) AS v FROM roadside.schema_version");
    const current = rows[0]?.v ?? 0;
    const newest = MIGRATIONS[MIGRATIONS.length - 1]!.version;
    if (current > newest)
      throw new Error(
        `the database's roadside schema is version ${current}, newer than this roadside (${newest}); upgrade roadside on this machine`,
      );
    const partitioning = current === 0 ? await detectPartitioning(c) : await storedPartitioning(c);
    const applied: number[] = [];
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      await c.query("BEGIN");
      try {
        await c.query(fill(m.sql, partitioning));
        if (m.version === 1) {
          await c.query("INSERT INTO roadside.settings (key, value) VALUES ('partitioning', $1)", [partitioning]);
          if (partitioning === "timescaledb") await hypertables(c);
        }
        await c.query("INSERT INTO roadside.schema_version (version, description) VALUES ($1, $2)", [m.version, m.description]);
        await c.query("COMMIT");
      } catch (err) {
        await c.query("ROLLBACK");
        throw new Error(`migration ${m.version} (${m.description}) failed: ${(err as Error).message}`);
      }
      applied.push(m.version);
    }
    return { version: newest, partitioning, applied };
  } finally {
    await c.query("SELECT pg_advisory_unlock($1)", [MIGRATE_LOCK]).catch(() => {});
    c.release();
  }
}

/** TimescaleDB when the extension is installed in this database; declarative partitions otherwise. */
async function detectPartitioning(c: PoolClient): Promise<Partitioning> {
  const { rows } = await c.query("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'");
  return rows.length > 0 ? "timescaledb" : "native";
}

async function storedPartitioning(c: PoolClient): Promise<Partitioning> {
  const { rows } = await c.query<{ value: string }>("SELECT value FROM roadside.settings WHERE key = 'partitioning'");
  return rows[0]?.value === "timescaledb" ? "timescaledb" : "native";
}

function fill(sql: string, p: Partitioning): string {
  return sql.replace(/\{PARTITION (\w+)\}/g, (_, table: TimeTable) => (p === "native" ? `PARTITION BY RANGE (${TIME_TABLES[table]})` : ""));
}

async function hypertables(c: PoolClient): Promise<void> {
  for (const [table, column] of Object.entries(TIME_TABLES))
    await c.query(`SELECT create_hypertable('roadside.${table}', '${column}', chunk_time_interval => interval '1 month')`);
}
