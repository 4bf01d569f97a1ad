-- Hookrelay schema for SQLite. Times are unix milliseconds; JSON is stored as text.

CREATE TABLE event_types (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT,
    schema      TEXT,
    archived    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE endpoints (
    id              TEXT PRIMARY KEY,
    scope           TEXT NOT NULL,
    code            TEXT NOT NULL,
    name            TEXT NOT NULL,
    url             TEXT NOT NULL,
    enabled         INTEGER NOT NULL,
    disabled_reason TEXT,
    headers         TEXT NOT NULL DEFAULT '{}',
    auth            TEXT,
    timeout_ms      INTEGER,
    rate_limit      INTEGER,
    secret          TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (scope, code)
);

-- One row per subscribed endpoint: `events` is a JSON array of patterns.
CREATE TABLE subscriptions (
    endpoint_id TEXT PRIMARY KEY REFERENCES endpoints (id) ON DELETE CASCADE,
    events      TEXT NOT NULL,
    filter      TEXT,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE events (
    id              TEXT PRIMARY KEY,
    type            TEXT NOT NULL,
    scopes          TEXT NOT NULL,
    data            TEXT NOT NULL,
    idempotency_key TEXT UNIQUE,
    created_at      INTEGER NOT NULL
);
CREATE INDEX events_by_type ON events (type, id);
CREATE INDEX events_by_time ON events (created_at);

CREATE TABLE event_scopes (
    scope    TEXT NOT NULL,
    event_id TEXT NOT NULL,
    PRIMARY KEY (scope, event_id)
) WITHOUT ROWID;

-- The outbox: one row per event and endpoint. `pending` rows are the queue.
CREATE TABLE deliveries (
    id              TEXT PRIMARY KEY,
    event_id        TEXT NOT NULL,
    endpoint_id     TEXT NOT NULL,
    scope           TEXT NOT NULL,
    endpoint_code   TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_by_event ON deliveries (event_id);
CREATE INDEX deliveries_by_endpoint ON deliveries (scope, endpoint_code, id);
CREATE INDEX deliveries_by_status ON deliveries (status, id);

CREATE TABLE attempts (
    delivery_id      TEXT NOT NULL,
    n                INTEGER NOT NULL,
    at               INTEGER NOT NULL,
    url              TEXT NOT NULL,
    status_code      INTEGER,
    duration_ms      INTEGER NOT NULL,
    error            TEXT,
    request_headers  TEXT NOT NULL,
    response_headers TEXT,
    response_body    TEXT,
    PRIMARY KEY (delivery_id, n)
) WITHOUT ROWID;

-- API tokens, stored as SHA-256 hashes. `scopes` NULL means an admin token.
CREATE TABLE tokens (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE,
    scopes     TEXT,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
