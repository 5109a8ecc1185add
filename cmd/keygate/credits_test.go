package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/internal/odootest"
	"github.com/keygate/keygate/internal/testenv"
)

// TestCreditsThroughServe: credits set at create, spent by /auth, refused
// with 429 until the refill and 403 without one, changed by the admin ops,
// counted in usage and metrics; on the memory limiter with SQLite and on
// Redis with Postgres.
func TestCreditsThroughServe(t *testing.T) {
	modes := map[string][]string{
		"memory": {"KEYGATE_DATABASE_URL=" + sqliteURL(t)},
		"redis":  {"KEYGATE_DATABASE_URL=" + testenv.Postgres(t), "KEYGATE_REDIS_URL=" + testenv.RedisURL(t)},
	}
	for name, env := range modes {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testCreditsThroughServe(t, start(t, append(env, "KEYGATE_USAGE_FLUSH_INTERVAL=100ms", "KEYGATE_CREDITS_LEASE=3")...))
		})
	}
}

func testCreditsThroughServe(t *testing.T, k *instance) {
	api := k.admin + "/admin/v1"
	status, created, _ := call(t, "POST", api+"/keys", testToken,
		`{"name":"plan","scopes":["route:GET:/**"],"credits":{"remaining":5,"refill":{"interval":"monthly","amount":5,"day":31}}}`)
	if status != http.StatusCreated {
		t.Fatalf("create: %d %v", status, created)
	}
	id, plain := created["id"].(string), created["key"].(string)
	wantCredits := map[string]any{"remaining": 5.0, "refill": map[string]any{"interval": "monthly", "amount": 5.0, "day": 31.0}}
	if diff := cmp.Diff(wantCredits, created["credits"]); diff != "" {
		t.Errorf("credits of the key object (-want +got):\n%s", diff)
	}
	var got []int
	var last http.Header
	for range 6 {
		s, h := authStatus(t, k.public, plain, "GET", "/x")
		got, last = append(got, s), h
	}
	if diff := cmp.Diff([]int{200, 200, 200, 200, 200, 429}, got); diff != "" {
		t.Fatalf("six requests on five credits (-want +got):\n%s", diff)
	}
	if !strings.Contains(last.Get("RateLimit"), `"credits";r=0;t=`) || !strings.Contains(last.Get("RateLimit-Policy"), `"credits";q=5;w=`) ||
		last.Get("Retry-After") == "" {
		t.Errorf("429 fields: RateLimit %q, RateLimit-Policy %q, Retry-After %q", last.Get("RateLimit"), last.Get("RateLimit-Policy"), last.Get("Retry-After"))
	}
	s, body, _ := call(t, "GET", k.public+"/auth", plain, "")
	if s != 429 || body["error"] != "credits exhausted" || body["code"] != 429.0 {
		t.Errorf("exhausted body: %d %v", s, body)
	}
	creditOps(t, k, api, id, plain)
	if n := pollUsageCredits(t, k, id, 7); n != 7 {
		t.Errorf("usage credits = %d, want 7", n)
	}
	if m := scrape(t, k.admin+"/metrics"); !strings.Contains(m, "keygate_credits_spent_total 7") {
		t.Errorf("metrics lack keygate_credits_spent_total 7")
	}
}

// creditOps: the admin ops change the balance that /auth spends from, a
// key without refill is refused with 403, and the refusals are shaped.
func creditOps(t *testing.T, k *instance, api, id, plain string) {
	t.Helper()
	type op struct {
		body   string
		status int
		after  float64 // credits.remaining of the answer
	}
	for _, o := range []op{{`{"op":"increment","value":2}`, 200, 2}, {`{"op":"decrement","value":1}`, 200, 1}} {
		s, rec, _ := call(t, "POST", api+"/keys/"+id+"/credits", testToken, o.body)
		c, _ := rec["credits"].(map[string]any)
		if s != o.status || c["remaining"] != o.after {
			t.Fatalf("POST credits %s: %d %v, want %d with remaining %v", o.body, s, rec, o.status, o.after)
		}
	}
	_, h := authStatus(t, k.public, plain, "GET", "/x")
	if !strings.Contains(h.Get("RateLimit"), `"credits";r=0`) {
		t.Errorf("after increment 2, decrement 1 and one request: RateLimit %q", h.Get("RateLimit"))
	}
	if s, rec, _ := call(t, "PATCH", api+"/keys/"+id, testToken, `{"credits":{"remaining":1,"refill":null}}`); s != 200 {
		t.Fatalf("PATCH credits: %d %v", s, rec)
	}
	first, _ := authStatus(t, k.public, plain, "GET", "/x")
	s, body, _ := call(t, "GET", k.public+"/auth", plain, "")
	if diff := cmp.Diff([]any{200, 403, "credits exhausted and no refill is scheduled"}, []any{first, s, body["error"]}); diff != "" {
		t.Errorf("one credit without refill (-want +got):\n%s", diff)
	}
	_, plainKey, _ := call(t, "POST", api+"/keys", testToken, `{"name":"unlimited"}`)
	cases := []struct {
		name, path, body string
		want             int
		field            string
	}{
		{"key_without_credits_is_409", "/keys/" + plainKey["id"].(string) + "/credits", `{"op":"set","value":1}`, 409, ""},
		{"unknown_op_is_422", "/keys/" + id + "/credits", `{"op":"double","value":1}`, 422, "op"},
		{"missing_value_is_422", "/keys/" + id + "/credits", `{"op":"set"}`, 422, "value"},
		{"unknown_field_is_400", "/keys/" + id + "/credits", `{"op":"set","value":1,"by":"me"}`, 400, ""},
		{"unknown_key_is_404", "/keys/nope/credits", `{"op":"set","value":1}`, 404, ""},
		{"bad_refill_day_is_422_naming_the_field", "/keys", `{"name":"x","credits":{"remaining":1,"refill":{"interval":"monthly","amount":1,"day":40}}}`, 422, "credits.refill.day"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, body, _ := call(t, "POST", api+c.path, testToken, c.body)
			details, _ := body["details"].(map[string]any)
			if s != c.want || body["code"] != float64(c.want) || (c.field != "" && details[c.field] == nil) {
				t.Fatalf("%s: %d %v, want %d naming %q", c.path, s, body, c.want, c.field)
			}
		})
	}
	_, events, _ := call(t, "GET", api+"/audit?key_id="+id, testToken, "")
	n := 0
	for _, e := range events["data"].([]any) {
		if e.(map[string]any)["action"] == "key.credits" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("key.credits audit events = %d, want 2", n)
	}
}

// pollUsageCredits waits (up to 10s) until the usage endpoint shows want
// credits spent by id, and returns the last count seen.
func pollUsageCredits(t testing.TB, k *instance, id string, want int) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, u, _ := call(t, "GET", k.admin+"/admin/v1/keys/"+id+"/usage", testToken, "")
		n := 0
		hours, _ := u["hours"].([]any)
		for _, h := range hours {
			n += int(h.(map[string]any)["credits"].(float64))
		}
		if n == want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCreditsExactAcrossServeReplicas: three keygate replicas on one
// Postgres and one Redis, many clients each, spend a key of 100 credits:
// exactly 100 requests are allowed, every other is a 429. Redis has 5 s to
// answer: a spend that times out after Redis ran it is spent again from the
// database (one credit lost to the key, see limiter's doc), which a busy
// machine would otherwise turn into 99.
func TestCreditsExactAcrossServeReplicas(t *testing.T) {
	env := []string{"KEYGATE_DATABASE_URL=" + testenv.Postgres(t), "KEYGATE_REDIS_URL=" + testenv.RedisURL(t), "KEYGATE_CREDITS_LEASE=7",
		"KEYGATE_REDIS_TIMEOUT=5s"}
	replicas := []*instance{start(t, env...), start(t, env...), start(t, env...)}
	_, key, _ := call(t, "POST", replicas[0].admin+"/admin/v1/keys", testToken,
		`{"name":"plan","scopes":["route:GET:/**"],"rate_limits":["1000000/1s"],"credits":{"remaining":100,"refill":{"interval":"daily","amount":100}}}`)
	plain := key["key"].(string)
	var allowed, refused, other atomic.Int64
	var wg sync.WaitGroup
	for _, r := range replicas {
		for range 8 {
			wg.Go(func() {
				for range 20 {
					switch s, _ := authStatus(t, r.public, plain, "GET", "/x"); s {
					case 200:
						allowed.Add(1)
					case 429:
						refused.Add(1)
					default:
						other.Add(1)
					}
				}
			})
		}
	}
	wg.Wait()
	got := fmt.Sprint(allowed.Load(), refused.Load(), other.Load())
	if diff := cmp.Diff("100 380 0", got); diff != "" {
		t.Fatalf("allowed, refused, other of 480 requests (-want +got):\n%s", diff)
	}
}

// The gateway refuses a request out of credits with Odoo's own error
// shape, naming credits; REST with the JSON error body.
func TestCreditsGatewayAndRESTErrors(t *testing.T) {
	_, srv := odootest.NewServer(t, odootest.Config{})
	k := start(t, "KEYGATE_DATABASE_URL="+sqliteURL(t), "KEYGATE_ODOO_URL="+srv.URL, "KEYGATE_ODOO_DB=odoo_test",
		"KEYGATE_ODOO_LOGIN=admin", "KEYGATE_ODOO_PASSWORD="+odootest.KeyGlobal)
	_, daily, _ := call(t, "POST", k.admin+"/admin/v1/keys", testToken,
		`{"name":"d","scopes":["odoo:res.partner:read"],"credits":{"remaining":1,"refill":{"interval":"daily","amount":1}}}`)
	_, once, _ := call(t, "POST", k.admin+"/admin/v1/keys", testToken, `{"name":"o","scopes":["odoo:res.partner:read"],"credits":{"remaining":0}}`)
	key := daily["key"].(string)
	ok := jsonrpc(t, k.public, "object", "execute_kw", "x", 2, key, "res.partner", "search_count", []any{[]any{}})
	out := jsonrpc(t, k.public, "object", "execute_kw", "x", 2, key, "res.partner", "search_count", []any{[]any{}})
	e, _ := out["error"].(map[string]any)
	d, _ := e["data"].(map[string]any)
	msg, _ := d["message"].(string)
	if ok["error"] != nil || d["name"] != "werkzeug.exceptions.TooManyRequests" || !strings.HasPrefix(msg, "429 Too Many Requests: credits exhausted, retry in ") {
		t.Errorf("gateway: first %v; exhausted %v", ok, out)
	}
	forbidden := jsonrpc(t, k.public, "object", "execute_kw", "x", 2, once["key"].(string), "res.partner", "search_count", []any{[]any{}})
	if errName(forbidden) != "odoo.exceptions.AccessError" || !strings.Contains(fmt.Sprint(forbidden), "credits exhausted and no refill is scheduled") {
		t.Errorf("gateway without refill: %v", forbidden)
	}
	s, body, h := call(t, "GET", k.public+"/api/v1/partners", key, "")
	if s != 429 || body["error"] != "credits exhausted" || h.Get("Retry-After") == "" {
		t.Errorf("REST exhausted: %d %v %v", s, body, h)
	}
}

// keys create takes --credits and --refill (daily:N, monthly:N[:DAY]).
func TestCLIKeysCreateCredits(t *testing.T) {
	env := []string{"KEYGATE_DATABASE_URL=" + sqliteURL(t)}
	cases := []struct {
		name string
		args []string
		want any
	}{
		{"credits_and_monthly_refill", []string{"--credits", "1000", "--refill", "monthly:1000"},
			map[string]any{"remaining": 1000.0, "refill": map[string]any{"interval": "monthly", "amount": 1000.0, "day": 1.0}}},
		{"refill_day_31", []string{"--credits", "10", "--refill", "monthly:500:31"},
			map[string]any{"remaining": 10.0, "refill": map[string]any{"interval": "monthly", "amount": 500.0, "day": 31.0}}},
		{"refill_alone_starts_at_its_amount", []string{"--refill", "daily:500"},
			map[string]any{"remaining": 500.0, "refill": map[string]any{"interval": "daily", "amount": 500.0}}},
		{"credits_alone_never_refill", []string{"--credits", "0"}, map[string]any{"remaining": 0.0, "refill": nil}},
		{"neither_is_unlimited", nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, _ := cli(t, env, append([]string{"keys", "create", "--name", "k", "--json"}, c.args...)...)
			var created map[string]any
			if err := json.Unmarshal([]byte(out), &created); err != nil {
				t.Fatalf("keys create --json printed %q", out)
			}
			if diff := cmp.Diff(c.want, created["credits"]); diff != "" {
				t.Fatalf("credits (-want +got):\n%s", diff)
			}
		})
	}
	for _, bad := range []string{"weekly:5", "daily:5:3", "monthly:x", "monthly:5:40"} {
		t.Run("refused_"+bad, func(t *testing.T) {
			var out, errs strings.Builder
			if err := run(context.Background(), []string{"keys", "create", "--name", "k", "--refill", bad}, env, nil, &out, &errs); err == nil {
				t.Fatalf("--refill %s accepted: %s", bad, out.String())
			}
		})
	}
}

// spendUntilRefused spends key's credits through /auth until a refusal
// and returns how many were allowed; any answer but 200 and 429 fails.
func spendUntilRefused(t testing.TB, k *instance, key string, most int) int {
	t.Helper()
	for n := 0; n <= most; n++ {
		switch s, _ := authStatus(t, k.public, key, "GET", "/x"); s {
		case 200:
		case 429:
			return n
		default:
			t.Fatalf("answer %d after %d credits", s, n)
		}
	}
	t.Fatalf("more than %d credits spent", most)
	return 0
}

func spendN(t testing.TB, k *instance, key string, n int) {
	t.Helper()
	for i := range n {
		if s, _ := authStatus(t, k.public, key, "GET", "/x"); s != 200 {
			t.Fatalf("spend %d: %d", i, s)
		}
	}
}

// TestCreditsSurviveRestarts: the balance survives a restart of keygate
// (memory: its lease is returned at shutdown; Redis: the lease stays in
// Redis) and a restart of Redis, which forgets at most the lease it held
// (KEYGATE_CREDITS_LEASE) and never grants a credit twice.
func TestCreditsSurviveRestarts(t *testing.T) {
	plan := `{"name":"plan","scopes":["route:GET:/**"],"credits":{"remaining":10,"refill":{"interval":"daily","amount":10}}}`
	t.Run("memory", func(t *testing.T) {
		env := []string{"KEYGATE_DATABASE_URL=" + sqliteURL(t), "KEYGATE_CREDITS_LEASE=100"}
		var key string
		t.Run("first_run", func(t *testing.T) {
			k := start(t, env...)
			_, created, _ := call(t, "POST", k.admin+"/admin/v1/keys", testToken, plan)
			key = created["key"].(string)
			spendN(t, k, key, 3) // leases all 10
		})
		if n := spendUntilRefused(t, start(t, env...), key, 10); n != 7 {
			t.Fatalf("after a restart of keygate: %d credits, want 7", n)
		}
	})
	t.Run("redis", func(t *testing.T) {
		redis := testenv.StartRedis(t)
		env := []string{"KEYGATE_DATABASE_URL=" + testenv.Postgres(t), "KEYGATE_REDIS_URL=" + redis.URL(), "KEYGATE_CREDITS_LEASE=4"}
		var key string
		t.Run("first_run", func(t *testing.T) {
			k := start(t, env...)
			_, created, _ := call(t, "POST", k.admin+"/admin/v1/keys", testToken, plan)
			key = created["key"].(string)
			spendN(t, k, key, 3) // took 4: 6 stored, 1 leased
		})
		k := start(t, env...)
		spendN(t, k, key, 2) // the lease's 1, then took 4: 2 stored, 2 leased
		redis.Stop()
		redis.Start() // loses the lease's 2
		if n := spendUntilRefused(t, k, key, 10); n != 2 {
			t.Fatalf("after a restart of Redis: %d credits, want the 2 stored", n)
		}
	})
}
