package storetest_test

import (
	"context"
	"testing"

	"github.com/keygate/keygate/internal/testenv"
	"github.com/keygate/keygate/internal/testenv/storetest"
	"github.com/keygate/keygate/keystore"
)

// A store from storetest is migrated: a key can be created and read back,
// on either backend.
func TestStoreIsMigrated(t *testing.T) {
	for name, open := range map[string]func(testing.TB) *keystore.Store{
		"sqlite":   storetest.SQLite,
		"postgres": func(tb testing.TB) *keystore.Store { return storetest.Store(tb, testenv.Postgres(tb)) },
	} {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			rec, _, err := s.Create(context.Background(), "test", keystore.Spec{Name: "k"})
			if err != nil {
				t.Fatalf("Create on a migrated store: %v", err)
			}
			if _, err := s.Get(context.Background(), rec.ID); err != nil {
				t.Fatalf("Get: %v", err)
			}
		})
	}
}
