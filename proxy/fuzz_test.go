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
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/keygate/keygate/internal/gatewaytest"
	"github.com/keygate/keygate/keystore"
	"github.com/keygate/keygate/odoo"
	"github.com/keygate/keygate/odoo/xmlrpc"
	"github.com/keygate/keygate/proxy"
)

const fuzzPassword = "service-account-password"

// recorder is an upstream that keeps every request it gets and answers
// each as Odoo would answer a failure: with a traceback.
type recorder struct {
	mu     sync.Mutex
	bodies [][]byte
}

var (
	jsonTraceback = []byte(`{"jsonrpc": "2.0", "id": 1, "error": {"code": 200, "message": "Odoo Server Error", "data": {"name": "builtins.ValueError", "debug": "Traceback (most recent call last):\n  File \"/usr/lib/python3/dist-packages/odoo/http.py\"\nValueError: boom\n", "message": "boom", "arguments": ["boom"], "context": {}}}}`)
	xmlTraceback  = func() []byte {
		var b bytes.Buffer
		_ = xmlrpc.EncodeFault(&b, xmlrpc.Fault{Code: int64(1), String: "Traceback (most recent call last):\n  File \"/usr/lib/python3/dist-packages/odoo/http.py\"\nValueError: boom\n"})
		return b.Bytes()
	}()
)

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(req.Body)
	req.Body.Close()
	if isVersionCall(body) {
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(version18)), Request: req}, nil
	}
	r.mu.Lock()
	r.bodies = append(r.bodies, body)
	r.mu.Unlock()
	answer := jsonTraceback
	switch {
	case bytes.Contains(body, []byte(`"fields_get"`)) && bytes.Contains(body, []byte(`"relation_field"`)):
		// keygate learning a model's fields for its check: res.partner's,
		// whatever the model, so that checked calls go on to Odoo
		answer = partnerFieldsAnswer
	case bytes.Contains(body, []byte(`"authenticate"`)):
		answer = []byte(`{"jsonrpc": "2.0", "id": 1, "result": 2}`)
	case strings.HasPrefix(req.URL.Path, "/xmlrpc"):
		answer = xmlTraceback
	}
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(answer)), Request: req}, nil
}

// partnerFieldsAnswer is real Odoo 18.0's fields_get of res.partner as
// a JSON-RPC answer.
var partnerFieldsAnswer = func() []byte {
	fields, err := os.ReadFile("../odoo/testdata/fields_get-18.0-res.partner.json")
	if err != nil {
		panic(err)
	}
	return append(append([]byte(`{"jsonrpc": "2.0", "id": 1, "result": `), fields...), '}')
}()

func (r *recorder) take() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	b := r.bodies
	r.bodies = nil
	return b
}

// fuzzGateway is a gateway over a recorder, with one key that may call
// anything.
func fuzzGateway(tb testing.TB) (*echo.Echo, *recorder, string) {
	tb.Helper()
	log := slog.New(slog.DiscardHandler)
	store := gatewaytest.OpenStore(tb, log)
	rec := &recorder{}
	def := odoo.Account{URL: "http://odoo.invalid", DB: "odoo_test", Login: "svc", Password: fuzzPassword}
	accts, err := proxy.NewAccounts(proxy.AccountsConfig{Default: &def})
	if err != nil {
		tb.Fatal(err)
	}
	gw := gatewaytest.NewGateway(tb, gatewaytest.NewAuthorizer(tb, store, log, nil), accts, log, gatewaytest.Options{Transport: rec})
	e := gatewaytest.NewEcho(log)
	gw.Register(e.Group(""))
	_, k, err := store.Create(ctx, "test", storeSpec("odoo:*:*"))
	if err != nil {
		tb.Fatal(err)
	}
	return e, rec, k.Reveal()
}

// fixtureBodies are the request bodies of a fixture directory, with the
// key as the password where there is one.
func fixtureBodies(tb testing.TB, dir, key string) [][]byte {
	tb.Helper()
	paths, _ := filepath.Glob(filepath.Join("..", "internal", "odootest", "testdata", "odoo", "18.0", dir, "*.json"))
	var out [][]byte
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		var fx fixture
		_ = json.Unmarshal(data, &fx)
		rc := newCase(tb, fx)
		out = append(out, rc.rawBody())
		if rc.parsed && len(rc.args) >= 3 {
			out = append(out, rc.with(tb, rc.args[0], rc.args[1], key))
		}
	}
	return out
}

var okStatus = map[int]bool{200: true, 400: true, 413: true, 429: true, 500: true, 502: true, 503: true, 504: true}

// checkFuzzAnswer: no traceback reaches the partner, whatever was sent.
func checkFuzzAnswer(t *testing.T, in []byte, w *httptest.ResponseRecorder) {
	if !okStatus[w.Code] {
		t.Fatalf("%q: status %d", in, w.Code)
	}
	for _, bad := range []string{"Traceback", `"debug"`, "dist-packages"} {
		if strings.Contains(w.Body.String(), bad) {
			t.Fatalf("%q: the answer carries %q: %s", in, bad, w.Body)
		}
	}
}

func FuzzJSONRPCGateway(f *testing.F) {
	e, rec, key := fuzzGateway(f)
	for _, b := range fixtureBodies(f, "jsonrpc", key) {
		f.Add(b)
	}
	f.Add([]byte(`{"params": {"service": "object", "method": "execute_kw", "args": ["d", 1, "` + key + `", "res.partner", "read", [], {}], "SERVICE": "db"}}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		req := httptest.NewRequest(http.MethodPost, "/jsonrpc", bytes.NewReader(in))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		e.ServeHTTP(w, req)
		checkFuzzAnswer(t, in, w)
		for _, sent := range rec.take() {
			checkForwardedJSON(t, in, sent)
		}
	})
}

// checkForwardedJSON: what reaches Odoo is an object call, an
// authenticate of the service account, or a version, and always with the
// service account's credentials.
func checkForwardedJSON(t *testing.T, in, sent []byte) {
	var call struct {
		Params struct {
			Service, Method string
			Args            []any
		}
	}
	if err := json.Unmarshal(sent, &call); err != nil {
		t.Fatalf("%q: forwarded a body that is not JSON: %s", in, sent)
	}
	p := call.Params
	switch {
	case p.Service == "common" && p.Method == "version":
	case p.Service == "common" && p.Method == "authenticate" && len(p.Args) == 4 && p.Args[1] == "svc" && p.Args[2] == fuzzPassword:
	case p.Service == "object" && (p.Method == "execute_kw" || p.Method == "execute") && len(p.Args) >= 5 &&
		p.Args[0] == "odoo_test" && p.Args[1] == 2.0 && p.Args[2] == fuzzPassword && !strings.HasPrefix(p.Args[4].(string), "_"):
	default:
		t.Fatalf("%q: forwarded %s", in, sent)
	}
}

func FuzzXMLRPCGateway(f *testing.F) {
	e, rec, key := fuzzGateway(f)
	paths := []string{"/xmlrpc/2/object", "/xmlrpc/object", "/xmlrpc/2/common", "/xmlrpc/common", "/xmlrpc/2/db", "/xmlrpc/2/nope"}
	for i, b := range fixtureBodies(f, "xmlrpc", key) {
		f.Add(b, uint8(i))
	}
	f.Fuzz(func(t *testing.T, in []byte, path uint8) {
		req := httptest.NewRequest(http.MethodPost, paths[int(path)%len(paths)], bytes.NewReader(in))
		req.Header.Set("Content-Type", "text/xml")
		w := httptest.NewRecorder()
		e.ServeHTTP(w, req)
		checkFuzzAnswer(t, in, w)
		for _, sent := range rec.take() {
			if bytes.HasPrefix(sent, []byte("{")) {
				checkForwardedJSON(t, in, sent) // the uid's authenticate
				continue
			}
			checkForwardedXML(t, in, sent)
		}
	})
}

func checkForwardedXML(t *testing.T, in, sent []byte) {
	call, err := xmlrpc.DecodeCall(bytes.NewReader(sent))
	if err != nil {
		t.Fatalf("%q: forwarded a body that is not XML-RPC: %s", in, sent)
	}
	p := call.Params
	switch {
	case call.Method == "version":
	case (call.Method == "execute_kw" || call.Method == "execute") && len(p) >= 5 &&
		p[0] == "odoo_test" && p[1] == int64(2) && p[2] == fuzzPassword && !strings.HasPrefix(p[4].(string), "_"):
	default:
		t.Fatalf("%q: forwarded %s", in, sent)
	}
}

func storeSpec(scopes ...string) keystore.Spec {
	return keystore.Spec{Name: "fuzz", Owner: "partner-fuzz", Scopes: scopes}
}
