-- Attempts per endpoint and hour, counted as they are recorded, so the dashboard's chart
-- and success rates read a few rows instead of the attempt log. `shard` spreads a busy
-- endpoint's counters over several rows (concurrent PostgreSQL batches would otherwise
-- queue on one row lock); readers add the shards up. SQLite has one writer: shard 0.
CREATE TABLE attempt_stats (
    endpoint_id     TEXT NOT NULL,
    hour_start      INTEGER NOT NULL,
    shard           INTEGER NOT NULL,
    scope           TEXT NOT NULL,
    succeeded       INTEGER NOT NULL,
    failed          INTEGER NOT NULL,
    last_attempt_at INTEGER NOT NULL,
    last_ok         INTEGER NOT NULL,
    PRIMARY KEY (endpoint_id, hour_start, shard)
);
CREATE INDEX attempt_stats_by_hour ON attempt_stats (hour_start);

-- The overview's "failing endpoints": few rows, found without scanning every endpoint.
CREATE INDEX endpoints_failing ON endpoints (failing_since) WHERE failure_streak > 0;
