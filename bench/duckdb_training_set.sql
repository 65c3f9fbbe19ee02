-- A hand-written DuckDB equivalent of
--   chronon run --mode backfill --conf production/joins/quickstart/training_set.v1 --ds @END_DS@
-- over the tables `chronon gen` writes. bench/backfill.sh fills in @WAREHOUSE@, @END_DS@ and @OUT@ and
-- runs it with `chronon sql` (the same embedded DuckDB). It writes the 25 columns of
-- default.quickstart_training_set_v1 (spec §11.2) as Parquet partitioned by ds under @OUT@.
--
-- Semantics reproduced (spec §3.4, §4, §11):
-- * left: every checkout with ds <= @END_DS@ (the conf has no start partition, so the backfill starts
--   at the first left partition). The join runs as one step (the checkouts cover fewer days than
--   --step-days), so the partition ranges below are those of that single step.
-- * purchases.v1 is SNAPSHOT (no topic): a checkout on day D sees the snapshot of partition D-1, i.e.
--   events with ts < midnight(D) and, per window W, ts >= midnight(D) - W (daily hops are exact at
--   midnight). Partitions scanned: all up to day(max left ts) - 1 (LAST_K is unwindowed, so there is
--   no lower bound): a row's partition and its ts are independent, both filters apply.
-- * returns.v1 is TEMPORAL (it has a topic): point-in-time at q = checkout ts, end exclusive, start
--   hop-aligned: [floor(q - 3d, 1h), q) for 3d (tail hop 1h since 3d >= 12h), [floor(q - W, 1d), q)
--   for 14d and 30d (tail hop 1d since W >= 12d). Partitions scanned: all up to day(max left ts).
--   The hop alignment is exact here, not approximated.
-- * users.v1 is an entity snapshot without aggregations: the row of partition day(ts) - 1.
-- * COUNT/SUM/AVERAGE over an empty window are NULL; LAST_K is most recent first, ties broken by
--   scan order (later partition, then later row, counts as later; spec §15.2). The row order is the
--   position in the file, which assumes one file per partition (true for `chronon gen`).

SET VARIABLE max_day = (
  SELECT max(ts - ts % 86400000)
  FROM read_parquet('@WAREHOUSE@/data/checkouts/*/*.parquet', hive_partitioning = true, hive_types_autocast = false)
  WHERE ds <= '@END_DS@');
SET VARIABLE snapshot_end_ds = strftime(to_timestamp((getvariable('max_day') - 86400000) / 1000), '%Y-%m-%d');
SET VARIABLE temporal_end_ds = strftime(to_timestamp(getvariable('max_day') / 1000), '%Y-%m-%d');

COPY (
  WITH
  left_rows AS (
    SELECT row_number() OVER () AS rid, user_id, ts, ds, ts - ts % 86400000 AS day_start
    FROM read_parquet('@WAREHOUSE@/data/checkouts/*/*.parquet', hive_partitioning = true, hive_types_autocast = false)
    WHERE ds <= '@END_DS@'
  ),
  purchases AS (
    SELECT user_id, purchase_price AS v, ts, ds, file_row_number AS rn
    FROM read_parquet('@WAREHOUSE@/data/purchases/*/*.parquet', hive_partitioning = true, hive_types_autocast = false,
                      file_row_number = true)
    WHERE ds <= getvariable('snapshot_end_ds') AND user_id IS NOT NULL
  ),
  -- One snapshot value per (user, day): every checkout of that user on that day shares it.
  snapshot_keys AS (SELECT DISTINCT user_id, day_start FROM left_rows WHERE user_id IS NOT NULL),
  purchase_rows AS (
    SELECT k.user_id, k.day_start, p.v, p.ts,
      -- pos 1 = the latest event (LAST_K order); ranking in a window and keeping pos <= k is much
      -- cheaper in DuckDB than an ordered list() or max_by over a composite key.
      row_number() OVER (PARTITION BY k.user_id, k.day_start ORDER BY p.ts DESC, p.ds DESC, p.rn DESC) AS pos
    FROM snapshot_keys k
    JOIN purchases p ON p.user_id = k.user_id AND p.ts < k.day_start
  ),
  purchase_features AS (
    SELECT user_id, day_start,
      CAST(sum(v) FILTER (WHERE ts >= day_start - 3 * 86400000::BIGINT) AS BIGINT) AS sum_3d,
      CAST(sum(v) FILTER (WHERE ts >= day_start - 14 * 86400000::BIGINT) AS BIGINT) AS sum_14d,
      CAST(sum(v) FILTER (WHERE ts >= day_start - 30 * 86400000::BIGINT) AS BIGINT) AS sum_30d,
      nullif(count(v) FILTER (WHERE ts >= day_start - 3 * 86400000::BIGINT), 0) AS count_3d,
      nullif(count(v) FILTER (WHERE ts >= day_start - 14 * 86400000::BIGINT), 0) AS count_14d,
      nullif(count(v) FILTER (WHERE ts >= day_start - 30 * 86400000::BIGINT), 0) AS count_30d,
      avg(v) FILTER (WHERE ts >= day_start - 3 * 86400000::BIGINT) AS average_3d,
      avg(v) FILTER (WHERE ts >= day_start - 14 * 86400000::BIGINT) AS average_14d,
      avg(v) FILTER (WHERE ts >= day_start - 30 * 86400000::BIGINT) AS average_30d,
      max_by(v, -pos, 10) FILTER (WHERE pos <= 10) AS last10
    FROM purchase_rows
    GROUP BY user_id, day_start
  ),
  returns AS (
    SELECT user_id, refund_amt AS v, ts, ds, file_row_number AS rn
    FROM read_parquet('@WAREHOUSE@/data/returns/*/*.parquet', hive_partitioning = true, hive_types_autocast = false,
                      file_row_number = true)
    WHERE ds <= getvariable('temporal_end_ds') AND user_id IS NOT NULL
  ),
  query_times AS (
    SELECT rid, user_id, ts,
      (ts - 3 * 86400000::BIGINT) - (ts - 3 * 86400000::BIGINT) % 3600000 AS start_3d,
      (ts - 14 * 86400000::BIGINT) - (ts - 14 * 86400000::BIGINT) % 86400000 AS start_14d,
      (ts - 30 * 86400000::BIGINT) - (ts - 30 * 86400000::BIGINT) % 86400000 AS start_30d
    FROM left_rows WHERE user_id IS NOT NULL
  ),
  return_rows AS (
    SELECT q.rid, q.start_3d, q.start_14d, q.start_30d, r.v, r.ts,
      row_number() OVER (PARTITION BY q.rid ORDER BY r.ts DESC, r.ds DESC, r.rn DESC) AS pos
    FROM query_times q
    JOIN returns r ON r.user_id = q.user_id AND r.ts < q.ts
  ),
  return_features AS (
    SELECT rid,
      CAST(sum(v) FILTER (WHERE ts >= start_3d) AS BIGINT) AS sum_3d,
      CAST(sum(v) FILTER (WHERE ts >= start_14d) AS BIGINT) AS sum_14d,
      CAST(sum(v) FILTER (WHERE ts >= start_30d) AS BIGINT) AS sum_30d,
      nullif(count(v) FILTER (WHERE ts >= start_3d), 0) AS count_3d,
      nullif(count(v) FILTER (WHERE ts >= start_14d), 0) AS count_14d,
      nullif(count(v) FILTER (WHERE ts >= start_30d), 0) AS count_30d,
      avg(v) FILTER (WHERE ts >= start_3d) AS average_3d,
      avg(v) FILTER (WHERE ts >= start_14d) AS average_14d,
      avg(v) FILTER (WHERE ts >= start_30d) AS average_30d,
      max_by(v, -pos, 2) FILTER (WHERE pos <= 2) AS last2
    FROM return_rows
    GROUP BY rid
  ),
  users AS (
    SELECT user_id, account_created_ds, email_verified, ds
    FROM read_parquet('@WAREHOUSE@/data/users/*/*.parquet', hive_partitioning = true, hive_types_autocast = false)
    WHERE ds <= getvariable('snapshot_end_ds') AND user_id IS NOT NULL
  )
  SELECT
    l.user_id,
    l.ts,
    p.sum_3d AS quickstart_purchases_v1_purchase_price_sum_3d,
    p.sum_14d AS quickstart_purchases_v1_purchase_price_sum_14d,
    p.sum_30d AS quickstart_purchases_v1_purchase_price_sum_30d,
    p.count_3d AS quickstart_purchases_v1_purchase_price_count_3d,
    p.count_14d AS quickstart_purchases_v1_purchase_price_count_14d,
    p.count_30d AS quickstart_purchases_v1_purchase_price_count_30d,
    p.average_3d AS quickstart_purchases_v1_purchase_price_average_3d,
    p.average_14d AS quickstart_purchases_v1_purchase_price_average_14d,
    p.average_30d AS quickstart_purchases_v1_purchase_price_average_30d,
    p.last10 AS quickstart_purchases_v1_purchase_price_last10,
    r.sum_3d AS quickstart_returns_v1_refund_amt_sum_3d,
    r.sum_14d AS quickstart_returns_v1_refund_amt_sum_14d,
    r.sum_30d AS quickstart_returns_v1_refund_amt_sum_30d,
    r.count_3d AS quickstart_returns_v1_refund_amt_count_3d,
    r.count_14d AS quickstart_returns_v1_refund_amt_count_14d,
    r.count_30d AS quickstart_returns_v1_refund_amt_count_30d,
    r.average_3d AS quickstart_returns_v1_refund_amt_average_3d,
    r.average_14d AS quickstart_returns_v1_refund_amt_average_14d,
    r.average_30d AS quickstart_returns_v1_refund_amt_average_30d,
    r.last2 AS quickstart_returns_v1_refund_amt_last2,
    u.account_created_ds AS quickstart_users_v1_account_created_ds,
    u.email_verified AS quickstart_users_v1_email_verified,
    l.ds
  FROM left_rows l
  LEFT JOIN purchase_features p ON p.user_id = l.user_id AND p.day_start = l.day_start
  LEFT JOIN return_features r ON r.rid = l.rid
  LEFT JOIN users u ON u.user_id = l.user_id
    AND u.ds = strftime(to_timestamp((l.day_start - 86400000) / 1000), '%Y-%m-%d')
) TO '@OUT@' (FORMAT parquet, PARTITION_BY (ds), OVERWRITE_OR_IGNORE true);

SELECT count(*) AS output_rows FROM read_parquet('@OUT@/**/*.parquet', hive_partitioning = true);
