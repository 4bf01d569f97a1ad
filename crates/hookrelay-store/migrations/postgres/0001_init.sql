-- Hookrelay schema for PostgreSQL: the final shape of the SQLite migrations, in
-- PostgreSQL types. Times are unix milliseconds (BIGINT); JSON is stored as text, read
-- and written exactly as on SQLite. Keys and codes use the "C" collation so that lists
-- sort (and page on `id` cursors) byte-wise, as they do on SQLite.

CREATE TABLE event_types (
    code        TEXT COLLATE "C" PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT,
    schema      TEXT,
    archived    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- `secret`, `previous_secret`, `headers` and `auth` are sealed (`enc1:…`).
CREATE TABLE endpoints (
    id                         TEXT COLLATE "C" PRIMARY KEY,
    scope                      TEXT COLLATE "C" NOT NULL,
    code                       TEXT COLLATE "C" NOT NULL,
    name                       TEXT NOT NULL,
    url                        TEXT NOT NULL,
    enabled                    BOOLEAN NOT NULL,
    disabled_reason            TEXT,
    headers                    TEXT NOT NULL DEFAULT '{}',
    auth                       TEXT,
    timeout_ms                 BIGINT,
    rate_limit                 BIGINT,
    secret                     TEXT NOT NULL,
    created_at                 BIGINT NOT NULL,
    updated_at                 BIGINT NOT NULL,
    previous_secret            TEXT,
    previous_secret_expires_at BIGINT,
    failure_streak             BIGINT NOT NULL DEFAULT 0,
    failing_since              BIGINT,
    targets                    TEXT,
    UNIQUE (scope, code)
);

-- One row per subscribed endpoint: `events` is a JSON array of patterns.
CREATE TABLE subscriptions (
    endpoint_id TEXT COLLATE "C" PRIMARY KEY REFERENCES endpoints (id) ON DELETE CASCADE,
    events      TEXT NOT NULL,
    filter      TEXT,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE events (
    id              TEXT COLLATE "C" PRIMARY KEY,
    type            TEXT COLLATE "C" NOT NULL,
    scopes          TEXT NOT NULL,
    data            TEXT NOT NULL,
    idempotency_key TEXT UNIQUE,
    created_at      BIGINT NOT NULL
);
CREATE INDEX events_by_type ON events (type, id);
CREATE INDEX events_by_time ON events (created_at);

CREATE TABLE event_scopes (
    scope    TEXT COLLATE "C" NOT NULL,
    event_id TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (scope, event_id)
);

-- The outbox: one row per event and endpoint. `pending` rows are the queue; a worker
-- that claims one leases it until `lease_until` (unix ms), after which another may.
CREATE TABLE deliveries (
    id              TEXT COLLATE "C" PRIMARY KEY,
    event_id        TEXT COLLATE "C" NOT NULL,
    endpoint_id     TEXT COLLATE "C" NOT NULL,
    scope           TEXT COLLATE "C" NOT NULL,
    endpoint_code   TEXT COLLATE "C" NOT NULL,
    event_type      TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    lease_until     BIGINT
) WITH (fillfactor = 80);
-- Room in each page lets a claim (which only sets `lease_until`, no indexed column)
-- be a heap-only update, without touching the indexes.
-- The claim query: due pending rows in due order.
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_by_event ON deliveries (event_id);
CREATE INDEX deliveries_by_endpoint ON deliveries (scope, endpoint_code, id);
CREATE INDEX deliveries_by_status ON deliveries (status, id);

CREATE TABLE attempts (
    delivery_id      TEXT COLLATE "C" NOT NULL,
    n                BIGINT NOT NULL,
    at               BIGINT NOT NULL,
    url              TEXT NOT NULL,
    status_code      BIGINT,
    duration_ms      BIGINT NOT NULL,
    error            TEXT,
    request_headers  TEXT NOT NULL,
    response_headers TEXT,
    response_body    TEXT,
    failed_over      TEXT,
    PRIMARY KEY (delivery_id, n)
);

-- API tokens, stored as SHA-256 hashes. `scopes` NULL means an admin token.
CREATE TABLE tokens (
    id         TEXT COLLATE "C" PRIMARY KEY,
    name       TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE,
    scopes     TEXT,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

-- Facts about the database itself. `master_key_check` is a sealed known text: a start
-- with another master key fails at once instead of at the first delivery.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- The inbound gateway. `verify` holds the source's secrets and is stored sealed; the
-- rest of its settings are plain JSON in `spec`.
CREATE TABLE sources (
    name       TEXT COLLATE "C" PRIMARY KEY,
    spec       TEXT NOT NULL,
    verify     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Every request /in/{source} received, accepted or not. Forwards are deliveries whose
-- `event_id` is the request's id. `headers` is a JSON list of [name, value] pairs as
-- received, with credential values redacted.
CREATE TABLE inbound_requests (
    id          TEXT COLLATE "C" PRIMARY KEY,
    source      TEXT COLLATE "C" NOT NULL,
    received_at BIGINT NOT NULL,
    status      TEXT NOT NULL,
    reason      TEXT,
    client_ip   TEXT,
    dedupe_key  TEXT,
    headers     TEXT NOT NULL,
    body        BYTEA NOT NULL,
    verified    TEXT,
    event_id    TEXT
);
CREATE INDEX inbound_by_source ON inbound_requests (source, id);
CREATE INDEX inbound_by_key ON inbound_requests (source, dedupe_key, received_at)
    WHERE status = 'accepted';
