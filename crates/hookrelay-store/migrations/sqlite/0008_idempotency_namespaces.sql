-- Idempotency keys are unique per publisher's namespace, not across every tenant: a key
-- one tenant used must neither suppress another tenant's event nor reveal it. SQLite
-- cannot drop the old column's UNIQUE constraint, so the table is rebuilt.
--
-- Events published before this migration get the namespace a scoped token for exactly
-- their scopes would have (`scopes:` + the sorted scopes), so a tenant retrying an old
-- publish still deduplicates; nothing places them in another tenant's namespace.
CREATE TABLE events_new (
    id              TEXT PRIMARY KEY,
    type            TEXT NOT NULL,
    scopes          TEXT NOT NULL,
    data            TEXT NOT NULL,
    idempotency_ns  TEXT,
    idempotency_key TEXT,
    created_at      INTEGER NOT NULL,
    UNIQUE (idempotency_ns, idempotency_key)
);

INSERT INTO events_new (id, type, scopes, data, idempotency_ns, idempotency_key, created_at)
SELECT id, type, scopes, data,
       CASE WHEN idempotency_key IS NULL THEN NULL ELSE
           'scopes:' || (SELECT group_concat(scope, ',')
                         FROM (SELECT scope FROM event_scopes s
                               WHERE s.event_id = events.id ORDER BY scope))
       END,
       idempotency_key, created_at
FROM events;

DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
CREATE INDEX events_by_type ON events (type, id);
CREATE INDEX events_by_time ON events (created_at);
CREATE INDEX events_by_key ON events (idempotency_key) WHERE idempotency_key IS NOT NULL;
