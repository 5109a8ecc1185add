package proxy_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/keygate/keygate/internal/gatewaytest"
	"github.com/keygate/keygate/keystore"
	"github.com/keygate/keygate/odoo"
	"github.com/keygate/keygate/proxy"
)

// sessionFuzzGateway is fuzzGateway with web sessions, and a live session
// of its key.
func sessionFuzzGateway(tb testing.TB) (*echo.Echo, string, string) {
	tb.Helper()
	log := slog.New(slog.DiscardHandler)
	store := gatewaytest.OpenStore(tb, log)
	sessions := store.Sessions(keystore.SessionConfig{})
	def := odoo.Account{URL: "http://odoo.invalid", DB: "odoo_test", Login: "svc", Password: fuzzPassword}
	accts, err := proxy.NewAccounts(proxy.AccountsConfig{Default: &def})
	if err != nil {
		tb.Fatal(err)
	}
	gw := gatewaytest.NewGateway(tb, gatewaytest.NewAuthorizer(tb, store, log, nil), accts, log, gatewaytest.Options{Transport: &recorder{}, Sessions: sessions})
	e := gatewaytest.NewEcho(log)
	gw.Register(e.Group(""))
	rec, k, err := store.Create(ctx, "test", storeSpec("odoo:*:*"))
	if err != nil {
		tb.Fatal(err)
	}
	id, _, err := sessions.Create(ctx, rec.ID)
	if err != nil {
		tb.Fatal(err)
	}
	return e, k.Reveal(), id
}

var json2Status = map[int]bool{200: true, 400: true, 401: true, 403: true, 404: true, 413: true, 422: true, 429: true, 500: true, 502: true, 503: true, 504: true}

// FuzzJSON2Gateway: whatever a partner posts to /json/2, the answer is a
// JSON-2 answer with a known status and never carries a traceback.
func FuzzJSON2Gateway(f *testing.F) {
	e, key, _ := sessionFuzzGateway(f)
	for _, jc := range loadFixtures(f, "19.0", "json2") {
		f.Add(jc.body())
	}
	f.Add([]byte(`{"ids": 7, "vals_list": [{}], "context": null}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		req := httptest.NewRequest(http.MethodPost, "/json/2/res.partner/write", bytes.NewReader(in))
		req.Header.Set("Authorization", "bearer "+key)
		w := httptest.NewRecorder()
		e.ServeHTTP(w, req)
		if !json2Status[w.Code] || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
			t.Fatalf("%q: %d %s", in, w.Code, w.Header().Get("Content-Type"))
		}
		for _, bad := range []string{"Traceback", `"debug"`, "dist-packages"} {
			if strings.Contains(w.Body.String(), bad) {
				t.Fatalf("%q: the answer carries %q: %s", in, bad, w.Body)
			}
		}
	})
}

// FuzzWebCallKW: whatever a session client posts to call_kw, the answer
// is Odoo-shaped and never carries a traceback.
func FuzzWebCallKW(f *testing.F) {
	e, _, session := sessionFuzzGateway(f)
	for _, wc := range loadFixtures(f, "*", "web") {
		f.Add([]byte(wc.Request.Body))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		req := httptest.NewRequest(http.MethodPost, "/web/dataset/call_kw", bytes.NewReader(in))
		req.Header.Set("Content-Type", "application/json")
		req.AddCookie(&http.Cookie{Name: "session_id", Value: session})
		w := httptest.NewRecorder()
		e.ServeHTTP(w, req)
		checkFuzzAnswer(t, in, w)
	})
}
