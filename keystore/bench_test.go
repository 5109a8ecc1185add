package keystore_test

import (
	"fmt"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/internal/testenv/storetest"
	"github.com/keygate/keygate/keystore"
)

// BenchmarkVerifyCached is the key step of /auth for a cached key: the
// length and prefix check, the hash and the cache lookup (the digits and
// checksum are checked before a lookup in storage, not for a cached key).
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

// TestVerifiedKeys: a verified key holds what storage holds of its id,
// owner, state, credential and the lists its policy is compiled from, for
// each backend; keys of one owner and one credential share them in the
// cache.
func TestVerifiedKeys(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		clk := newClock()
		compiled := func(r *keystore.Record) (any, error) {
			return fmt.Sprint(r.ID, r.Owner, r.Status, r.ExpiresAt, *r.CredentialID, r.Scopes, r.RateLimits, r.IPAllowlist, r.Credits.Remaining, *r.Credits.Refill), nil
		}
		s := openStore(t, url, keystore.Config{Now: clk.Now, Compile: compiled})
		cred := newCredential(t, s.Vault(newSealer(t, testKey(7))), "shop").ID
		exp := clk.Now().Add(time.Hour)
		spec := keystore.Spec{Name: "a", Owner: "partner-1", Scopes: []string{"route:GET:/api/**", "odoo:res.partner:read"}, RateLimits: []string{"10/1s"},
			IPAllowlist: []string{"10.0.0.0/8"}, ExpiresAt: &exp, CredentialID: &cred,
			Credits: &keystore.Credits{Remaining: 5, Refill: &keystore.Refill{Interval: keystore.RefillMonthly, Amount: 9, Day: 3}}}
		var vs [2]*keystore.Verified
		for i := range vs {
			_, key, err := s.Create(ctx, "test", spec)
			if err != nil {
				t.Fatal(err)
			}
			if vs[i], err = s.Verify(ctx, key.Reveal()); err != nil {
				t.Fatal(err)
			}
		}
		if unsafe.StringData(vs[0].Owner) != unsafe.StringData(vs[1].Owner) || vs[0].CredentialID != vs[1].CredentialID {
			t.Error("two cached keys of one owner and credential hold a copy each")
		}
		rec, err := s.Get(ctx, vs[1].ID)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := compiled(rec)
		got := *vs[1]
		got.Policy = nil
		if diff := cmp.Diff(rec.Verified(nil), &got, cmp.AllowUnexported(keystore.Verified{})); diff != "" || vs[1].Policy != want {
			t.Errorf("verified key (-stored +verified):\n%s\npolicy compiled from %v, want from %v", diff, vs[1].Policy, want)
		}
		if st := vs[1].Status(clk.Now()); st != keystore.StatusActive {
			t.Errorf("Status = %s, want active", st)
		}
		if st := vs[1].Status(exp); st != keystore.StatusExpired {
			t.Errorf("Status at the expiry = %s, want expired", st)
		}
	})
}
