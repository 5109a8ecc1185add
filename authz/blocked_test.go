package authz_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/keystore"
)

// TestClientOverTheFailedAuthLimitCostsNoLookup counts the keystore's
// database queries: once a client is over its failed-auth limit (3/1m
// here), its further keys, well-formed and unknown, are refused without
// one, while other clients and cached valid keys are served as usual.
func TestClientOverTheFailedAuthLimitCostsNoLookup(t *testing.T) {
	e := newEnv(t)
	_, good := e.key(t, keystore.Spec{Owner: "p", Scopes: []string{"route:GET:/**"}})
	_, uncached := e.key(t, keystore.Spec{Owner: "q", Scopes: []string{"route:GET:/**"}})
	if d := check(e, good, "198.51.100.7", "GET", "/a"); d.Status != http.StatusOK { // now cached
		t.Fatalf("good key: %d", d.Status)
	}
	const attacker = "198.51.100.1"
	var got []int
	for range 4 {
		got = append(got, check(e, forged(t), attacker, "GET", "/a").Status)
	}
	if diff := cmp.Diff([]int{401, 401, 401, 429}, got); diff != "" {
		t.Fatalf("first failures (-want +got):\n%s", diff)
	}
	before := e.queries.Load()
	for range 200 {
		d := check(e, forged(t), attacker, "GET", "/a")
		if d.Status != http.StatusTooManyRequests || d.RetryAfter <= 0 {
			t.Fatalf("blocked client: %d, retry after %v; want 429 with Retry-After", d.Status, d.RetryAfter)
		}
	}
	if n := e.queries.Load() - before; n != 0 {
		t.Fatalf("200 keys from a blocked client cost %d database queries, want 0", n)
	}
	statuses := []int{
		check(e, good, attacker, "GET", "/a").Status,     // cached valid key: served
		check(e, uncached, attacker, "GET", "/a").Status, // not cached: refused, no lookup
	}
	if n := e.queries.Load() - before; n != 0 {
		t.Fatalf("keys from a blocked client cost %d database queries, want 0", n)
	}
	statuses = append(statuses, check(e, forged(t), "198.51.100.2", "GET", "/a").Status) // another client
	if diff := cmp.Diff([]int{200, 429, 401}, statuses); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	e.clock.Add(2 * time.Minute)
	before = e.queries.Load()
	if d := check(e, uncached, attacker, "GET", "/a"); d.Status != http.StatusOK {
		t.Fatalf("after the block: %d, want 200", d.Status)
	}
	if e.queries.Load() == before {
		t.Fatal("after the block the key was not looked up")
	}
}

// forged returns a new well-formed key that no store holds.
func forged(t testing.TB) string {
	t.Helper()
	k, err := keystore.Generate("kg")
	if err != nil {
		t.Fatal(err)
	}
	return k.Reveal()
}
