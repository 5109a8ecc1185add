-- +goose Up
CREATE TABLE api_keys (
    id            TEXT PRIMARY KEY,
    hash          BLOB NOT NULL,
    prefix        TEXT NOT NULL,
    name          TEXT NOT NULL,
    owner         TEXT NOT NULL DEFAULT '',
    scopes        TEXT NOT NULL DEFAULT '[]',
    rate_limits   TEXT NOT NULL DEFAULT '[]',
    ip_allowlist  TEXT NOT NULL DEFAULT '[]',
    expires_at    DATETIME,
    status        TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    metadata      TEXT NOT NULL DEFAULT '{}',
    credential_id TEXT,
    created_at    DATETIME NOT NULL,
    updated_at    DATETIME NOT NULL,
    last_used_at  DATETIME,
    revoked_at    DATETIME
);
CREATE UNIQUE INDEX api_keys_hash_idx ON api_keys (hash);
CREATE INDEX api_keys_owner_idx ON api_keys (owner, created_at);

CREATE TABLE audit_events (
    id      TEXT PRIMARY KEY,
    at      DATETIME NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    key_id  TEXT,
    details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_key_idx ON audit_events (key_id, at);

CREATE TABLE key_usage (
    key_id  TEXT NOT NULL,
    hour    DATETIME NOT NULL,
    allowed INTEGER NOT NULL DEFAULT 0,
    denied  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (key_id, hour)
);

-- +goose Down
DROP TABLE key_usage;
DROP TABLE audit_events;
DROP TABLE api_keys;
