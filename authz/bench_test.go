package authz_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/keygate/keygate/authz"
	"github.com/keygate/keygate/internal/testenv"
	"github.com/keygate/keygate/keystore"
)

// hotKey is a cached key allowed on the memory limiter: the hot path.
func hotKey(b testing.TB) (*env, string) {
	b.Helper()
	var e *env
	e = newEnv(b, func(c *authz.Config) {
		c.Usage = func(id string, ok bool, at time.Time) { e.store.RecordUse(id, ok, at) }
	})
	_, key := e.key(b, keystore.Spec{
		Owner: "partner-42", Scopes: []string{"odoo:res.partner:read", "route:GET:/api/**"},
		RateLimits: []string{"1000000000/1s", "1000000000/1h"},
	})
	if d := check(e, key, "198.51.100.1", "GET", "/api/v1/partners"); d.Status != http.StatusOK {
		b.Fatalf("warm-up: %d %s", d.Status, d.Reason)
	}
	return e, key
}

func BenchmarkDecide(b *testing.B) {
	key := verified(b, &keystore.Record{ID: "key-1", Owner: "p", Scopes: []string{"route:GET:/api/**"}, RateLimits: []string{"10/1s"}})
	f := authz.Facts{
		Request: authz.Request{Method: "GET", URI: "/api/v1/x", ClientIP: addr("198.51.100.1"), Credential: "k"},
		Need:    authz.NeedRoute("GET", "/api/v1/x"), Key: key, Policy: key.Policy.(*authz.Policy),
		Rate: counted(true, 0, state(perSecond, 9, 1e9)),
	}
	b.ReportAllocs()
	for b.Loop() {
		if d, _ := authz.Decide(&f); d.Status != http.StatusOK {
			b.Fatal(d.Status)
		}
	}
}

func BenchmarkCheck(b *testing.B) {
	e, key := hotKey(b)
	req := authz.Request{Method: "GET", URI: "/api/v1/partners?limit=10", ClientIP: addr("198.51.100.1"), Credential: key}
	b.ReportAllocs()
	for b.Loop() {
		if d := e.auth.Check(ctx, req, authz.NeedRoute(req.Method, req.URI)); d.Status != http.StatusOK {
			b.Fatal(d.Status)
		}
	}
}

// BenchmarkAuth is the whole /auth request through Echo, with a
// testenv.Recorder: what the handler costs beyond net/http's own work.
func BenchmarkAuth(b *testing.B) {
	e, key := hotKey(b)
	s := echo.New()
	authz.NewHandler(e.auth).Register(s.Group(""))
	r := httptest.NewRequest(http.MethodGet, "/auth", nil)
	r.RemoteAddr = "127.0.0.1:40000"
	r.Header = hdr("Authorization", "Bearer "+key, "X-Forwarded-Method", "GET", "X-Forwarded-Uri", "/api/v1/partners?limit=10",
		"X-Forwarded-For", "198.51.100.1")
	w := testenv.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		w.Reset()
		s.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}

// BenchmarkCheckCall is the check of a realistic partner create (a
// contact with its country, tags linked, two child contacts created and
// a basic context) with the fields already known, as the gateway's cache
// holds them.
func BenchmarkCheckCall(b *testing.B) {
	p := policy(b, partnerScopes...)
	c := call(b, "res.partner", "create", `[{"name": "Acme", "is_company": true, "email": "info@acme.example",
		"phone": "+32 2 555 01 01", "street": "Rue Haute 1", "city": "Brussels", "zip": "1000", "country_id": 20,
		"category_id": [[6, 0, [1, 2]]], "child_ids": [[0, 0, {"name": "Ann", "email": "ann@acme.example", "function": "CEO"}],
		[0, 0, {"name": "Bob", "email": "bob@acme.example", "type": "invoice"}]]}]`, `{"context": {"lang": "en_US", "tz": "Europe/Brussels"}}`)
	s := schema(b)
	if err := p.CheckCall(c, s); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := p.CheckCall(c, s); err != nil {
			b.Fatal(err)
		}
	}
}

// forwardedRequest is a forward-auth check as nginx sends it, from a
// trusted proxy: the credential, the target and the client's address.
func forwardedRequest(key string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/auth", nil)
	r.RemoteAddr = "127.0.0.1:40000"
	r.Header = hdr("Authorization", "Bearer "+key, "X-Original-Method", "GET", "X-Original-Uri", "/api/v1/partners?limit=10",
		"X-Forwarded-For", "198.51.100.1", "X-Forwarded-Host", "shop.example", "X-Forwarded-Proto", "https")
	return r
}

// BenchmarkFromHTTP is the first step of /auth: the credential and the
// forwarded target out of the request's headers.
func BenchmarkFromHTTP(b *testing.B) {
	r := forwardedRequest("kg_abcdefghijklmnopqrstuvwxyz0123456789ABCD")
	b.ReportAllocs()
	for b.Loop() {
		if req := authz.FromHTTP(r, authz.DefaultTrustedProxies); req.Credential == "" || req.Method != "GET" {
			b.Fatal(req)
		}
	}
}

// BenchmarkWriteHeaders is the last step of an allowed /auth: the
// identity and RateLimit fields of the answer.
func BenchmarkWriteHeaders(b *testing.B) {
	e, key := hotKey(b)
	req := authz.Request{Method: "GET", URI: "/api/v1/partners", ClientIP: addr("198.51.100.1"), Credential: key}
	d := e.auth.Check(ctx, req, authz.NeedRoute(req.Method, req.URI))
	h := http.Header{}
	b.ReportAllocs()
	for b.Loop() {
		clear(h)
		d.WriteHeaders(h)
	}
	if h.Get(authz.HeaderRateLimit) == "" || h.Get(authz.HeaderKeyID) == "" {
		b.Fatalf("headers %v", h)
	}
}
