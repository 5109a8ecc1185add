package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keygate/keygate/internal/testenv"
)

// authStatus asks a keygate's /auth as nginx would.
func authStatus(t testing.TB, base, key, method, uri string) (int, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/auth", nil)
	req.Header.Set("X-Original-Method", method)
	req.Header.Set("X-Original-URI", uri)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

func TestAuthThroughServe(t *testing.T) {
	k := start(t, "KEYGATE_DATABASE_URL="+sqliteURL(t), "KEYGATE_REDIS_URL="+testenv.RedisURL(t))
	_, key, _ := call(t, "POST", k.admin+"/admin/v1/keys", testToken,
		`{"name":"shop","owner":"p-1","scopes":["route:GET:/api/**"],"rate_limits":["2/1m"]}`)
	plain := key["key"].(string)
	cases := []struct {
		name, key, method, uri string
		want                   int
	}{
		{"no_key_is_401", "", "GET", "/api/x", 401},
		{"malformed_key_is_401", "kg_nope", "GET", "/api/x", 401},
		{"scoped_route_is_200", plain, "GET", "/api/partners/1", 200},
		{"other_method_is_403", plain, "POST", "/api/partners", 403},
		{"second_allowed_is_200", plain, "GET", "/api/x", 200},
		{"over_the_limit_is_429", plain, "GET", "/api/x", 429},
	}
	for _, c := range cases {
		got, hdr := authStatus(t, k.public, c.key, c.method, c.uri)
		if got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
		if got == 200 && hdr.Get("X-Keygate-Owner") != "p-1" {
			t.Errorf("%s: X-Keygate-Owner %q", c.name, hdr.Get("X-Keygate-Owner"))
		}
		if got == 429 && (hdr.Get("Retry-After") == "" || !strings.Contains(hdr.Get("RateLimit-Policy"), "q=2")) {
			t.Errorf("%s: headers %v, want Retry-After and RateLimit-Policy", c.name, hdr)
		}
	}
	if !k.logHas(`"key_id":"` + key["id"].(string)) {
		t.Error("the access log does not name the key id of /auth requests")
	}
	metrics := scrape(t, k.admin+"/metrics")
	for _, line := range []string{
		`keygate_auth_decisions_total{outcome="allowed"} 2`,
		`keygate_auth_decisions_total{outcome="forbidden"} 1`,
		`keygate_auth_decisions_total{outcome="rate_limited"} 1`,
		`keygate_auth_decisions_total{outcome="unauthorized"} 2`,
		`keygate_limiter_redis_up 1`,
		`keygate_limiter_duration_seconds_count 4`,
		`keygate_key_cache_misses_total 1`,
		`keygate_key_cache_hits_total 3`,
		`keygate_http_requests_total{listener="public",route="/auth",status="200"} 2`,
		`keygate_fast_path_requests_total 6`,
		`keygate_fast_path_handoffs_total 0`,
	} {
		if !strings.Contains(metrics, line+"\n") {
			t.Errorf("/metrics lacks %q", line)
		}
	}
	if !strings.Contains(metrics, `go_sql_max_open_connections{db_name="keygate"}`) || !strings.Contains(metrics, "keygate_usage_last_flush_timestamp_seconds") {
		t.Error("/metrics lacks the database pool or the usage flush gauges")
	}
	// The cached key's table: at least a page outside Go's heap.
	if v := metricValue(t, k, "keygate_offheap_bytes"); v < 4096 {
		t.Errorf("keygate_offheap_bytes %d, want at least a page", v)
	}
}

func scrape(t testing.TB, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// Two replicas on one Postgres: a key revoked through one is refused by
// the other, through LISTEN/NOTIFY. The delay is measured by polling.
func TestRevocationReachesOtherReplica(t *testing.T) {
	db := testenv.Postgres(t)
	a := start(t, "KEYGATE_DATABASE_URL="+db)
	b := start(t, "KEYGATE_DATABASE_URL="+db)
	_, key, _ := call(t, "POST", a.admin+"/admin/v1/keys", testToken, `{"name":"x","scopes":["route:*:/**"],"rate_limits":["100000/1s"]}`)
	if s, _ := authStatus(t, b.public, key["key"].(string), "GET", "/"); s != 200 {
		t.Fatalf("replica b before revocation: %d", s) // b has the key cached now
	}
	revokedAt := time.Now()
	if s, _, _ := call(t, "POST", a.admin+"/admin/v1/keys/"+key["id"].(string)+"/revoke", testToken, ""); s != 200 {
		t.Fatalf("revoke: %d", s)
	}
	for {
		s, _ := authStatus(t, b.public, key["key"].(string), "GET", "/")
		if s == 401 {
			break
		}
		if time.Since(revokedAt) > 5*time.Second {
			t.Fatalf("replica b still answers %d 5s after the revocation", s)
		}
	}
	t.Logf("revocation reached the other replica after %v", time.Since(revokedAt))
}
