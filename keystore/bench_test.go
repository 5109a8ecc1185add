package keystore_test

import (
	"slices"
	"testing"

	"github.com/keygate/keygate/internal/testenv/storetest"
	"github.com/keygate/keygate/keystore"
)

// BenchmarkVerifyCached is the key step of /auth for a cached key: the
// format check, the hash and the cache lookup.
func BenchmarkVerifyCached(b *testing.B) {
	s := openStore(b, storetest.SQLiteURL(b), keystore.Config{})
	_, key, err := s.Create(ctx, "bench", keystore.Spec{Name: "bench", Scopes: []string{"route:GET:/api/**"}})
	if err != nil {
		b.Fatal(err)
	}
	plain := key.Reveal()
	if _, err := s.Verify(ctx, plain); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Verify(ctx, plain); err != nil {
			b.Fatal(err)
		}
	}
}

// TestCachedRecordsShareLists: keys with the same scopes and limits hold
// one copy of each list in the cache, with their content unchanged.
func TestCachedRecordsShareLists(t *testing.T) {
	s := openStore(t, storetest.SQLiteURL(t), keystore.Config{})
	spec := keystore.Spec{Name: "a", Owner: "partner-1", Scopes: []string{"route:GET:/api/**", "odoo:res.partner:read"}, RateLimits: []string{"10/1s"}}
	var recs [2]*keystore.Record
	for i := range recs {
		_, key, err := s.Create(ctx, "test", spec)
		if err != nil {
			t.Fatal(err)
		}
		if recs[i], err = s.Verify(ctx, key.Reveal()); err != nil {
			t.Fatal(err)
		}
	}
	if &recs[0].Scopes[0] != &recs[1].Scopes[0] || &recs[0].RateLimits[0] != &recs[1].RateLimits[0] {
		t.Error("two cached keys with the same lists hold a copy each")
	}
	got, err := s.Get(ctx, recs[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(recs[1].Scopes, got.Scopes) || !slices.Equal(recs[1].RateLimits, got.RateLimits) || recs[1].Owner != got.Owner ||
		string(recs[1].Metadata) != string(got.Metadata) || recs[1].Status != got.Status {
		t.Errorf("cached record %+v, stored %+v", recs[1], got)
	}
}
