-- +goose Up
CREATE TABLE api_keys (
    id            TEXT PRIMARY KEY,
    hash          BYTEA NOT NULL,
    prefix        TEXT NOT NULL,
    name          TEXT NOT NULL,
    owner         TEXT NOT NULL DEFAULT '',
    scopes        JSONB NOT NULL DEFAULT '[]',
    rate_limits   JSONB NOT NULL DEFAULT '[]',
    ip_allowlist  JSONB NOT NULL DEFAULT '[]',
    expires_at    TIMESTAMPTZ,
    status        TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    metadata      JSONB NOT NULL DEFAULT '{}',
    credential_id TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    last_used_at  TIMESTAMPTZ,
    revoked_at    TIMESTAMPTZ
);
CREATE UNIQUE INDEX api_keys_hash_idx ON api_keys (hash);
CREATE INDEX api_keys_owner_idx ON api_keys (owner, created_at);

CREATE TABLE audit_events (
    id      TEXT PRIMARY KEY,
    at      TIMESTAMPTZ NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    key_id  TEXT,
    details JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_key_idx ON audit_events (key_id, at);

CREATE TABLE key_usage (
    key_id  TEXT NOT NULL,
    hour    TIMESTAMPTZ NOT NULL,
    allowed BIGINT NOT NULL DEFAULT 0,
    denied  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (key_id, hour)
);

-- +goose Down
DROP TABLE key_usage;
DROP TABLE audit_events;
DROP TABLE api_keys;
