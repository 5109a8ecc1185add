package keystore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/keygate/keygate/internal/testenv"
	"github.com/keygate/keygate/internal/testenv/storetest"
	"github.com/keygate/keygate/keystore"
)

// newClock returns a settable test clock.
func newClock() *testenv.Clock {
	return testenv.NewClock(time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC))
}

// backends returns one database URL per implementation: every test of the
// suite runs against each.
func backends(t *testing.T) map[string]string {
	t.Helper()
	return map[string]string{
		"sqlite":   storetest.SQLiteURL(t),
		"postgres": testenv.Postgres(t),
	}
}

func openStore(t testing.TB, url string, cfg keystore.Config) *keystore.Store {
	t.Helper()
	cfg.URL = url
	return storetest.Open(t, cfg)
}

// forEachBackend runs fn as a parallel subtest against every backend.
func forEachBackend(t *testing.T, fn func(t *testing.T, url string)) {
	for name, url := range backends(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, url)
		})
	}
}

var ctx = context.Background()

func TestCreateGetVerify(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		clk := newClock()
		s := openStore(t, url, keystore.Config{Now: clk.Now})
		exp := clk.Now().Add(48 * time.Hour)
		rec, key, err := s.Create(ctx, "test", keystore.Spec{
			Name: "shop", Owner: "partner-42", Scopes: []string{"odoo:res.partner:read"},
			RateLimits: []string{"10/1s"}, IPAllowlist: []string{"203.0.113.7", "2001:db8::/32"},
			ExpiresAt: &exp, Metadata: json.RawMessage(`{"b":1, "a":"x"}`),
		})
		if err != nil {
			t.Fatal(err)
		}
		want := &keystore.Record{
			ID: rec.ID, Prefix: key.Prefix(), Name: "shop", Owner: "partner-42",
			Scopes: []string{"odoo:res.partner:read"}, RateLimits: []string{"10/1s"},
			IPAllowlist: []string{"203.0.113.7/32", "2001:db8::/32"}, ExpiresAt: &exp,
			Status: keystore.StatusActive, Metadata: json.RawMessage(`{"a":"x","b":1}`),
			CreatedAt: clk.Now(), UpdatedAt: clk.Now(),
		}
		if diff := cmp.Diff(want, rec); diff != "" {
			t.Errorf("Create (-want +got):\n%s", diff)
		}
		got, err := s.Get(ctx, rec.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Get (-want +got):\n%s", diff)
		}
		v, err := s.Verify(ctx, key.Reveal())
		if err != nil || v.ID != rec.ID {
			t.Fatalf("Verify = %v, %v; want the key", v, err)
		}
	})
}

func TestVerifyOutcomes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		clk := newClock()
		s := openStore(t, url, keystore.Config{Now: clk.Now})
		exp := clk.Now().Add(time.Hour)
		_, expiring, _ := s.Create(ctx, "test", keystore.Spec{Name: "expiring", ExpiresAt: &exp})
		revokedRec, revoked, _ := s.Create(ctx, "test", keystore.Spec{Name: "revoked"})
		if _, err := s.Revoke(ctx, "test", revokedRec.ID); err != nil {
			t.Fatal(err)
		}
		unknown, _ := keystore.Generate("kg")
		clk.Add(time.Hour)
		cases := map[string]struct {
			in   string
			want error
		}{
			"malformed_is_rejected_before_storage": {"kg_nope", keystore.ErrMalformed},
			"unknown_key":                          {unknown.Reveal(), keystore.ErrUnknown},
			"revoked_key":                          {revoked.Reveal(), keystore.ErrRevoked},
			"expired_key":                          {expiring.Reveal(), keystore.ErrExpired},
		}
		for name, c := range cases {
			t.Run(name, func(t *testing.T) {
				if _, err := s.Verify(ctx, c.in); !errors.Is(err, c.want) {
					t.Errorf("Verify = %v, want %v", err, c.want)
				}
			})
		}
	})
}

// TestVerifyRefusesMalformedWithoutStorage: a string shaped like a key
// (length, prefix) whose digits or checksum are wrong is malformed, and
// costs no query, whether or not the key it was made from is cached.
func TestVerifyRefusesMalformedWithoutStorage(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		var queries atomic.Int64
		s := openStore(t, url, keystore.Config{OnQuery: func() { queries.Add(1) }})
		_, k, _ := s.Create(ctx, "test", keystore.Spec{Name: "a"})
		key := k.Reveal()
		swap := func(i int, c byte) string { return key[:i] + string(c) + key[i+1:] }
		other := func(c byte) byte {
			if c == 'A' {
				return 'B'
			}
			return 'A'
		}
		bad := []string{
			swap(len(key)-1, other(key[len(key)-1])), // the checksum
			swap(5, other(key[5])),                   // a digit the checksum covers
			swap(5, '-'),                             // not a base62 digit
		}
		for _, cached := range []bool{false, true} {
			if cached {
				if _, err := s.Verify(ctx, key); err != nil {
					t.Fatal(err)
				}
			}
			before := queries.Load()
			for _, b := range bad {
				if _, err := s.Verify(ctx, b); !errors.Is(err, keystore.ErrMalformed) {
					t.Errorf("cached %t: Verify(%q) = %v, want ErrMalformed", cached, b, err)
				}
			}
			if n := queries.Load() - before; n != 0 {
				t.Errorf("cached %t: malformed keys ran %d queries", cached, n)
			}
		}
	})
}

func TestListFiltersAndPages(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		clk := newClock()
		s := openStore(t, url, keystore.Config{Now: clk.Now})
		var ids []string
		for i := range 25 {
			owner := "a"
			if i%5 == 0 {
				owner = "b"
			}
			r, _, err := s.Create(ctx, "test", keystore.Spec{Name: fmt.Sprint("k", i), Owner: owner})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, r.ID)
			clk.Add(time.Second)
		}
		if _, err := s.Revoke(ctx, "test", ids[0]); err != nil {
			t.Fatal(err)
		}
		exp := clk.Now().Add(time.Minute)
		if _, err := s.Update(ctx, "test", ids[1], keystore.Patch{ExpiresAt: keystore.Some(&exp)}); err != nil {
			t.Fatal(err)
		}
		clk.Add(time.Hour)
		var seen []string
		for page := 1; page <= 3; page++ {
			recs, total, err := s.List(ctx, keystore.Filter{Page: page, Limit: 10})
			if err != nil || total != 25 {
				t.Fatalf("List page %d: total %d, %v", page, total, err)
			}
			for _, r := range recs {
				seen = append(seen, r.ID)
			}
		}
		want := append([]string(nil), ids...)
		for i, j := 0, len(want)-1; i < j; i, j = i+1, j-1 {
			want[i], want[j] = want[j], want[i]
		}
		if diff := cmp.Diff(want, seen); diff != "" {
			t.Errorf("pages, newest first, no overlap (-want +got):\n%s", diff)
		}
		counts := map[string]int64{}
		for _, f := range []keystore.Filter{{Owner: "b"}, {Status: keystore.StatusRevoked}, {Status: keystore.StatusExpired}, {Status: keystore.StatusActive}, {Owner: "b", Status: keystore.StatusActive}} {
			_, total, err := s.List(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			counts[fmt.Sprintf("%s/%s", f.Owner, f.Status)] = total
		}
		wantCounts := map[string]int64{"b/": 5, "/revoked": 1, "/expired": 1, "/active": 23, "b/active": 4}
		if diff := cmp.Diff(wantCounts, counts); diff != "" {
			t.Errorf("filtered totals (-want +got):\n%s", diff)
		}
	})
}

func TestUpdate(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		clk := newClock()
		scopes := func(r *keystore.Record) (any, error) { return r.Scopes, nil }
		s := openStore(t, url, keystore.Config{Now: clk.Now, Compile: scopes})
		rec, key, _ := s.Create(ctx, "test", keystore.Spec{Name: "a", Scopes: []string{"x"}})
		if _, err := s.Verify(ctx, key.Reveal()); err != nil { // now cached
			t.Fatal(err)
		}
		clk.Add(time.Minute)
		got, err := s.Update(ctx, "test", rec.ID, keystore.Patch{Name: keystore.Some("b"), Scopes: keystore.Some([]string{"y", "z"})})
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "b" || !cmp.Equal(got.Scopes, []string{"y", "z"}) || !got.UpdatedAt.Equal(clk.Now()) || got.Owner != "" {
			t.Errorf("Update = %+v", got)
		}
		v, err := s.Verify(ctx, key.Reveal())
		if err != nil || !cmp.Equal(v.Policy, any([]string{"y", "z"})) {
			t.Errorf("Verify after Update sees scopes %v (%v), want the new ones", v.Policy, err)
		}
		_, err = s.Update(ctx, "test", rec.ID, keystore.Patch{Name: keystore.Some(""), IPAllowlist: keystore.Some([]string{"300.1.1.1"})})
		var ve *keystore.ValidationError
		if !errors.As(err, &ve) || ve.Fields["name"] == "" || ve.Fields["ip_allowlist[0]"] == "" {
			t.Errorf("invalid Update = %v, want a ValidationError on name and ip_allowlist[0]", err)
		}
		if _, err := s.Update(ctx, "test", "nope", keystore.Patch{}); !errors.Is(err, keystore.ErrNotFound) {
			t.Errorf("Update of a missing key = %v, want ErrNotFound", err)
		}
	})
}

func TestRevokeIsIdempotent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		clk := newClock()
		s := openStore(t, url, keystore.Config{Now: clk.Now})
		rec, key, _ := s.Create(ctx, "test", keystore.Spec{Name: "a"})
		if _, err := s.Verify(ctx, key.Reveal()); err != nil {
			t.Fatal(err)
		}
		first, err := s.Revoke(ctx, "test", rec.ID)
		if err != nil || first.Status != keystore.StatusRevoked || first.RevokedAt == nil {
			t.Fatalf("Revoke = %+v, %v", first, err)
		}
		clk.Add(time.Minute)
		second, err := s.Revoke(ctx, "test", rec.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(first, second); diff != "" {
			t.Errorf("second Revoke changed the key (-first +second):\n%s", diff)
		}
		if _, err := s.Verify(ctx, key.Reveal()); !errors.Is(err, keystore.ErrRevoked) {
			t.Errorf("Verify after Revoke = %v, want ErrRevoked", err)
		}
		events, _, _ := s.Audit(ctx, keystore.AuditFilter{KeyID: rec.ID})
		if got := actions(events); !cmp.Equal(got, []string{keystore.ActionKeyRevoke, keystore.ActionKeyCreate}) {
			t.Errorf("audit = %v, want one revoke after the create", got)
		}
	})
}

func actions(events []keystore.AuditEvent) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.Action
	}
	return out
}

func TestRotateGrace(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		clk := newClock()
		s := openStore(t, url, keystore.Config{Now: clk.Now})
		old, oldKey, _ := s.Create(ctx, "test", keystore.Spec{Name: "a", Owner: "o", Scopes: []string{"admin"}})
		fresh, newKey, err := s.Rotate(ctx, "test", old.ID, 10*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if fresh.ID == old.ID || fresh.Name != "a" || fresh.Owner != "o" || !cmp.Equal(fresh.Scopes, []string{"admin"}) {
			t.Errorf("rotated key = %+v, want a new id with the same settings", fresh)
		}
		for _, k := range []keystore.Key{oldKey, newKey} {
			if _, err := s.Verify(ctx, k.Reveal()); err != nil {
				t.Errorf("during grace, Verify(%v) = %v", k, err)
			}
		}
		clk.Add(10 * time.Minute)
		if _, err := s.Verify(ctx, oldKey.Reveal()); !errors.Is(err, keystore.ErrExpired) {
			t.Errorf("after grace, old key: %v, want ErrExpired", err)
		}
		if _, err := s.Verify(ctx, newKey.Reveal()); err != nil {
			t.Errorf("after grace, new key: %v", err)
		}
		if _, _, err := s.Rotate(ctx, "test", old.ID, time.Minute); !errors.Is(err, keystore.ErrConflict) {
			t.Errorf("rotating an expired key = %v, want ErrConflict", err)
		}
	})
}

func TestUsageIsBatched(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		clk := newClock()
		var queries atomic.Int64
		s := openStore(t, url, keystore.Config{Now: clk.Now, FlushInterval: time.Hour, OnQuery: func() { queries.Add(1) }})
		rec, key, _ := s.Create(ctx, "test", keystore.Spec{Name: "a"})
		if _, err := s.Verify(ctx, key.Reveal()); err != nil {
			t.Fatal(err)
		}
		before := queries.Load()
		for range 100 {
			if _, err := s.Verify(ctx, key.Reveal()); err != nil {
				t.Fatal(err)
			}
			s.RecordUse(rec.ID, true, clk.Now())
		}
		s.RecordUse(rec.ID, false, clk.Now())
		if n := queries.Load() - before; n != 0 {
			t.Errorf("100 cached verifications ran %d queries, want 0", n)
		}
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		got, err := s.Usage(ctx, rec.ID, clk.Now().Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		want := []keystore.UsageHour{{Hour: clk.Now().Truncate(time.Hour), Allowed: 100, Denied: 1}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("usage (-want +got):\n%s", diff)
		}
		r, _ := s.Get(ctx, rec.ID)
		if r.LastUsedAt == nil || !r.LastUsedAt.Equal(clk.Now()) {
			t.Errorf("last_used_at = %v, want %v", r.LastUsedAt, clk.Now())
		}
	})
}

// TestUsageAcrossHoursAndFailedFlush: counts pending across an hour's end
// (and one late, of the hour before) are written to their hours; a flush
// that fails keeps them, and the next writes them with what came since; a
// key only denied gets counts but no last_used_at.
func TestUsageAcrossHoursAndFailedFlush(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		clk := newClock()
		s := openStore(t, url, keystore.Config{Now: clk.Now, FlushInterval: time.Hour})
		used, _, _ := s.Create(ctx, "test", keystore.Spec{Name: "used"})
		denied, _, _ := s.Create(ctx, "test", keystore.Spec{Name: "denied"})
		first := clk.Now().Truncate(time.Hour)
		s.RecordUse(used.ID, true, first.Add(10*time.Minute))
		s.RecordUse(used.ID, true, first.Add(70*time.Minute))  // the next hour
		s.RecordUse(used.ID, false, first.Add(50*time.Minute)) // late, of the first
		s.RecordUse(denied.ID, false, first.Add(5*time.Minute))
		gone, cancel := context.WithCancel(ctx)
		cancel()
		if err := s.Flush(gone); err == nil {
			t.Fatal("a flush with a cancelled context succeeded")
		}
		s.RecordUse(used.ID, true, first.Add(80*time.Minute))
		s.RecordUse(used.ID, true, first.Add(20*time.Minute)) // of the first, before the last use
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		got, err := s.Usage(ctx, used.ID, first)
		if err != nil {
			t.Fatal(err)
		}
		want := []keystore.UsageHour{{Hour: first, Allowed: 2, Denied: 1}, {Hour: first.Add(time.Hour), Allowed: 2}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("usage of the used key (-want +got):\n%s", diff)
		}
		if r, _ := s.Get(ctx, used.ID); r.LastUsedAt == nil || !r.LastUsedAt.Equal(first.Add(80*time.Minute)) {
			t.Errorf("last_used_at = %v, want %v", r.LastUsedAt, first.Add(80*time.Minute))
		}
		got, err = s.Usage(ctx, denied.ID, first)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]keystore.UsageHour{{Hour: first, Denied: 1}}, got); diff != "" {
			t.Errorf("usage of the denied key (-want +got):\n%s", diff)
		}
		if r, _ := s.Get(ctx, denied.ID); r.LastUsedAt != nil {
			t.Errorf("a key only denied has last_used_at %v", r.LastUsedAt)
		}
	})
}

func TestConcurrentWrites(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		s := openStore(t, url, keystore.Config{})
		const n = 50
		ids := make([]string, n)
		var wg sync.WaitGroup
		errs := make(chan error, 2*n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, _, err := s.Create(ctx, "test", keystore.Spec{Name: fmt.Sprint("k", i)})
				if err != nil {
					errs <- err
					return
				}
				ids[i] = r.ID
				if i%2 == 0 {
					if _, err := s.Revoke(ctx, "test", r.ID); err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		_, total, _ := s.List(ctx, keystore.Filter{})
		_, revoked, _ := s.List(ctx, keystore.Filter{Status: keystore.StatusRevoked})
		_, events, _ := s.Audit(ctx, keystore.AuditFilter{})
		got := []int64{total, revoked, events}
		if diff := cmp.Diff([]int64{n, n / 2, n + n/2}, got); diff != "" {
			t.Errorf("keys, revoked, audit events (-want +got):\n%s", diff)
		}
	})
}

func TestValidation(t *testing.T) {
	s := openStore(t, storetest.SQLiteURL(t), keystore.Config{
		ValidateScope: func(s string) error {
			if s == "bad" {
				return errors.New("unknown scope")
			}
			return nil
		},
	})
	past := time.Now().Add(-time.Hour)
	_, _, err := s.Create(ctx, "test", keystore.Spec{
		Scopes: []string{"ok", "bad"}, IPAllowlist: []string{"10.0.0.0/33"}, ExpiresAt: &past,
		Metadata: json.RawMessage(`[1]`),
	})
	var ve *keystore.ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, keystore.ErrInvalid) {
		t.Fatalf("Create = %v, want a ValidationError", err)
	}
	want := []string{"expires_at", "ip_allowlist[0]", "metadata", "name", "scopes[1]"}
	if diff := cmp.Diff(want, keysOf(ve.Fields), cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
}

// keysOf returns m's keys, sorted.
func keysOf(m map[string]string) []string {
	out := slices.Sorted(maps.Keys(m))
	if out == nil {
		out = []string{}
	}
	return out
}

func TestCredentialIDMustExist(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		s := openStore(t, url, keystore.Config{})
		ghost := "no-such-credential"
		_, _, err := s.Create(ctx, "test", keystore.Spec{Name: "a", CredentialID: &ghost})
		var ve *keystore.ValidationError
		if !errors.As(err, &ve) || ve.Fields["credential_id"] == "" {
			t.Errorf("Create with an unknown credential_id = %v, want a ValidationError on credential_id", err)
		}
		rec, _, _ := s.Create(ctx, "test", keystore.Spec{Name: "b"})
		_, err = s.Update(ctx, "test", rec.ID, keystore.Patch{CredentialID: keystore.Some(&ghost)})
		if !errors.As(err, &ve) || ve.Fields["credential_id"] == "" {
			t.Errorf("Update to an unknown credential_id = %v, want a ValidationError on credential_id", err)
		}
	})
}

// TestFlushOfManyKeys: the usage of more keys than one statement could
// carry (Postgres takes 65,535 parameters) is written whole.
func TestFlushOfManyKeys(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		clk := newClock()
		s := openStore(t, url, keystore.Config{Now: clk.Now, FlushInterval: time.Hour})
		rec, _, err := s.Create(ctx, "test", keystore.Spec{Name: "a"})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 33_000 { // 66,000 parameters for last_used_at; usage of keys that no longer exist is kept too
			s.RecordUse(fmt.Sprint("gone-", i), true, clk.Now())
		}
		s.RecordUse(rec.ID, true, clk.Now())
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		got, err := s.Usage(ctx, "gone-32999", clk.Now().Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		want := []keystore.UsageHour{{Hour: clk.Now().Truncate(time.Hour), Allowed: 1}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("usage of the last key (-want +got):\n%s", diff)
		}
		if r, err := s.Get(ctx, rec.ID); err != nil || r.LastUsedAt == nil || !r.LastUsedAt.Equal(clk.Now()) {
			t.Errorf("last used at %v (%v), want %v", r.LastUsedAt, err, clk.Now())
		}
	})
}

// TestCacheTTLs: a change that no replica was told of (written to the
// database by hand) reaches Verify once the cached answer's TTL is over,
// on the store's clock: CacheTTL for a key, NegativeTTL for a hash of no
// key. Postgres only: with SQLite, the data_version watcher sees the
// change and drops the cache at once.
func TestCacheTTLs(t *testing.T) {
	clk := newClock()
	s := openStore(t, testenv.Postgres(t), keystore.Config{Now: clk.Now, CacheTTL: time.Minute, NegativeTTL: 5 * time.Second})
	rec, key, err := s.Create(ctx, "test", keystore.Spec{Name: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	unknown, _ := keystore.Generate("kg")
	verify := func(k string) error { _, err := s.Verify(ctx, k); return err }
	if err := errors.Join(verify(key.Reveal()), verify(unknown.Reveal())); !errors.Is(err, keystore.ErrUnknown) || errors.Is(err, keystore.ErrRevoked) {
		t.Fatalf("before the change: %v, want the key valid and the other unknown", err)
	}
	h := unknown.Hash()
	if _, err := s.SQLDB().Exec(`UPDATE api_keys SET status = 'revoked' WHERE id = $1`, rec.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SQLDB().Exec(`INSERT INTO api_keys (id, hash, prefix, name, owner, scopes, rate_limits, ip_allowlist,
		status, metadata, created_at, updated_at) VALUES ('0193a000-0000-7000-8000-000000000001', $1, $2, 'by hand', '', '[]', '[]', '[]',
		'active', '{}', now(), now())`, h[:], unknown.Prefix()); err != nil {
		t.Fatal(err)
	}
	type outcome struct{ Key, Other error }
	at := func() outcome { return outcome{verify(key.Reveal()), verify(unknown.Reveal())} }
	var got []outcome
	got = append(got, at())
	clk.Add(5 * time.Second)
	got = append(got, at())
	clk.Add(55 * time.Second)
	got = append(got, at())
	want := []outcome{{nil, keystore.ErrUnknown}, {nil, nil}, {keystore.ErrRevoked, nil}}
	if diff := cmp.Diff(want, got, cmpopts.EquateErrors()); diff != "" {
		t.Fatalf("at 0, 5 s, 60 s (-want +got):\n%s", diff)
	}
}

// TestCachedKeyExpires: a key still cached is refused once its own expiry
// passes, by Verify and VerifyCached alike, on the same clock read as the
// cache's expiry.
func TestCachedKeyExpires(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		clk := newClock()
		s := openStore(t, url, keystore.Config{Now: clk.Now, CacheTTL: 2 * time.Hour})
		exp := clk.Now().Add(time.Hour)
		_, key, err := s.Create(ctx, "test", keystore.Spec{Name: "expiring", ExpiresAt: &exp})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Verify(ctx, key.Reveal()); err != nil {
			t.Fatalf("before its expiry: %v", err)
		}
		clk.Add(time.Hour)
		_, verr := s.Verify(ctx, key.Reveal())
		_, cached, cerr := s.VerifyCached(key.Reveal())
		if !errors.Is(verr, keystore.ErrExpired) || !cached || !errors.Is(cerr, keystore.ErrExpired) {
			t.Fatalf("at its expiry: Verify %v, VerifyCached %v (cached %t); want ErrExpired from the cache", verr, cerr, cached)
		}
		if st := s.Stats(); st.CacheMisses != 1 {
			t.Fatalf("%d cache misses, want 1 (the first Verify)", st.CacheMisses)
		}
	})
}
