-- Retention removes old events with their scopes, and old inbound requests, in small
-- batches: each needs its rows found without a scan.
CREATE INDEX event_scopes_by_event ON event_scopes (event_id);
CREATE INDEX inbound_by_time ON inbound_requests (received_at);
