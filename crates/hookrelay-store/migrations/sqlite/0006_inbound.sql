-- The inbound gateway. `verify` holds the source's secrets and is stored sealed; the
-- rest of its settings are plain JSON in `spec`.
CREATE TABLE sources (
    name       TEXT PRIMARY KEY,
    spec       TEXT NOT NULL,
    verify     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Every request /in/{source} received, accepted or not. Forwards are deliveries whose
-- `event_id` is the request's id. `headers` is a JSON list of [name, value] pairs as
-- received, with credential values redacted.
CREATE TABLE inbound_requests (
    id          TEXT PRIMARY KEY,
    source      TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    status      TEXT NOT NULL,
    reason      TEXT,
    client_ip   TEXT,
    dedupe_key  TEXT,
    headers     TEXT NOT NULL,
    body        BLOB NOT NULL,
    verified    TEXT,
    event_id    TEXT
);
CREATE INDEX inbound_by_source ON inbound_requests (source, id);
CREATE INDEX inbound_by_key ON inbound_requests (source, dedupe_key, received_at)
    WHERE status = 'accepted';
