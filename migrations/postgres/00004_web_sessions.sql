-- +goose Up
-- Web sessions (/web/session/authenticate): only the SHA-256 of the
-- session id is kept; a session dies with its key.
CREATE TABLE web_sessions (
    hash         BYTEA PRIMARY KEY,
    key_id       TEXT NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX web_sessions_key_idx ON web_sessions (key_id, last_seen_at);
CREATE INDEX web_sessions_expires_idx ON web_sessions (expires_at);
CREATE INDEX web_sessions_seen_idx ON web_sessions (last_seen_at);

-- +goose Down
DROP TABLE web_sessions;
