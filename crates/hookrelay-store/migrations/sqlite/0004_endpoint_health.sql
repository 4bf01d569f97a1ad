-- The endpoint's current run of failed attempts: the circuit breaker opens after a
-- threshold, and an endpoint failing since longer than the configured period is
-- disabled. A success (or re-enabling the endpoint) clears both.
ALTER TABLE endpoints ADD COLUMN failure_streak INTEGER NOT NULL DEFAULT 0;
ALTER TABLE endpoints ADD COLUMN failing_since INTEGER;
