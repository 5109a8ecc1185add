// Package storetest opens keystores for tests, migrated to the latest
// schema. It imports keystore and migrations, which is why it is not part
// of testenv (which imports no keygate package); keystore's in-package
// tests cannot use it either (the import would be a cycle).
package storetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/keygate/keygate/keystore"
	"github.com/keygate/keygate/migrations"
)

// SQLiteURL returns the URL of a new SQLite database file in the test's
// temporary directory.
func SQLiteURL(tb testing.TB) string {
	tb.Helper()
	return "sqlite://" + filepath.Join(tb.TempDir(), "keygate.db")
}

// SQLite opens a store on a new SQLite database with every migration
// applied, closed when the test ends.
func SQLite(tb testing.TB) *keystore.Store {
	tb.Helper()
	return Open(tb, keystore.Config{URL: SQLiteURL(tb)})
}

// Store opens the database at url with every migration applied, closed
// when the test ends.
func Store(tb testing.TB, url string) *keystore.Store {
	tb.Helper()
	return Open(tb, keystore.Config{URL: url})
}

// Open opens a store with cfg and applies every migration, failing tb if
// either fails. The store is closed when the test ends.
func Open(tb testing.TB, cfg keystore.Config) *keystore.Store {
	tb.Helper()
	s, err := keystore.Open(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("storetest: open %s: %v", keystore.RedactURL(cfg.URL), err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	Migrate(tb, s)
	return s
}

// Migrate applies every migration to the store's database.
func Migrate(tb testing.TB, s *keystore.Store) {
	tb.Helper()
	r, err := migrations.New(s.SQLDB(), s.Dialect())
	if err != nil {
		tb.Fatalf("storetest: migrations: %v", err)
	}
	if _, err := r.Up(context.Background()); err != nil {
		tb.Fatalf("storetest: migrate up: %v", err)
	}
}
