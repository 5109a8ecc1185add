package main

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/internal/odootest"
	"github.com/keygate/keygate/internal/testenv"
	"github.com/keygate/keygate/keystore"
	"github.com/keygate/keygate/limiter"
)

// readyzCheck returns /readyz's status code and one of its checks.
func readyzCheck(t testing.TB, k *instance, check string) (int, string) {
	t.Helper()
	code, body, _ := call(t, "GET", k.public+"/readyz", "", "")
	checks, _ := body["checks"].(map[string]any)
	s, _ := checks[check].(string)
	return code, s
}

// stream sends n /auth requests and counts the answers by status.
func stream(t testing.TB, k *instance, key string, n int, counts map[int]int) {
	t.Helper()
	for range n {
		s, _ := authStatus(t, k.public, key, "GET", "/x")
		counts[s]++
	}
}

// Redis killed during a steady stream of /auth: no failed answer, the
// memory fallback decides meanwhile, and Redis is used again once back.
func TestFaultRedisKilled(t *testing.T) {
	redis := testenv.StartRedis(t)
	k := start(t, "KEYGATE_DATABASE_URL="+sqliteURL(t), "KEYGATE_REDIS_URL="+redis.URL())
	_, key, _ := call(t, "POST", k.admin+"/admin/v1/keys", testToken, `{"name":"s","scopes":["route:*:/**"],"rate_limits":["1000000/1s"]}`)
	counts := map[int]int{}
	stream(t, k, key["key"].(string), 200, counts)
	redis.Stop()
	// A lease of the key (doc.go, Leases) decides without Redis until it
	// ends: 200 requests may all fit in one (they take 5 ms here, at times).
	time.Sleep(2 * limiter.DefaultLeaseTTL)
	stream(t, k, key["key"].(string), 200, counts)
	if _, state := readyzCheck(t, k, "limiter"); state != "fallback" {
		t.Errorf("limiter state with Redis down: %q, want fallback\n%s", state, k.logs)
	}
	redis.Start()
	deadline := time.Now().Add(15 * time.Second)
	sent := 400
	for {
		stream(t, k, key["key"].(string), 20, counts)
		sent += 20
		if _, state := readyzCheck(t, k, "limiter"); state == "redis" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("keygate did not return to Redis within 15s of its restart")
		}
	}
	t.Logf("requests %d, answers by status %v", sent, counts)
	if diff := cmp.Diff(map[int]int{200: sent}, counts); diff != "" {
		t.Errorf("answers through a Redis outage (-want +got):\n%s", diff)
	}
}

// Postgres unreachable: cached keys keep verifying, an unknown key gets 503
// (never 200), admin writes fail with 503; all recovers, and the usage
// counted meanwhile is written once the database is back.
func TestFaultPostgresDown(t *testing.T) {
	pg := testenv.StartPostgres(t)
	k := start(t, "KEYGATE_DATABASE_URL="+pg.URL(), "KEYGATE_USAGE_FLUSH_INTERVAL=100ms")
	_, key, _ := call(t, "POST", k.admin+"/admin/v1/keys", testToken, `{"name":"s","scopes":["route:*:/**"],"rate_limits":["1000000/1s"]}`)
	plain, id := key["key"].(string), key["id"].(string)
	counts := map[int]int{}
	stream(t, k, plain, 10, counts) // now cached
	pg.Stop()
	stream(t, k, plain, 50, counts)
	unknown, _ := keystore.Generate("kg")
	downUnknown, _ := authStatus(t, k.public, unknown.Reveal(), "GET", "/x")
	downWrite, _, _ := call(t, "POST", k.admin+"/admin/v1/keys", testToken, `{"name":"during"}`)
	downReady, _ := readyzCheck(t, k, "database")
	pg.Start()
	upWrite := pollStatus(t, func() int {
		s, _, _ := call(t, "POST", k.admin+"/admin/v1/keys", testToken, `{"name":"after"}`)
		return s
	}, 201)
	got := []int{counts[200], downUnknown, downWrite, downReady, upWrite}
	if diff := cmp.Diff([]int{60, 503, 503, 200, 201}, got); diff != "" {
		t.Errorf("cached key OKs, unknown key, admin write, readyz while down; admin write after (-want +got):\n%s", diff)
	}
	allowed := pollUsage(t, k, id, 60)
	t.Logf("cached key answered %v while Postgres was down; usage after recovery: %d allowed", counts, allowed)
}

// pollStatus calls fn until it returns want (at most 20s) and returns the
// last status.
func pollStatus(t testing.TB, fn func() int, want int) int {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		s := fn()
		if s == want || time.Now().After(deadline) {
			return s
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pollUsage waits until the key's usage shows want allowed requests.
func pollUsage(t testing.TB, k *instance, id string, want int) int {
	t.Helper()
	var total int
	pollStatus(t, func() int {
		_, u, _ := call(t, "GET", k.admin+"/admin/v1/keys/"+id+"/usage", testToken, "")
		total = 0
		hours, _ := u["hours"].([]any)
		for _, h := range hours {
			total += int(h.(map[string]any)["allowed"].(float64))
		}
		return total
	}, want)
	if total != want {
		t.Errorf("usage shows %d allowed requests, want %d", total, want)
	}
	return total
}

// Odoo down or hanging: the gateway answers 502 or 504, Odoo-shaped,
// within the configured timeout.
func TestFaultOdooDownOrHanging(t *testing.T) {
	double, srv := odootest.NewServer(t, odootest.Config{})
	k := start(t, "KEYGATE_DATABASE_URL="+sqliteURL(t), "KEYGATE_ODOO_URL="+srv.URL, "KEYGATE_ODOO_DB=odoo_test",
		"KEYGATE_ODOO_LOGIN=admin", "KEYGATE_ODOO_PASSWORD="+odootest.KeyGlobal, "KEYGATE_ODOO_TIMEOUT=500ms")
	_, key, _ := call(t, "POST", k.admin+"/admin/v1/keys", testToken, `{"name":"s","scopes":["odoo:res.partner:read"]}`)
	count := func() (int, any, time.Duration) {
		start := time.Now()
		body := fmt.Sprintf(`{"jsonrpc":"2.0","method":"call","id":1,"params":{"service":"object","method":"execute_kw","args":["x",2,%q,"res.partner","search_count",[[]]]}}`, key["key"])
		resp, err := http.Post(k.public+"/jsonrpc", "application/json", stringsReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var env map[string]any
		_ = jsonDecode(resp.Body, &env)
		return resp.StatusCode, errName(env), time.Since(start)
	}
	if s, _, _ := count(); s != 200 {
		t.Fatalf("with Odoo up: %d", s)
	}
	double.SetHang(true)
	hung, hungName, hungTook := count()
	double.SetHang(false)
	srv.Close()
	down, downName, downTook := count()
	got := []any{hung, hungName, down, downName}
	want := []any{504, "werkzeug.exceptions.GatewayTimeout", 502, "werkzeug.exceptions.BadGateway"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("hanging, then stopped Odoo (-want +got):\n%s", diff)
	}
	if hungTook > 5*time.Second || downTook > 5*time.Second {
		t.Errorf("answers took %v (hang) and %v (down), want about the 500ms timeout or less", hungTook, downTook)
	}
	t.Logf("504 after %v with a 500ms timeout; 502 after %v", hungTook, downTook)
}
