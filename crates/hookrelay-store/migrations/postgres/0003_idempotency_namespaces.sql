-- Idempotency keys are unique per publisher's namespace, not across every tenant: a key
-- one tenant used must neither suppress another tenant's event nor reveal it.
--
-- Events published before this migration get the namespace a scoped token for exactly
-- their scopes would have (`scopes:` + the sorted scopes), so a tenant retrying an old
-- publish still deduplicates; nothing places them in another tenant's namespace.
ALTER TABLE events ADD COLUMN idempotency_ns TEXT COLLATE "C";

UPDATE events e SET idempotency_ns = 'scopes:' ||
    (SELECT string_agg(s.scope, ',' ORDER BY s.scope COLLATE "C")
     FROM event_scopes s WHERE s.event_id = e.id)
WHERE e.idempotency_key IS NOT NULL;

ALTER TABLE events DROP CONSTRAINT IF EXISTS events_idempotency_key_key;
CREATE UNIQUE INDEX events_idempotency ON events (idempotency_ns, idempotency_key);
-- The event log's `?idempotency_key=` filter (any namespace).
CREATE INDEX events_by_key ON events (idempotency_key) WHERE idempotency_key IS NOT NULL;
