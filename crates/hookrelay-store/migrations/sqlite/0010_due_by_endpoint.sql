-- Claims read each endpoint's due deliveries on their own, so an endpoint without room
-- (down, hanging, throttled) is skipped without reading its backlog, and the endpoints
-- that have work are found with one seek each.
CREATE INDEX deliveries_due_by_endpoint ON deliveries (endpoint_id, next_attempt_at)
    WHERE status = 'pending';
