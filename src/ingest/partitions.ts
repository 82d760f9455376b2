import type { Pool } from "pg";
import type { TimeTable } from "./migrations.js";
import { TIME_TABLES } from "./migrations.js";
import type { Partitioning } from "./schema.js";

/** Held while creating or dropping partitions (two processes may need the same month at once). */
const PARTITION_LOCK = 0x70617274; // "part"

/** First instant of the UTC month holding `ms`. */
export function monthStart(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

function nextMonth(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** `summaries_y2026m01`: the partition of January 2026. */
export function partitionName(table: TimeTable, month: number): string {
  const d = new Date(month);
  return `${table}_y${String(d.getUTCFullYear()).padStart(4, "0")}m${String(d.getUTCMonth() + 1).padStart(2, "0")}`;
}

/**
 * Monthly partitions, created when a row first needs one: a device without NTP can send windows
 * dated 1970, a backlog can reach back months, so no fixed range of partitions fits. Known months are
 * cached; with TimescaleDB, chunks are its business and this does nothing.
 */
export class Partitions {
  private readonly known = new Set<string>();

  constructor(
    private readonly pool: Pool,
    private readonly mode: Partitioning,
  ) {}

  /** Make sure the partitions of these (table, month start) pairs exist. */
  async ensure(needs: Iterable<[TimeTable, number]>): Promise<void> {
    if (this.mode !== "native") return;
    const missing: [TimeTable, number][] = [];
    for (const [t, m] of needs) {
      const name = partitionName(t, m);
      if (!this.known.has(name) && !missing.some(([t2, m2]) => t2 === t && m2 === m)) missing.push([t, m]);
    }
    if (missing.length === 0) return;
    const c = await this.pool.connect();
    try {
      await c.query("BEGIN");
      await c.query("SELECT pg_advisory_xact_lock($1)", [PARTITION_LOCK]);
      for (const [t, m] of missing) {
        const from = new Date(m).toISOString();
        const to = new Date(nextMonth(m)).toISOString();
        await c.query(
          `CREATE TABLE IF NOT EXISTS roadside.${partitionName(t, m)} PARTITION OF roadside.${t} FOR VALUES FROM ('${from}') TO ('${to}')`,
        );
      }
      await c.query("COMMIT");
    } catch (err) {
      await c.query("ROLLBACK").catch(() => {});
      throw err;
    } finally {
      c.release();
    }
    for (const [t, m] of missing) this.known.add(partitionName(t, m));
  }

  /**
   * Drop what is older than `retentionS`: whole monthly partitions that end before the cutoff (or
   * TimescaleDB chunks), and filled gaps noticed before it. Returns the partitions dropped.
   */
  async retain(retentionS: number, nowMs = Date.now()): Promise<string[]> {
    const cutoff = new Date(nowMs - retentionS * 1000).toISOString();
    const dropped: string[] = [];
    const c = await this.pool.connect();
    try {
      await c.query("BEGIN");
      await c.query("SELECT pg_advisory_xact_lock($1)", [PARTITION_LOCK]);
      if (this.mode === "timescaledb") {
        for (const table of Object.keys(TIME_TABLES)) {
          const r = await c.query<{ c: string }>(`SELECT drop_chunks('roadside.${table}', older_than => $1::timestamptz)::text AS c`, [
            cutoff,
          ]);
          dropped.push(...r.rows.map((x) => x.c));
        }
      } else {
        const { rows } = await c.query<{ name: string }>(
          `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
           JOIN pg_namespace n ON n.oid = p.relnamespace WHERE n.nspname = 'roadside' AND p.relname = ANY($1)`,
          [Object.keys(TIME_TABLES)],
        );
        for (const { name } of rows) {
          const m = /_y(\d{4})m(\d{2})$/.exec(name);
          if (m && Date.UTC(Number(m[1]), Number(m[2]), 1) <= Date.parse(cutoff)) {
            await c.query(`DROP TABLE roadside.${name}`);
            this.known.delete(name);
            dropped.push(name);
          }
        }
      }
      await c.query("DELETE FROM roadside.gaps WHERE filled_at IS NOT NULL AND first_noticed < $1", [cutoff]);
      await c.query("COMMIT");
    } catch (err) {
      await c.query("ROLLBACK").catch(() => {});
      throw err;
    } finally {
      c.release();
    }
    return dropped.sort();
  }
}
