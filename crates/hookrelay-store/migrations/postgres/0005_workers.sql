-- The workers alive in the cluster: each delivering process marks itself here every
-- second, and splits the per-endpoint limits (rate, concurrency) by how many are alive.
CREATE TABLE workers (
    id      TEXT PRIMARY KEY,
    seen_at BIGINT NOT NULL
);
