-- Attempts per endpoint and hour, counted as they are recorded, so the dashboard's chart
-- and success rates read a few rows instead of the attempt log. `shard` spreads a busy
-- endpoint's counters over several rows, so concurrent write batches do not queue on one
-- row lock; readers add the shards up.
CREATE TABLE attempt_stats (
    endpoint_id     TEXT COLLATE "C" NOT NULL,
    hour_start      BIGINT NOT NULL,
    shard           BIGINT NOT NULL,
    scope           TEXT COLLATE "C" NOT NULL,
    succeeded       BIGINT NOT NULL,
    failed          BIGINT NOT NULL,
    last_attempt_at BIGINT NOT NULL,
    last_ok         BOOLEAN NOT NULL,
    PRIMARY KEY (endpoint_id, hour_start, shard)
);
CREATE INDEX attempt_stats_by_hour ON attempt_stats (hour_start);

-- The overview's "failing endpoints": few rows, found without scanning every endpoint.
CREATE INDEX endpoints_failing ON endpoints (failing_since) WHERE failure_streak > 0;
