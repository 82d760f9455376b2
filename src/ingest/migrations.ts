/**
 * The `roadside` schema in PostgreSQL, as numbered migrations (TS strings, so `tsc` ships them in
 * dist/ with the code that needs them). A migration is never edited once released: a change is a new
 * entry. `{TIME_TABLE}` placeholders are filled per partitioning mode (see schema.ts).
 *
 * Why the primary keys are (device, seq, time[, stream, kind]) and not (device, seq): PostgreSQL
 * requires every unique index of a partitioned table to include the partition key. A redelivery is the
 * same message, byte for byte, so its window start (and stream) is the same and the key still makes it a
 * duplicate; a device whose counter restarted (state folder wiped) reuses a seq for another window, and
 * that row is kept, as docs/subscribing.md says it must be ("it is new data"). The stream is in the
 * summaries' key because a cellular-profile pack (docs/payloads.md) carries several streams under one seq.
 */
export interface Migration {
  version: number;
  description: string;
  sql: string;
}

/** Tables partitioned by time, with their time column. Partitions (or hypertable chunks) are monthly. */
export const TIME_TABLES = { summaries: "window_start", alarms: "time", health: "time" } as const;
export type TimeTable = keyof typeof TIME_TABLES;

const V1_TABLES = `
CREATE TABLE roadside.settings (key text PRIMARY KEY, value text NOT NULL);

CREATE TABLE roadside.devices (
  device text PRIMARY KEY,
  max_seq bigint,
  resets integer NOT NULL DEFAULT 0,
  status text,
  status_at timestamptz,
  last_message_at timestamptz,
  first_seen timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE roadside.summaries (
  device text NOT NULL,
  kind text NOT NULL,
  stream text NOT NULL,
  seq bigint NOT NULL,
  window_start timestamptz NOT NULL,
  window_s real NOT NULL,
  observed_s real NOT NULL,
  timeq text NOT NULL,
  schema smallint NOT NULL,
  dropped integer,
  dropped_from timestamptz,
  dropped_to timestamptz,
  measures jsonb NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (device, seq, window_start, stream, kind)
) {PARTITION summaries};
CREATE INDEX summaries_stream_time ON roadside.summaries (device, kind, stream, window_start);

CREATE TABLE roadside.alarms (
  device text NOT NULL,
  source text NOT NULL,
  seq bigint NOT NULL,
  time timestamptz NOT NULL,
  timeq text NOT NULL,
  alarm text NOT NULL,
  state text NOT NULL,
  code integer,
  message text,
  measures jsonb NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (device, seq, time)
) {PARTITION alarms};
CREATE INDEX alarms_source_time ON roadside.alarms (device, source, alarm, time);

CREATE TABLE roadside.health (
  device text NOT NULL,
  time timestamptz NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  health jsonb NOT NULL,
  PRIMARY KEY (device, time)
) {PARTITION health};

CREATE TABLE roadside.manifests (
  device text NOT NULL,
  hash text NOT NULL,
  first_seen timestamptz NOT NULL DEFAULT now(),
  last_seen timestamptz NOT NULL DEFAULT now(),
  manifest jsonb NOT NULL,
  PRIMARY KEY (device, hash)
);

CREATE TABLE roadside.gaps (
  id bigserial PRIMARY KEY,
  device text NOT NULL,
  seq_from bigint NOT NULL,
  seq_to bigint NOT NULL,
  missing bigint NOT NULL,
  first_noticed timestamptz NOT NULL DEFAULT now(),
  filled_at timestamptz
);
CREATE INDEX gaps_open ON roadside.gaps (device, seq_from) WHERE filled_at IS NULL;

-- numbers committed since the gap ledger's last pass (store.ts ledgerPass): a queue, emptied each pass
CREATE TABLE roadside.arrivals (device text NOT NULL, seq bigint NOT NULL);
`;

const num = (name: string, col: string): string => `(measures->'${name}'->>'v')::float8 AS ${col}`;
const bool = (name: string, col: string): string => `(measures->'${name}'->>'vb')::boolean AS ${col}`;
const suppressed = (name: string, col: string): string => `coalesce((measures->'${name}.suppressed'->>'vb')::boolean, false) AS ${col}`;

const V1_VIEWS = `
CREATE VIEW roadside.windows AS
SELECT device, kind, stream, seq, window_start, window_s, observed_s, timeq, schema,
  ${num("quality.observed", "quality_observed")}, ${num("quality.faults", "quality_faults")},
  dropped, dropped_from, dropped_to,
  ${num("volume", "volume")}, ${num("flow", "flow")}, (measures->'flow'->>'v')::float8 * 3600 AS flow_vph,
  ${num("occupancy", "occupancy")}, ${num("speed.n", "speed_n")}, ${num("speed.tms", "speed_tms")},
  ${num("speed.sms", "speed_sms")}, ${num("speed.p85", "speed_p85")}, ${num("speed.est", "speed_est")},
  coalesce(measures->'speed.sms'->>'u', measures->'speed.est'->>'u') AS speed_unit,
  ${num("length.mean", "length_mean")}, ${num("headway.mean", "headway_mean")},
  ${num("depthMin", "depth_min")}, ${num("depthMean", "depth_mean")}, ${num("depthMax", "depth_max")},
  measures->'state'->>'vs' AS level_state, ${num("spillDuration", "spill_duration_s")}, ${num("spills", "spills")},
  ${num("spillsDay", "spills_day")}, ${num("sequenceSpills", "sequence_spills")},
  ${num("actualFillingPercentage", "fill_pct")}, ${num("actualFillingLevel", "fill_level_m")},
  ${bool("containerFull", "container_full")}, ${bool("containerEmpty", "container_empty")}, ${num("pickups", "pickups")},
  ${num("temperature", "temperature")}, ${num("temperatureMax", "temperature_max")},
  ${num("wifi.devices", "wifi_devices")}, ${suppressed("wifi.devices", "wifi_suppressed")},
  ${num("ble.devices", "ble_devices")}, ${suppressed("ble.devices", "ble_suppressed")},
  ${num("deposits", "deposits")}, ${suppressed("deposits", "deposits_suppressed")},
  ${num("users", "users")}, ${suppressed("users", "users_suppressed")},
  measures, received_at
FROM roadside.summaries;

-- one row per alarm start with its end (NULL while it lasts); events (state 'event') have no end
CREATE VIEW roadside.alarm_periods AS
SELECT s.device, s.source, s.alarm, s.code, s.message, s.time AS started, e.time AS ended, e.time - s.time AS duration, s.measures
FROM roadside.alarms s
LEFT JOIN LATERAL (
  SELECT x.time FROM roadside.alarms x
  WHERE x.device = s.device AND x.source = s.source AND x.alarm = s.alarm AND x.state = 'end' AND x.time >= s.time
  ORDER BY x.time LIMIT 1
) e ON true
WHERE s.state = 'start';

-- flows are per second of the time the detector could count (quality.observed of the window)
CREATE VIEW roadside.traffic_hourly AS
SELECT device, stream, date_trunc('hour', window_start) AS hour, count(*) AS windows,
  sum(window_s) / 3600 AS coverage, sum(volume) AS volume,
  3600 * sum(volume) / nullif(sum(CASE WHEN volume IS NOT NULL THEN window_s * coalesce(quality_observed, 1) END), 0) AS flow_vph,
  sum(occupancy * observed_s) / nullif(sum(CASE WHEN occupancy IS NOT NULL THEN observed_s END), 0) AS occupancy,
  sum(speed_n) / nullif(sum(speed_n / nullif(speed_sms, 0)), 0) AS speed_sms,
  sum(speed_n * speed_tms) / nullif(sum(CASE WHEN speed_tms IS NOT NULL THEN speed_n END), 0) AS speed_tms,
  max(speed_unit) AS speed_unit
FROM roadside.windows WHERE kind = 'traffic'
GROUP BY 1, 2, 3;

CREATE VIEW roadside.traffic_daily AS
SELECT device, stream, date_trunc('day', hour) AS day, sum(windows) AS windows, sum(coverage) / 24 AS coverage,
  sum(volume) AS volume, max(flow_vph) AS peak_hour_flow_vph,
  sum(occupancy * coverage) / nullif(sum(CASE WHEN occupancy IS NOT NULL THEN coverage END), 0) AS occupancy
FROM roadside.traffic_hourly GROUP BY 1, 2, 3;

-- an hour is congested when its mean occupancy reaches the threshold (25 %: the share above which
-- docs/traffic.md treats a lane as no longer lightly loaded)
CREATE FUNCTION roadside.congestion_hours(threshold float8 DEFAULT 0.25)
RETURNS TABLE (device text, stream text, day timestamptz, congested_hours bigint, hours_with_occupancy bigint)
LANGUAGE sql STABLE AS $$
  SELECT device, stream, date_trunc('day', hour), count(*) FILTER (WHERE occupancy >= threshold), count(occupancy)
  FROM roadside.traffic_hourly GROUP BY 1, 2, 3
$$;

CREATE VIEW roadside.spill_events AS
SELECT device, source AS manhole, started, ended, duration FROM roadside.alarm_periods WHERE alarm = 'spill';

-- spills as the devices counted them (12/24 rule, counted in the window where each spill counts)
CREATE VIEW roadside.spills_yearly AS
SELECT device, stream AS manhole, date_trunc('year', window_start) AS year, sum(spills) AS spills_1224,
  sum(spill_duration_s) / 3600 AS spill_hours, count(*) AS windows
FROM roadside.windows WHERE kind = 'level'
GROUP BY 1, 2, 3;

-- the 12/24 rule recomputed from the spill alarms (DOMAIN.md §2): the first 12 h block from a
-- discharge is one spill, each following 24 h block with any discharge adds one, a 24 h block
-- without discharge ends the sequence; a discharge across a block boundary counts in both
CREATE FUNCTION roadside.spills_1224(p_device text, p_manhole text, p_from timestamptz, p_to timestamptz)
RETURNS integer LANGUAGE plpgsql STABLE AS $$
DECLARE
  ev record;
  total integer := 0;
  block_end timestamptz := NULL;
  block_has boolean := false;
BEGIN
  FOR ev IN SELECT started, greatest(coalesce(ended, p_to), started) AS ended FROM roadside.spill_events
            WHERE device = p_device AND manhole = p_manhole AND started >= p_from AND started < p_to ORDER BY started LOOP
    -- blocks that ended before this discharge: one with a discharge opens the next, one without ends the sequence
    WHILE block_end IS NOT NULL AND block_end <= ev.started LOOP
      IF block_has THEN
        block_end := block_end + interval '24 hours';
        block_has := false;
      ELSE
        block_end := NULL;
      END IF;
    END LOOP;
    IF block_end IS NULL THEN
      total := total + 1;
      block_end := ev.started + interval '12 hours';
      block_has := true;
    ELSIF NOT block_has THEN
      total := total + 1;
      block_has := true;
    END IF;
    -- a discharge running past the block's end counts in each block it reaches
    WHILE ev.ended > block_end LOOP
      block_end := block_end + interval '24 hours';
      total := total + 1;
      block_has := true;
    END LOOP;
  END LOOP;
  RETURN total;
END $$;

CREATE VIEW roadside.bin_daily AS
SELECT device, stream AS bin, date_trunc('day', window_start) AS day, max(fill_pct) AS max_fill_pct,
  (array_agg(fill_pct ORDER BY window_start DESC) FILTER (WHERE fill_pct IS NOT NULL))[1] AS last_fill_pct,
  sum(pickups) AS pickups, bool_or(container_full) AS was_full, max(temperature_max) AS temperature_max
FROM roadside.windows WHERE kind = 'bin'
GROUP BY 1, 2, 3;

-- a suppressed count (below k) is unknown, not zero: an hour with any suppressed window has no total
CREATE VIEW roadside.presence_hourly AS
SELECT device, stream AS sensor, date_trunc('hour', window_start) AS hour, count(*) AS windows,
  count(*) FILTER (WHERE wifi_suppressed) AS wifi_suppressed_windows,
  CASE WHEN bool_or(wifi_suppressed) THEN NULL ELSE sum(wifi_devices) END AS wifi_devices,
  count(*) FILTER (WHERE ble_suppressed) AS ble_suppressed_windows,
  CASE WHEN bool_or(ble_suppressed) THEN NULL ELSE sum(ble_devices) END AS ble_devices,
  count(*) FILTER (WHERE deposits_suppressed) AS deposits_suppressed_windows,
  CASE WHEN bool_or(deposits_suppressed) THEN NULL ELSE sum(deposits) END AS deposits
FROM roadside.windows WHERE kind = 'presence'
GROUP BY 1, 2, 3;

CREATE VIEW roadside.open_gaps AS
SELECT device, seq_from, seq_to, missing, first_noticed FROM roadside.gaps WHERE filled_at IS NULL;

CREATE VIEW roadside.latest_manifest AS
SELECT DISTINCT ON (device) device, hash, first_seen, last_seen, manifest FROM roadside.manifests ORDER BY device, last_seen DESC;
`;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "tables, views and functions for summaries, alarms, health, manifests and the gap ledger",
    sql: V1_TABLES + V1_VIEWS,
  },
];
