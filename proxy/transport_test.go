package proxy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/internal/gatewaytest"
	"github.com/keygate/keygate/internal/odootest"
	"github.com/keygate/keygate/internal/testenv"
	"github.com/keygate/keygate/keystore"
	"github.com/keygate/keygate/odoo"
	"github.com/keygate/keygate/odoo/xmlrpc"
)

// searchCount is an execute_kw call of res.partner.search_count.
func searchCount(key string) []byte {
	b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": "call", "id": 1, "params": map[string]any{
		"service": "object", "method": "execute_kw", "args": []any{"odoo_test", 2, key, "res.partner", "search_count", []any{[]any{}}}}})
	return b
}

func searchCountXML(tb testing.TB, key string) []byte {
	tb.Helper()
	var buf bytes.Buffer
	err := xmlrpc.EncodeCall(&buf, xmlrpc.Call{Method: "execute_kw",
		Params: []any{"odoo_test", int64(2), key, "res.partner", "search_count", []any{[]any{}}}})
	if err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// shape is what a test checks of an Odoo-shaped refusal.
type shape struct {
	Status int
	Name   string // JSON-RPC data.name
	Code   any    // XML-RPC faultCode
}

// refusalOf reads an answer as an Odoo-shaped error of either protocol.
func refusalOf(tb testing.TB, x gatewaytest.Exchange) shape {
	tb.Helper()
	if strings.HasPrefix(x.Header.Get("Content-Type"), "text/xml") {
		_, err := xmlrpc.DecodeResponse(bytes.NewReader(x.Body))
		f, _ := err.(*xmlrpc.Fault)
		if f == nil {
			tb.Fatalf("not a fault: %s", x.Body)
		}
		return shape{Status: x.Status, Code: f.Code}
	}
	var a struct {
		Error struct{ Data struct{ Name string } }
	}
	if err := json.Unmarshal(x.Body, &a); err != nil {
		tb.Fatalf("not JSON: %s", x.Body)
	}
	return shape{Status: x.Status, Name: a.Error.Data.Name}
}

func TestUnreachableOdooIs502Fast(t *testing.T) {
	addr := testenv.FreeAddr(t) // nothing listens there
	h := newHarness(t, gatewaytest.Options{OdooURL: "http://" + addr})
	key := h.Key(t, "default", "odoo:res.partner:read")
	version, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": "call", "params": map[string]any{"service": "common", "method": "version", "args": []any{}}})
	cases := []struct {
		name, path, ctype string
		body              []byte
		want              shape
	}{
		{"jsonrpc_execute_kw", "/jsonrpc", "application/json", searchCount(key), shape{502, "werkzeug.exceptions.BadGateway", nil}},
		{"jsonrpc_version", "/jsonrpc", "application/json", version, shape{502, "werkzeug.exceptions.BadGateway", nil}},
		{"xmlrpc_execute_kw", "/xmlrpc/2/object", "text/xml", searchCountXML(t, key), shape{502, "", int64(1)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			x := gatewaytest.Post(t, h.URL+c.path, c.ctype, c.body)
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("took %s, want a fast answer", took)
			}
			if diff := cmp.Diff(c.want, refusalOf(t, x)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if bytes.Contains(x.Body, []byte(addr)) {
				t.Errorf("answer leaks the upstream address: %s", x.Body)
			}
		})
	}
}

func TestSlowOdooIs504(t *testing.T) {
	h := newHarness(t, gatewaytest.Options{Timeout: 300 * time.Millisecond})
	h.Warm(t)
	key := h.Key(t, "default", "odoo:res.partner:read")
	h.Odoo.SetHang(true)
	defer h.Odoo.SetHang(false)
	for name, c := range map[string]struct {
		path, ctype string
		body        []byte
		want        shape
	}{
		"jsonrpc": {"/jsonrpc", "application/json", searchCount(key), shape{504, "werkzeug.exceptions.GatewayTimeout", nil}},
		"xmlrpc":  {"/xmlrpc/object", "text/xml", searchCountXML(t, key), shape{504, "", "504 Gateway Timeout: Odoo did not answer in time."}},
	} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			x := gatewaytest.Post(t, h.URL+c.path, c.ctype, c.body)
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("took %s, want about the 300ms timeout", took)
			}
			if diff := cmp.Diff(c.want, refusalOf(t, x)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// countingDialer counts the connections a transport opens and closes.
type countingDialer struct{ opened, closed atomic.Int64 }

func (d *countingDialer) transport() *http.Transport {
	t := odoo.NewTransport()
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		d.opened.Add(1)
		return &countedConn{Conn: c, d: d}, nil
	}
	return t
}

func (d *countingDialer) open() int64 { return d.opened.Load() - d.closed.Load() }

type countedConn struct {
	net.Conn
	d    *countingDialer
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.d.closed.Add(1) })
	return c.Conn.Close()
}

// waitFor polls cond for up to 5 s: connections close in the transport's
// own goroutines, just after the answer is read.
func waitFor(cond func() bool) bool {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// TestConnectionsDoNotLeak: Odoo closes every connection; after answers,
// refusals and timed-out calls no connection stays open, on either side.
func TestConnectionsDoNotLeak(t *testing.T) {
	var srvOpen atomic.Int64
	double, err := odootest.New(odootest.Config{Now: gatewaytest.FixedNow})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(double)
	ts.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			srvOpen.Add(1)
		case http.StateClosed, http.StateHijacked:
			srvOpen.Add(-1)
		}
	}
	ts.Start()
	defer ts.Close()
	dialer := &countingDialer{}
	h := newHarness(t, gatewaytest.Options{OdooURL: ts.URL, Transport: dialer.transport(), Timeout: 200 * time.Millisecond})
	key := h.Key(t, "default", "odoo:res.partner:read")
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				gatewaytest.Post(t, h.URL+"/jsonrpc", "application/json", searchCount(key))
			} else {
				gatewaytest.Post(t, h.URL+"/xmlrpc/2/object", "text/xml", searchCountXML(t, key))
			}
		}()
	}
	wg.Wait()
	double.SetHang(true)
	if x := gatewaytest.Post(t, h.URL+"/jsonrpc", "application/json", searchCount(key)); x.Status != http.StatusGatewayTimeout {
		t.Errorf("hung call: %d, want 504", x.Status)
	}
	double.SetHang(false)
	if !waitFor(func() bool { return dialer.open() == 0 && srvOpen.Load() == 0 }) {
		t.Errorf("after %d connections, %d open on keygate's side, %d on Odoo's", dialer.opened.Load(), dialer.open(), srvOpen.Load())
	}
	if n := dialer.opened.Load(); n < 42 {
		t.Errorf("%d connections for 42 calls: Odoo's Connection: close was not honoured", n)
	}
}

// TestKeepAliveUpstreamIsClosedOnClose: behind a proxy that keeps
// connections alive, they are reused, and Close releases them.
func TestKeepAliveUpstreamIsClosedOnClose(t *testing.T) {
	answer := []byte(`{"jsonrpc": "2.0", "id": 1, "result": 2}`)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if isVersionCall(body) {
			_, _ = w.Write(version18)
			return
		}
		_, _ = w.Write(answer)
	}))
	defer ts.Close()
	dialer := &countingDialer{}
	c := odoo.NewClient(odoo.ClientConfig{Transport: dialer.transport()})
	acct := odoo.Account{URL: ts.URL, DB: "d", Login: "l", Password: "p"}
	for range 10 {
		if _, err := c.ExecuteKW(ctx, acct, "res.partner", "search_count", []any{[]any{}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := dialer.opened.Load(); n != 1 {
		t.Errorf("%d connections for 11 calls on a keep-alive upstream, want 1", n)
	}
	c.Close()
	if !waitFor(func() bool { return dialer.open() == 0 }) {
		t.Errorf("%d connections open after Close", dialer.open())
	}
}

func TestBodyLimit(t *testing.T) {
	h := newHarness(t, gatewaytest.Options{MaxBody: 1024})
	h.Warm(t)
	key := h.Key(t, "default", "odoo:res.partner:read")
	pad := strings.Repeat("x", 2048)
	big, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": "call", "params": map[string]any{
		"service": "object", "method": "execute_kw", "args": []any{"odoo_test", 2, key, "res.partner", "search_count", []any{[]any{[]any{"name", "=", pad}}}}}})
	bigXML := searchCountXML(t, key+pad)
	cases := []struct {
		name, path, ctype string
		body              io.Reader
		want              shape
	}{
		{"jsonrpc_with_length", "/jsonrpc", "application/json", bytes.NewReader(big), shape{413, "werkzeug.exceptions.RequestEntityTooLarge", nil}},
		{"jsonrpc_chunked", "/jsonrpc", "application/json", io.MultiReader(bytes.NewReader(big)), shape{413, "werkzeug.exceptions.RequestEntityTooLarge", nil}},
		{"xmlrpc_chunked", "/xmlrpc/2/object", "text/xml", io.MultiReader(bytes.NewReader(bigXML)), shape{413, "", int64(1)}},
		{"small_is_fine", "/jsonrpc", "application/json", bytes.NewReader(searchCount(key)), shape{200, "", nil}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, err := http.Post(h.URL+c.path, c.ctype, c.body)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if diff := cmp.Diff(c.want, refusalOf(t, gatewaytest.Exchange{Status: resp.StatusCode, Header: resp.Header, Body: b})); diff != "" {
				t.Errorf("(-want +got):\n%s\n%s", diff, b)
			}
		})
	}
	if n := len(h.Odoo.Calls()); n != 1 {
		t.Errorf("%d calls reached Odoo, want only the small one", n)
	}
	// JSON-2 and the web session API have the same bound: 413, and
	// nothing reaches Odoo.
	session := webSession(t, h, key)
	h.Odoo.Reset()
	bigKW, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": "call", "params": map[string]any{
		"model": "res.partner", "method": "search_count", "args": []any{[]any{[]any{"name", "=", pad}}}, "kwargs": map[string]any{}}})
	bigAuth, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": "call", "params": map[string]any{
		"db": "odoo_test", "login": pad, "password": key}})
	for _, c := range []struct {
		name, path string
		body       []byte
		header     []string
	}{
		{"json2", "/json/2/res.partner/search_count", []byte(`{"domain": [["name", "=", "` + pad + `"]]}`), []string{"Authorization", "Bearer " + key}},
		{"call_kw", "/web/dataset/call_kw", bigKW, []string{"Cookie", "session_id=" + session}},
		{"authenticate", "/web/session/authenticate", bigAuth, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			if x := gatewaytest.Post(t, h.URL+c.path, "application/json", c.body, c.header...); x.Status != http.StatusRequestEntityTooLarge {
				t.Errorf("status %d, want 413: %.300s", x.Status, x.Body)
			}
		})
	}
	if n := len(h.Odoo.Calls()); n != 0 {
		t.Errorf("%d calls reached Odoo, want none", n)
	}
}

func TestRateLimited(t *testing.T) {
	h := newHarness(t, gatewaytest.Options{})
	h.Warm(t)
	_, k, err := h.Store.Create(ctx, "test", keystore.Spec{Name: "p", Scopes: []string{"odoo:res.partner:read"}, RateLimits: []string{"2/1m"}})
	if err != nil {
		t.Fatal(err)
	}
	key := k.Reveal()
	for i := range 2 {
		x := gatewaytest.Post(t, h.URL+"/jsonrpc", "application/json", searchCount(key))
		if x.Status != 200 || x.Header.Get("RateLimit") == "" || x.Header.Get("RateLimit-Policy") == "" {
			t.Fatalf("call %d: %d %v, want 200 with RateLimit fields", i, x.Status, x.Header)
		}
	}
	for name, c := range map[string]struct {
		path, ctype string
		body        []byte
		want        shape
	}{
		"jsonrpc":        {"/jsonrpc", "application/json", searchCount(key), shape{429, "werkzeug.exceptions.TooManyRequests", nil}},
		"xmlrpc":         {"/xmlrpc/2/object", "text/xml", searchCountXML(t, key), shape{429, "", int64(1)}},
		"xmlrpc_legacy":  {"/xmlrpc/object", "text/xml", searchCountXML(t, key), shape{429, "", "429 Too Many Requests: rate limit exceeded, retry in N s."}},
		"keygate_header": {"/jsonrpc", "application/json", searchCount("x"), shape{429, "werkzeug.exceptions.TooManyRequests", nil}},
	} {
		t.Run(name, func(t *testing.T) {
			var x gatewaytest.Exchange
			if name == "keygate_header" {
				x = gatewaytest.Post(t, h.URL+c.path, c.ctype, c.body, "Authorization", "Bearer "+key)
			} else {
				x = gatewaytest.Post(t, h.URL+c.path, c.ctype, c.body)
			}
			got := refusalOf(t, x)
			if code, ok := got.Code.(string); ok {
				got.Code = regexp.MustCompile(`in \d+ s\.$`).ReplaceAllString(code, "in N s.")
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if x.Header.Get("Retry-After") == "" {
				t.Error("no Retry-After")
			}
		})
	}
	if n := len(h.Odoo.Calls()); n != 2 {
		t.Errorf("%d calls reached Odoo, want the 2 allowed", n)
	}
}

// TestServiceAccountRefused: a service account that Odoo refuses is 502
// for the partner, logged, and not asked again for a while (each refusal
// costs Odoo ~0.4 s).
func TestServiceAccountRefused(t *testing.T) {
	h := newHarness(t, gatewaytest.Options{})
	c, err := h.Vault.CreateCredential(ctx, "test", keystore.CredentialSpec{Name: "bad", URL: h.OdooURL, DB: "odoo_test", Login: "admin"}, "wrong-password")
	if err != nil {
		t.Fatal(err)
	}
	h.CredIDs["bad"] = &c.ID
	key := h.Key(t, "bad", "odoo:res.partner:read")
	for range 3 {
		if got := refusalOf(t, gatewaytest.Post(t, h.URL+"/jsonrpc", "application/json", searchCount(key))); got != (shape{502, "werkzeug.exceptions.BadGateway", nil}) {
			t.Errorf("got %+v, want a 502", got)
		}
	}
	if n := len(h.Odoo.Calls()); n != 2 {
		t.Errorf("Odoo was asked %d times, want twice (its version, then the refused authenticate)", n)
	}
	if !strings.Contains(h.Logs.String(), "odoo refused the service account") {
		t.Error("the refusal was not logged")
	}
}

// TestNoServiceAccount: the store refuses a key naming no credential, but
// one removed behind keygate's back (by hand, in the database) still gets a
// clean 500 and nothing reaches Odoo.
func TestNoServiceAccount(t *testing.T) {
	h := newHarness(t, gatewaytest.Options{})
	key := h.Key(t, "demo", "odoo:res.partner:read")
	if _, err := h.Store.SQLDB().Exec("DELETE FROM credentials WHERE id = ?", *h.CredIDs["demo"]); err != nil {
		t.Fatal(err)
	}
	got := refusalOf(t, gatewaytest.Post(t, h.URL+"/jsonrpc", "application/json", searchCount(key)))
	if got != (shape{500, "werkzeug.exceptions.InternalServerError", nil}) {
		t.Errorf("got %+v, want a 500", got)
	}
	if n := len(h.Odoo.Calls()); n != 0 {
		t.Errorf("%d calls reached Odoo", n)
	}
}

// TestUIDResolvedOnce: concurrent first calls share one authenticate.
func TestUIDResolvedOnce(t *testing.T) {
	h := newHarness(t, gatewaytest.Options{})
	key := h.Key(t, "default", "odoo:res.partner:read")
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() { defer wg.Done(); gatewaytest.Post(t, h.URL+"/jsonrpc", "application/json", searchCount(key)) }()
	}
	wg.Wait()
	auth := 0
	for _, c := range h.Odoo.Calls() {
		if c.Method == "authenticate" {
			auth++
		}
	}
	if auth != 1 || len(h.Odoo.Calls()) != 22 {
		t.Errorf("%d authenticate calls in %d, want 1 in 22 (version, authenticate, 20 calls)", auth, len(h.Odoo.Calls()))
	}
}

// fakeOdoo answers authenticate with uid 2 and every other call with
// one canned response: an upstream that misbehaves only once the account
// is resolved.
type fakeOdoo struct {
	status int
	body   []byte
}

func (f fakeOdoo) RoundTrip(r *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	status, answer := f.status, f.body
	switch {
	case bytes.Contains(body, []byte(`"authenticate"`)):
		status, answer = 200, []byte(`{"jsonrpc": "2.0", "id": 1, "result": 2}`)
	case isVersionCall(body):
		status, answer = 200, version18
	}
	return &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(answer)), Request: r}, nil
}

// TestBadUpstreamAnswers: Odoo's HTTP errors and answers that are not
// JSON-RPC or XML-RPC are 502 (504 for a proxy's 504), never passed on.
func TestBadUpstreamAnswers(t *testing.T) {
	cases := []struct {
		name string
		up   fakeOdoo
		want int
	}{
		{"odoo_500", fakeOdoo{500, []byte("<html>Internal Server Error</html>")}, 502},
		{"odoo_404", fakeOdoo{404, []byte("<html>Not Found</html>")}, 502},
		{"proxy_504", fakeOdoo{504, []byte("gateway timeout")}, 504},
		{"not_json_or_xml", fakeOdoo{200, []byte("<html>maintenance</html>")}, 502},
		{"json_array", fakeOdoo{200, []byte(`[1]`)}, 502},
		{"truncated", fakeOdoo{200, []byte(`{"jsonrpc": "2.0", "result": [1, 2`)}, 502},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, gatewaytest.Options{Transport: tc.up})
			key := h.Key(t, "default", "odoo:res.partner:read")
			for path, body := range map[string][]byte{"/jsonrpc": searchCount(key), "/xmlrpc/2/object": searchCountXML(t, key)} {
				x := gatewaytest.Post(t, h.URL+path, map[bool]string{true: "text/xml", false: "application/json"}[path != "/jsonrpc"], body)
				if x.Status != tc.want || bytes.Contains(x.Body, tc.up.body) {
					t.Errorf("%s: %d %s, want %d without the upstream's body", path, x.Status, x.Body, tc.want)
				}
			}
			cl := odoo.NewClient(odoo.ClientConfig{Transport: tc.up})
			_, err := cl.ExecuteKW(ctx, odoo.Account{URL: "http://odoo", DB: "d", Login: "l", Password: "p"}, "m", "read", nil, nil)
			if got := odoo.Status(err); got != tc.want {
				t.Errorf("Client: Status(%v) = %d, want %d", err, got, tc.want)
			}
		})
	}
}

// version18 is common.version of Odoo 18.0, which fakes answer so that the
// client keeps to JSON-RPC.
var version18 = []byte(`{"jsonrpc": "2.0", "id": 1, "result": {"server_version": "18.0", "server_version_info": [18, 0, 0, "final", 0, ""], "server_serie": "18.0", "protocol_version": 1}}`)

// isVersionCall reports keygate's own common.version call.
func isVersionCall(body []byte) bool {
	return bytes.Contains(body, []byte(`"service":"common","method":"version"`))
}
