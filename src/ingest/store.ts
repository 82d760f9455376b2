import type { Pool, PoolClient } from "pg";
import type { TimeTable } from "./migrations.js";
import { monthStart, Partitions } from "./partitions.js";
import type { AlarmRow, HealthRow, ManifestRow, Row, StatusRow, SummaryRow } from "./rows.js";
import type { Partitioning } from "./schema.js";

/** What one committed batch did: rows new to the database (summaries and alarms), and those it already had (redeliveries). */
export interface BatchResult {
  stored: number;
  duplicates: number;
}

/** What one pass of the gap ledger did. */
export interface LedgerResult {
  /** Numbers looked at. */
  arrivals: number;
  /** Gaps opened, missing numbers filled by late messages, counter restarts. */
  gapsOpened: number;
  filled: number;
  resets: number;
}

/** Held by the one process running a ledger pass. */
const LEDGER_LOCK = 0x6c656467; // "ledg"

/** A number this small, far below the highest stored, is a restarted counter (as src/watch/sequence.ts). */
const RESTART_MAX = 16;
const RESTART_DISTANCE = 512;
/** PostgreSQL's deadlock and serialization failures: the batch is simply tried again. */
const RETRYABLE = new Set(["40P01", "40001"]);

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * Writes batches of rows in one transaction each, so a batch is either stored whole or not at all and
 * its messages are acknowledged to the broker only after the commit (exactly once with the unique
 * keys). The gap ledger is kept apart (`ledgerPass`), so the processes of a share group never lock
 * each other out of a commit.
 */
export class PgStore {
  private readonly partitions: Partitions;
  private readonly knownDevices = new Set<string>();

  constructor(
    private readonly pool: Pool,
    mode: Partitioning,
  ) {
    this.partitions = new Partitions(pool, mode);
  }

  get partitionManager(): Partitions {
    return this.partitions;
  }

  async write(rows: readonly Row[]): Promise<BatchResult> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.writeOnce(rows);
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (attempt < 5 && code !== undefined && RETRYABLE.has(code)) continue;
        throw err;
      }
    }
  }

  private async writeOnce(rows: readonly Row[]): Promise<BatchResult> {
    const summaries: SummaryRow[] = [];
    const alarms: AlarmRow[] = [];
    const health: HealthRow[] = [];
    const manifests: ManifestRow[] = [];
    const status = new Map<string, StatusRow>();
    const seen = new Set<string>();
    let repeated = 0;
    const needs: [TimeTable, number][] = [];
    for (const r of rows) {
      if (r.table === "summaries" || r.table === "alarms") {
        const key =
          r.table === "summaries"
            ? `${r.device}\0${r.seq}\0${r.windowStartMs}\0${r.kind}/${r.stream}`
            : `${r.device}\0${r.seq}\0${r.timeMs}`;
        const t = r.table === "summaries" ? r.windowStartMs : r.timeMs;
        if (seen.has(key)) {
          repeated++; // the same message twice in one batch: a redelivery
          continue;
        }
        seen.add(key);
        if (r.table === "summaries") summaries.push(r);
        else alarms.push(r);
        needs.push([r.table, monthStart(t)]);
      } else if (r.table === "health") {
        health.push(r);
        needs.push(["health", monthStart(r.timeMs)]);
      } else if (r.table === "manifests") manifests.push(r);
      else status.set(r.device, r);
    }
    await this.partitions.ensure(needs);
    const devices = [...new Set(rows.map((r) => r.device))].sort();
    const fresh = devices.filter((d) => !this.knownDevices.has(d));
    if (fresh.length) {
      // outside the batch's transaction, in order: two processes meeting a new device never deadlock
      await this.pool.query("INSERT INTO roadside.devices (device) SELECT d FROM unnest($1::text[]) d ORDER BY d ON CONFLICT DO NOTHING", [
        fresh,
      ]);
      for (const d of fresh) this.knownDevices.add(d);
    }
    const c = await this.pool.connect();
    try {
      await c.query("BEGIN");
      const res = await this.writeIn(c, summaries, alarms, health, manifests, [...status.values()]);
      await c.query("COMMIT");
      return { stored: res.stored, duplicates: res.duplicates + repeated };
    } catch (err) {
      await c.query("ROLLBACK").catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  }

  private async writeIn(
    c: PoolClient,
    summaries: SummaryRow[],
    alarms: AlarmRow[],
    health: HealthRow[],
    manifests: ManifestRow[],
    status: StatusRow[],
  ): Promise<BatchResult> {
    const inserted: { device: string; seq: string }[] = [];
    if (summaries.length) {
      const r = await c.query<{ device: string; seq: string }>(
        `INSERT INTO roadside.summaries (device, kind, stream, seq, window_start, window_s, observed_s, timeq, schema, dropped, dropped_from, dropped_to, measures)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::timestamptz[], $6::real[], $7::real[], $8::text[],
           $9::smallint[], $10::integer[], $11::timestamptz[], $12::timestamptz[], $13::jsonb[])
         ON CONFLICT DO NOTHING RETURNING device, seq`,
        [
          summaries.map((s) => s.device),
          summaries.map((s) => s.kind),
          summaries.map((s) => s.stream),
          summaries.map((s) => s.seq),
          summaries.map((s) => iso(s.windowStartMs)),
          summaries.map((s) => s.windowS),
          summaries.map((s) => s.observedS),
          summaries.map((s) => s.timeq),
          summaries.map((s) => s.schema),
          summaries.map((s) => s.dropped?.count ?? null),
          summaries.map((s) => (s.dropped ? iso(s.dropped.fromMs) : null)),
          summaries.map((s) => (s.dropped ? iso(s.dropped.toMs) : null)),
          summaries.map((s) => JSON.stringify(s.measures)),
        ],
      );
      inserted.push(...r.rows);
    }
    if (alarms.length) {
      const r = await c.query<{ device: string; seq: string }>(
        `INSERT INTO roadside.alarms (device, source, seq, time, timeq, alarm, state, code, message, measures)
         SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::integer[],
           $9::text[], $10::jsonb[])
         ON CONFLICT DO NOTHING RETURNING device, seq`,
        [
          alarms.map((a) => a.device),
          alarms.map((a) => a.source),
          alarms.map((a) => a.seq),
          alarms.map((a) => iso(a.timeMs)),
          alarms.map((a) => a.timeq),
          alarms.map((a) => a.alarm),
          alarms.map((a) => a.state),
          alarms.map((a) => (a.code === undefined ? null : Math.round(a.code))),
          alarms.map((a) => a.message ?? null),
          alarms.map((a) => JSON.stringify(a.measures)),
        ],
      );
      inserted.push(...r.rows);
    }
    if (health.length)
      await c.query(
        `INSERT INTO roadside.health (device, time, health) SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::jsonb[]) ON CONFLICT DO NOTHING`,
        [health.map((h) => h.device), health.map((h) => iso(h.timeMs)), health.map((h) => JSON.stringify(h.health ?? null))],
      );
    for (const m of manifests)
      await c.query(
        `INSERT INTO roadside.manifests (device, hash, manifest) VALUES ($1, $2, $3)
         ON CONFLICT (device, hash) DO UPDATE SET last_seen = now()`,
        [m.device, m.hash, JSON.stringify(m.manifest ?? null)],
      );
    if (status.length)
      await c.query(
        `UPDATE roadside.devices d SET status = u.status, status_at = u.at FROM unnest($1::text[], $2::text[], $3::timestamptz[]) u(device, status, at)
         WHERE d.device = u.device AND (d.status_at IS NULL OR d.status_at <= u.at)`,
        [status.map((s) => s.device), status.map((s) => s.status), status.map((s) => iso(s.atMs))],
      );
    // one number per message: the streams of a cellular-profile pack share theirs
    const numbers = [...new Map(inserted.map((r) => [`${r.device}\0${r.seq}`, r])).values()];
    if (numbers.length)
      await c.query("INSERT INTO roadside.arrivals (device, seq) SELECT * FROM unnest($1::text[], $2::bigint[])", [
        numbers.map((r) => r.device),
        numbers.map((r) => r.seq),
      ]);
    return { stored: inserted.length, duplicates: summaries.length + alarms.length - inserted.length };
  }

  /**
   * One pass of the gap ledger over the numbers committed since the last pass (`roadside.arrivals`),
   * by whichever process of the group gets the lock; the others skip. Batches only append to the
   * arrivals table, so the members of a share group never wait for each other's commits; the ledger
   * follows a pass behind. Returns undefined when another process holds the pass.
   */
  async ledgerPass(): Promise<LedgerResult | undefined> {
    const c = await this.pool.connect();
    try {
      await c.query("BEGIN");
      const lock = await c.query<{ ok: boolean }>("SELECT pg_try_advisory_xact_lock($1) AS ok", [LEDGER_LOCK]);
      if (!lock.rows[0]?.ok) {
        await c.query("ROLLBACK");
        return undefined;
      }
      const arrived = await c.query<{ device: string; seq: string }>("DELETE FROM roadside.arrivals RETURNING device, seq");
      const devices = [...new Set(arrived.rows.map((r) => r.device))];
      const known = await c.query<{ device: string; max_seq: string | null }>(
        "SELECT device, max_seq FROM roadside.devices WHERE device = ANY($1)",
        [devices],
      );
      const maxSeq = new Map<string, number | null>(known.rows.map((r) => [r.device, r.max_seq === null ? null : Number(r.max_seq)]));
      const res = await this.ledger(c, maxSeq, arrived.rows);
      await c.query("COMMIT");
      return res;
    } catch (err) {
      await c.query("ROLLBACK").catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  }

  /**
   * The gap ledger from the rows that were new: a number above the device's highest plus one opens a
   * gap for the numbers between; a number at or below it that falls in an open gap fills it, and the
   * gap closes (`filled_at`) when its last missing number arrives.
   */
  private async ledger(
    c: PoolClient,
    maxSeq: Map<string, number | null>,
    inserted: { device: string; seq: string }[],
  ): Promise<LedgerResult> {
    const res: LedgerResult = { arrivals: inserted.length, gapsOpened: 0, filled: 0, resets: 0 };
    if (inserted.length === 0) return res;
    const byDevice = new Map<string, number[]>();
    for (const r of inserted) {
      const list = byDevice.get(r.device);
      if (list) list.push(Number(r.seq));
      else byDevice.set(r.device, [Number(r.seq)]);
    }
    const gapDev: string[] = [];
    const gapFrom: number[] = [];
    const gapTo: number[] = [];
    const fillDev: string[] = [];
    const fillSeq: number[] = [];
    const maxDev: string[] = [];
    const maxVal: number[] = [];
    const resetDev: string[] = [];
    for (const [device, seqs] of byDevice) {
      seqs.sort((a, b) => a - b);
      const before = maxSeq.get(device) ?? null;
      let max = before;
      for (const s of seqs) {
        if (max === null || s === max + 1) max = s;
        else if (s > max + 1) {
          gapDev.push(device);
          gapFrom.push(max + 1);
          gapTo.push(s - 1);
          max = s;
        } else if (s <= RESTART_MAX && max - s >= RESTART_DISTANCE) {
          resetDev.push(device);
          max = s;
        } else if (s < max) {
          fillDev.push(device);
          fillSeq.push(s);
        }
      }
      if (max !== before && max !== null) {
        maxDev.push(device);
        maxVal.push(max);
      }
    }
    if (fillDev.length) {
      // fills first: they only close gaps that were open before this batch
      const r = await c.query<{ n: string }>(
        `WITH f AS (
           SELECT g.id, count(*) AS n FROM unnest($1::text[], $2::bigint[]) u(device, seq)
           JOIN roadside.gaps g ON g.device = u.device AND g.filled_at IS NULL AND u.seq BETWEEN g.seq_from AND g.seq_to
           GROUP BY g.id)
         UPDATE roadside.gaps g SET missing = g.missing - f.n, filled_at = CASE WHEN g.missing - f.n <= 0 THEN now() END
         FROM f WHERE g.id = f.id RETURNING f.n`,
        [fillDev, fillSeq],
      );
      res.filled = r.rows.reduce((a, x) => a + Number(x.n), 0);
    }
    if (gapDev.length) {
      await c.query(
        `INSERT INTO roadside.gaps (device, seq_from, seq_to, missing) SELECT d, f, t, t - f + 1 FROM unnest($1::text[], $2::bigint[], $3::bigint[]) u(d, f, t)`,
        [gapDev, gapFrom, gapTo],
      );
      res.gapsOpened = gapDev.length;
    }
    if (resetDev.length) {
      await c.query("UPDATE roadside.devices SET resets = resets + 1 WHERE device = ANY($1)", [resetDev]);
      res.resets = resetDev.length;
    }
    if (maxDev.length)
      await c.query(
        `UPDATE roadside.devices d SET max_seq = u.m, last_message_at = now() FROM unnest($1::text[], $2::bigint[]) u(device, m) WHERE d.device = u.device`,
        [maxDev, maxVal],
      );
    return res;
  }

  /** Gaps still open: how many, and how many numbers they miss. */
  async openGaps(): Promise<{ gaps: number; missing: number }> {
    const r = await this.pool.query<{ g: string; m: string }>(
      "SELECT count(*) AS g, coalesce(sum(missing), 0) AS m FROM roadside.gaps WHERE filled_at IS NULL",
    );
    return { gaps: Number(r.rows[0]?.g ?? 0), missing: Number(r.rows[0]?.m ?? 0) };
  }
}
