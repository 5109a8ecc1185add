package authz_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/authz"
	"github.com/keygate/keygate/keystore"
	"github.com/keygate/keygate/limiter"
)

func check(e *env, credential, ip, method, uri string) authz.Decision {
	req := authz.Request{Method: method, URI: uri, ClientIP: addr(ip), Credential: credential}
	return e.auth.Check(ctx, req, authz.NeedRoute(method, uri))
}

func statuses(ds ...authz.Decision) []int {
	out := make([]int, len(ds))
	for i, d := range ds {
		out[i] = d.Status
	}
	return out
}

func TestCheckCachedKeyCostsNoDatabaseIO(t *testing.T) {
	e := newEnv(t)
	_, key := e.key(t, keystore.Spec{Scopes: []string{"route:GET:/**"}, RateLimits: []string{"1000/1s"}})
	if d := check(e, key, "198.51.100.1", "GET", "/x"); d.Status != http.StatusOK {
		t.Fatalf("first check: %d %s", d.Status, d.Reason)
	}
	before := e.queries.Load()
	for range 50 {
		if d := check(e, key, "198.51.100.1", "GET", "/x"); d.Status != http.StatusOK {
			t.Fatalf("check: %d %s", d.Status, d.Reason)
		}
	}
	if n := e.queries.Load() - before; n != 0 {
		t.Errorf("50 checks of a cached key ran %d queries, want 0", n)
	}
}

func TestCheckRateLimits(t *testing.T) {
	e := newEnv(t)
	rec, key := e.key(t, keystore.Spec{Scopes: []string{"route:GET:/**"}, RateLimits: []string{"2/1m"}})
	got := statuses(check(e, key, "198.51.100.1", "GET", "/a"), check(e, key, "198.51.100.1", "GET", "/a"))
	denied := check(e, key, "198.51.100.1", "GET", "/a")
	if diff := cmp.Diff([]int{200, 200, 429}, append(got, denied.Status)); diff != "" {
		t.Fatalf("statuses (-want +got):\n%s", diff)
	}
	// At 10:00:00 both requests sit in the fixed window that starts then:
	// they leave the sliding window in 2 minutes, and one more fits once
	// half of them has, in 90 s.
	wantHeader := hdr("Ratelimit-Policy", `"1m";q=2;w=60`, "Ratelimit", `"1m";r=0;t=120`, "Retry-After", "90")
	if diff := cmp.Diff(wantHeader, answerOf(t, denied).Header); diff != "" {
		t.Errorf("429 headers (-want +got):\n%s", diff)
	}
	e.clock.Add(2 * time.Minute)
	if d := check(e, key, "198.51.100.1", "GET", "/a"); d.Status != http.StatusOK {
		t.Errorf("after the window: %d, want 200", d.Status)
	}
	want := []use{{rec.ID, true}, {rec.ID, true}, {rec.ID, false}, {rec.ID, true}}
	if diff := cmp.Diff(want, e.uses.take()); diff != "" {
		t.Errorf("usage (-want +got):\n%s", diff)
	}
}

func TestCheckKeyWithoutLimitsUsesTheDefaults(t *testing.T) {
	e := newEnv(t, func(c *authz.Config) { c.DefaultLimits = []limiter.Limit{{Count: 1, Window: time.Hour}} })
	_, key := e.key(t, keystore.Spec{Scopes: []string{"route:GET:/**"}})
	got := statuses(check(e, key, "198.51.100.1", "GET", "/a"), check(e, key, "198.51.100.1", "GET", "/a"))
	if diff := cmp.Diff([]int{200, 429}, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
}

func TestCheckFailedAuthenticationsPerClient(t *testing.T) {
	e := newEnv(t)                           // FailedAuthLimit 3/1m
	bogus := "kg_" + strings.Repeat("0", 49) // malformed
	var got []int
	for range 4 {
		got = append(got, check(e, bogus, "198.51.100.1", "GET", "/").Status)
	}
	got = append(got,
		check(e, "", "198.51.100.1", "GET", "/").Status,       // no key: a plain 401, never 429
		check(e, bogus, "198.51.100.2", "GET", "/").Status,    // another client
		check(e, bogus, "2001:db8:1:2::1", "GET", "/").Status, // IPv6 counts per /64
	)
	for range 3 {
		got = append(got, check(e, bogus, "2001:db8:1:2::99", "GET", "/").Status)
	}
	want := []int{401, 401, 401, 429, 401, 401, 401, 401, 401, 429}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	e.clock.Add(2 * time.Minute)
	if d := check(e, bogus, "198.51.100.1", "GET", "/"); d.Status != http.StatusUnauthorized {
		t.Errorf("after the window: %d, want 401", d.Status)
	}
}

func TestCheckKeyLifecycle(t *testing.T) {
	e := newEnv(t)
	exp := e.clock.Now().Add(time.Hour)
	rec, key := e.key(t, keystore.Spec{Owner: "p1", Scopes: []string{"route:GET:/**"}, ExpiresAt: &exp})
	other, otherKey := e.key(t, keystore.Spec{Scopes: []string{"route:GET:/**"}})
	var got []string
	reason := func(d authz.Decision) { got = append(got, d.Reason) }
	reason(check(e, key, "198.51.100.1", "GET", "/"))
	e.clock.Add(2 * time.Hour)
	reason(check(e, key, "198.51.100.1", "GET", "/"))
	reason(check(e, otherKey, "198.51.100.1", "GET", "/"))
	if _, err := e.store.Revoke(ctx, "test", other.ID); err != nil {
		t.Fatal(err)
	}
	reason(check(e, otherKey, "198.51.100.1", "GET", "/"))
	reason(check(e, changeLast(otherKey), "198.51.100.1", "GET", "/"))
	want := []string{"", "key expired", "", "key revoked", "malformed key"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reasons (-want +got):\n%s", diff)
	}
	wantUses := []use{{rec.ID, true}, {rec.ID, false}, {other.ID, true}, {other.ID, false}}
	if diff := cmp.Diff(wantUses, e.uses.take()); diff != "" {
		t.Errorf("usage (-want +got):\n%s", diff)
	}
}

// changeLast returns key with its last character changed (to x, or y when
// it is x already), so that its checksum no longer matches.
func changeLast(key string) string {
	if key[len(key)-1] == 'x' {
		return key[:len(key)-1] + "y"
	}
	return key[:len(key)-1] + "x"
}

func TestCheckAllowlist(t *testing.T) {
	e := newEnv(t)
	_, key := e.key(t, keystore.Spec{Scopes: []string{"route:GET:/**"}, IPAllowlist: []string{"203.0.113.0/24", "2001:db8::/48"}})
	got := statuses(
		check(e, key, "203.0.113.9", "GET", "/"),
		check(e, key, "203.0.114.9", "GET", "/"),
		check(e, key, "2001:db8:0:ffff::1", "GET", "/"),
		check(e, key, "2001:db8:1::1", "GET", "/"),
		check(e, key, "::ffff:203.0.113.10", "GET", "/"),
	)
	if diff := cmp.Diff([]int{200, 403, 200, 403, 200}, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
}

func TestCheckStorageUnavailableIs503(t *testing.T) {
	e := newEnv(t)
	_, key := e.key(t, keystore.Spec{Scopes: []string{"route:GET:/**"}})
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	d := check(e, key, "198.51.100.1", "GET", "/")
	if d.Status != http.StatusServiceUnavailable || !errors.Is(d.Err, keystore.ErrUnavailable) {
		t.Errorf("closed store: %d %v, want 503 and ErrUnavailable", d.Status, d.Err)
	}
}

func TestCheckLimiterUnavailableIs503(t *testing.T) {
	down, err := limiter.NewRedis(limiter.RedisConfig{URL: "redis://127.0.0.1:1/0", Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = down.Close() })
	e := newEnv(t, func(c *authz.Config) { c.Limiter = down })
	_, key := e.key(t, keystore.Spec{Scopes: []string{"route:GET:/**"}, RateLimits: []string{"10/1s"}})
	got := []authz.Decision{check(e, key, "198.51.100.1", "GET", "/"), check(e, "kg_bad", "198.51.100.1", "GET", "/")}
	if diff := cmp.Diff([]int{503, 401}, statuses(got...)); diff != "" {
		t.Errorf("statuses with Redis down (-want +got):\n%s", diff)
	}
}

func TestCheckIgnoresForwardedHeadersOfUntrustedPeers(t *testing.T) {
	e := newEnv(t)
	_, key := e.key(t, keystore.Spec{Scopes: []string{"route:GET:/api/**"}})
	for _, tt := range []struct {
		peer string
		want int
	}{{"203.0.113.9:1234", 403}, {"127.0.0.1:1234", 200}} {
		r, _ := http.NewRequest(http.MethodGet, "http://keygate/auth", nil)
		r.RemoteAddr, r.RequestURI = tt.peer, "/auth"
		r.Header = hdr("Authorization", "Bearer "+key, "X-Forwarded-Method", "GET", "X-Forwarded-Uri", "/api/x")
		req := e.auth.Request(r)
		if d := e.auth.Check(ctx, req, authz.NeedRoute(req.Method, req.URI)); d.Status != tt.want {
			t.Errorf("peer %s: %d %s, want %d", tt.peer, d.Status, d.Reason, tt.want)
		}
	}
}

func TestNewReportsEveryProblem(t *testing.T) {
	_, err := authz.New(authz.Config{
		FailedAuthLimit: limiter.Limit{Count: 0, Window: time.Minute},
		DefaultLimits:   []limiter.Limit{{Count: 1, Window: time.Second}, {Count: 2, Window: time.Second}},
	})
	if err == nil {
		t.Fatal("New with a bad config: nil error")
	}
	for _, part := range []string{"Keys is required", "Limiter is required", "count", "same window"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not mention %q", err, part)
		}
	}
}

// NeedKey (Odoo's login and authenticate) asks only for a valid key: any
// scopes, or none, will do; the key's limits still count.
func TestCheckNeedKey(t *testing.T) {
	e := newEnv(t)
	_, bare := e.key(t, keystore.Spec{RateLimits: []string{"1/1m"}})
	ask := func(cred string, need authz.Need) int {
		return e.auth.Check(ctx, authz.Request{Method: "POST", URI: "/jsonrpc", ClientIP: addr("198.51.100.9"), Credential: cred}, need).Status
	}
	got := []int{
		ask(bare, authz.NeedKey()),
		ask(bare, authz.NeedKey()),
		ask("kg_not_a_key", authz.NeedKey()),
		ask(bare, authz.NeedOdoo("res.partner", "read")),
	}
	if diff := cmp.Diff([]int{200, 429, 401, 403}, got); diff != "" {
		t.Errorf("NeedKey for a scope-less key, again over its limit, a bad key; NeedOdoo (-want +got):\n%s", diff)
	}
}

// TestLimiterTook: LimiterTook is told of each decision of the key's
// limiter and of the failed-authentication limiter, and of nothing else.
func TestLimiterTook(t *testing.T) {
	var took []time.Duration
	e := newEnv(t, func(c *authz.Config) { c.LimiterTook = func(d time.Duration) { took = append(took, d) } })
	_, key := e.key(t, keystore.Spec{Scopes: []string{"route:GET:/**"}})
	got := statuses(
		check(e, key, "192.0.2.1", "GET", "/x"),       // counted: the key's limits
		check(e, key, "192.0.2.1", "POST", "/x"),      // 403 before any count
		check(e, "", "192.0.2.1", "GET", "/x"),        // 401 before any count
		check(e, "kg_nope", "192.0.2.1", "GET", "/x"), // counted: a failed authentication
	)
	if diff := cmp.Diff([]int{200, 403, 401, 401}, got); diff != "" {
		t.Fatalf("statuses (-want +got):\n%s", diff)
	}
	if len(took) != 2 {
		t.Fatalf("LimiterTook told %d times (%v), want 2", len(took), took)
	}
	for _, d := range took {
		if d < 0 {
			t.Errorf("a decision took %v", d)
		}
	}
}
