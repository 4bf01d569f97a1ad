-- Per-endpoint limits that hold across every worker sharing the database.
-- The rate: the theoretical arrival time (GCRA) of the endpoint's next send, unix ms;
-- each claim gives its rows evenly spaced send times from here and moves it on.
ALTER TABLE endpoints ADD COLUMN rate_tat BIGINT;
-- The concurrency: rows under a live lease are in flight somewhere in the cluster.
CREATE INDEX deliveries_leased ON deliveries (endpoint_id, lease_until)
    WHERE lease_until IS NOT NULL;
