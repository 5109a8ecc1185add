package proxy_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/keygate/keygate/internal/gatewaytest"
	"github.com/keygate/keygate/internal/odootest"
	"github.com/keygate/keygate/odoo"
	"github.com/keygate/keygate/proxy"
)

// recordedAnswer is the response body of a fixture, as Odoo sent it.
func recordedAnswer(tb testing.TB, file string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("..", "internal", "odootest", "testdata", "odoo", "18.0", file))
	if err != nil {
		tb.Fatal(err)
	}
	var fx struct {
		Response struct{ Body json.RawMessage }
	}
	if err := json.Unmarshal(data, &fx); err != nil {
		tb.Fatal(err)
	}
	var s string
	if json.Unmarshal(fx.Response.Body, &s) == nil {
		return []byte(s)
	}
	return fx.Response.Body
}

// staticGateway is the gateway in front of a RoundTripper that answers
// every call with one recorded Odoo answer: the gateway's own cost.
func staticGateway(b *testing.B, answer []byte) (*echo.Echo, string) {
	b.Helper()
	log := slog.New(slog.DiscardHandler)
	store := gatewaytest.OpenStore(b, log)
	def := odoo.Account{Name: "default", URL: "http://odoo.invalid", DB: "odoo_test", Login: "admin", Password: odootest.KeyGlobal}
	accts, err := proxy.NewAccounts(proxy.AccountsConfig{Default: &def})
	if err != nil {
		b.Fatal(err)
	}
	gw := gatewaytest.NewGateway(b, gatewaytest.NewAuthorizer(b, store, log, nil), accts, log, gatewaytest.Options{Transport: fakeOdoo{200, answer}})
	e := echo.New()
	gw.Register(e.Group(""))
	_, k, err := store.Create(ctx, "bench", storeSpec("odoo:res.partner:read"))
	if err != nil {
		b.Fatal(err)
	}
	return e, k.Reveal()
}

func benchGateway(b *testing.B, path, contentType string, answer []byte, body func(key string) []byte) {
	e, key := staticGateway(b, answer)
	req := body(key)
	serve := func() int {
		r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(req))
		r.Header.Set("Content-Type", contentType)
		w := httptest.NewRecorder()
		e.ServeHTTP(w, r)
		return w.Code
	}
	if code := serve(); code != http.StatusOK {
		b.Fatalf("status %d", code)
	}
	b.ReportAllocs()
	for b.Loop() {
		serve()
	}
}

// BenchmarkGateway measures an execute_kw search_read through the whole
// gateway (parse, authz with a cached key, rewrite, relay of a recorded
// 18.0 answer) with a static RoundTripper, in process.
func BenchmarkGateway(b *testing.B) {
	b.Run("jsonrpc", func(b *testing.B) {
		benchGateway(b, "/jsonrpc", "application/json", recordedAnswer(b, "jsonrpc/09-search-read.json"), searchCount)
	})
	b.Run("xmlrpc", func(b *testing.B) {
		benchGateway(b, "/xmlrpc/2/object", "text/xml", recordedAnswer(b, "xmlrpc/09-search-read.json"),
			func(key string) []byte { return searchCountXML(b, key) })
	})
	b.Run("jsonrpc_error", func(b *testing.B) {
		benchGateway(b, "/jsonrpc", "application/json", recordedAnswer(b, "jsonrpc/48-write-missing-id.json"), searchCount)
	})
}

// TestAddedLatency measures, in one run, the same call made directly to
// the Odoo double and through keygate, both over loopback HTTP, and logs
// the median and p99 of each and what keygate adds.
func TestAddedLatency(t *testing.T) {
	h := newHarness(t, gatewaytest.Options{})
	h.Warm(t)
	key := h.Key(t, "default", "odoo:res.partner:read")
	direct, via := searchCount(odootest.KeyGlobal), searchCount(key)
	client := &http.Client{}
	timed := func(url string, body []byte) time.Duration {
		start := time.Now()
		resp, err := client.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return time.Since(start)
	}
	const n = 400
	var d, k []time.Duration
	for range n {
		d = append(d, timed(h.OdooURL+"/jsonrpc", direct))
		k = append(k, timed(h.URL+"/jsonrpc", via))
	}
	dp50, dp99, kp50, kp99 := pct(d, 50), pct(d, 99), pct(k, 50), pct(k, 99)
	t.Logf("search_count over JSON-RPC, %d calls each: direct p50 %s p99 %s; via keygate p50 %s p99 %s; added p50 %s p99 %s",
		n, dp50, dp99, kp50, kp99, kp50-dp50, kp99-dp99)
	if added := kp50 - dp50; added > 20*time.Millisecond {
		t.Errorf("keygate adds %s at the median, want well under 20ms", added)
	}
}

func pct(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[(len(s)-1)*p/100]
}
