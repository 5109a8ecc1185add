-- +goose Up
CREATE TABLE credentials (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    url        TEXT NOT NULL,
    db         TEXT NOT NULL,
    login      TEXT NOT NULL,
    secret     BLOB NOT NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);
CREATE UNIQUE INDEX credentials_name_idx ON credentials (name);

-- +goose Down
DROP TABLE credentials;
