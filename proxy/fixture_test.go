package proxy_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/keygate/keygate/authz"
	"github.com/keygate/keygate/internal/gatewaytest"
	"github.com/keygate/keygate/internal/odootest"
	"github.com/keygate/keygate/odoo/xmlrpc"
)

// fixture is one recorded Odoo exchange (internal/odootest/testdata/odoo/README.md).
type fixture struct {
	name    string
	file    string
	Request struct {
		Method  string            `json:"method"`
		Path    string            `json:"path"`
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	} `json:"request"`
}

// loadFixtures reads, in order, the recorded exchanges of one kind (jsonrpc,
// xmlrpc, json2, web) of an Odoo version ("18.0", or a glob such as "*").
func loadFixtures(tb testing.TB, version, dir string) []fixture {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join("..", "internal", "odootest", "testdata", "odoo", version, dir, "*.json"))
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no fixtures in %s/%s: %v", version, dir, err)
	}
	sort.Strings(paths)
	out := make([]fixture, len(paths))
	for i, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		if err := json.Unmarshal(data, &out[i]); err != nil {
			tb.Fatalf("%s: %v", p, err)
		}
		out[i].name = strings.TrimSuffix(filepath.Base(p), ".json")
		out[i].file = p
	}
	return out
}

// Kinds of cases, by what keygate does with them.
const (
	kindTransport = "transport" // not a call: keygate answers as Odoo does
	kindVersion   = "version"   // forwarded without a key
	kindLogin     = "login"     // answered by keygate
	kindObject    = "object"    // checked, then forwarded or refused
	kindPrivate   = "private"   // a method that is never allowed
	kindRefused   = "refused"   // db, unknown services and methods
)

// rpcCase is a fixture as a call the test can send with other arguments.
type rpcCase struct {
	fixture
	proto           string // "jsonrpc" or "xmlrpc"
	service, method string
	args            []any
	env             map[string]any // JSON-RPC: the envelope
	parsed          bool
}

func newCase(tb testing.TB, fx fixture) *rpcCase {
	tb.Helper()
	rc := &rpcCase{fixture: fx, proto: "jsonrpc"}
	if strings.HasPrefix(fx.Request.Path, "/xmlrpc") {
		rc.proto = "xmlrpc"
		rc.parseXML()
	} else {
		rc.parseJSON()
	}
	return rc
}

func (rc *rpcCase) parseJSON() {
	dec := json.NewDecoder(bytes.NewReader(rc.Request.Body))
	dec.UseNumber()
	if dec.Decode(&rc.env) != nil || rc.Request.Method != "POST" || rc.Request.Headers["Content-Type"] != "application/json" {
		return
	}
	p, _ := rc.env["params"].(map[string]any)
	rc.service, _ = p["service"].(string)
	rc.method, _ = p["method"].(string)
	rc.args, _ = p["args"].([]any)
	rc.parsed = true
}

func (rc *rpcCase) parseXML() {
	var body string
	if json.Unmarshal(rc.Request.Body, &body) != nil || rc.Request.Headers["Content-Type"] != "text/xml" {
		return
	}
	call, err := xmlrpc.DecodeCall(strings.NewReader(body))
	if err != nil {
		return
	}
	rc.service = rc.Request.Path[strings.LastIndexByte(rc.Request.Path, '/')+1:]
	rc.method, rc.args, rc.parsed = call.Method, call.Params, true
}

func (rc *rpcCase) legacy() bool { return !strings.HasPrefix(rc.Request.Path, "/xmlrpc/2/") }

func (rc *rpcCase) str(i int) string {
	if i >= len(rc.args) {
		return ""
	}
	s, _ := rc.args[i].(string)
	return s
}

func (rc *rpcCase) kind() string {
	switch {
	case !rc.parsed:
		return kindTransport
	case rc.service == "common" && rc.method == "version":
		return kindVersion
	case rc.service == "common" && (rc.method == "login" || rc.method == "authenticate"):
		return kindLogin
	case rc.service == "object" && (rc.method == "execute_kw" || rc.method == "execute"):
		if strings.HasPrefix(authz.NeedOdoo(rc.str(3), rc.str(4)).String(), "invalid") {
			return kindPrivate
		}
		return kindObject
	}
	return kindRefused
}

// account is the service account that stands for the fixture's user.
func (rc *rpcCase) account() string {
	var uid int64
	switch v := rc.args[1].(type) {
	case json.Number:
		uid, _ = v.Int64()
	case int64:
		uid = v
	}
	switch {
	case rc.kind() == kindObject && uid == odootest.UIDDemo:
		return "demo"
	case rc.kind() == kindObject && uid == odootest.UIDPortal:
		return "portal"
	}
	return "default"
}

// scope is the one scope that grants the call.
func (rc *rpcCase) scope() string { return authz.NeedOdoo(rc.str(3), rc.str(4)).String() }

// with returns the request body with the first three arguments replaced.
func (rc *rpcCase) with(tb testing.TB, a0, a1, a2 any) []byte {
	tb.Helper()
	args := append([]any{a0, a1, a2}, rc.args[3:]...)
	var buf bytes.Buffer
	if rc.proto == "xmlrpc" {
		if err := xmlrpc.EncodeCall(&buf, xmlrpc.Call{Method: rc.method, Params: args}); err != nil {
			tb.Fatal(err)
		}
		return buf.Bytes()
	}
	env := map[string]any{}
	for k, v := range rc.env {
		env[k] = v
	}
	env["params"] = map[string]any{"service": rc.service, "method": rc.method, "args": args}
	b, err := json.Marshal(env)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// rawBody is the fixture's request body as it was sent.
func (rc *rpcCase) rawBody() []byte {
	var s string
	switch {
	case string(rc.Request.Body) == "null":
		return nil
	case json.Unmarshal(rc.Request.Body, &s) == nil:
		return []byte(s)
	}
	return rc.Request.Body
}

func (rc *rpcCase) send(tb testing.TB, base string, body []byte) gatewaytest.Exchange {
	tb.Helper()
	return gatewaytest.Send(tb, rc.Request.Method, base+rc.Request.Path, rc.Request.Headers["Content-Type"], body)
}

// TestFixtures sends every 18.0 JSON-RPC and XML-RPC fixture through
// keygate with a keygate key as the password: once with a key that holds
// the one scope the call needs, once with a key that lacks it. A second
// double, called directly as the service account, gives the expected
// answers.
func TestFixtures(t *testing.T) {
	for _, dir := range []string{"jsonrpc", "xmlrpc"} {
		t.Run(dir, func(t *testing.T) {
			h := newHarness(t, gatewaytest.Options{})
			h.Warm(t)
			_, directURL := gatewaytest.StartDouble(t, "")
			cases := loadFixtures(t, "18.0", dir)
			for _, scoped := range []bool{true, false} {
				name := map[bool]string{true: "scoped", false: "unscoped"}[scoped]
				t.Run(name, func(t *testing.T) {
					for _, fx := range cases {
						rc := newCase(t, fx)
						t.Run(fx.name, func(t *testing.T) { runCase(t, h, directURL, rc, scoped) })
					}
				})
			}
		})
	}
}

func runCase(t *testing.T, h *harness, directURL string, rc *rpcCase, scoped bool) {
	before := len(h.Odoo.Calls())
	var got, want gatewaytest.Exchange
	switch rc.kind() {
	case kindTransport:
		got, want = rc.send(t, h.URL, rc.rawBody()), rc.send(t, directURL, rc.rawBody())
		checkTransport(t, rc, got, want)
	case kindVersion, kindRefused:
		got = rc.send(t, h.URL, rc.rawBody())
		want = rc.send(t, directURL, rc.rawBody())
	default:
		acct := h.Accts[rc.account()]
		scope := rc.scope()
		if rc.kind() != kindObject {
			scope = "odoo:*:*"
		}
		if !scoped {
			scope = "odoo:res.bank:read"
		}
		got = rc.send(t, h.URL, rc.with(t, rc.args[0], rc.args[1], h.Key(t, rc.account(), scope)))
		uid := fixtureUIDs[rc.account()]
		if rc.kind() == kindLogin {
			want = rc.send(t, directURL, rc.with(t, acct.DB, acct.Login, acct.Password.Reveal()))
		} else {
			want = rc.send(t, directURL, rc.with(t, acct.DB, uid, acct.Password.Reveal()))
		}
	}
	checkSecrets(t, got)
	calls := partnerCalls(rc, h.Odoo.Calls()[before:])
	switch k := rc.kind(); {
	case k == kindTransport:
	case k == kindRefused || k == kindObject && (!scoped || strictRefusals[rc.name]):
		checkKeygateRefusal(t, rc, got)
	default:
		checkSameAnswer(t, rc, got, want)
	}
	checkCalls(t, rc, scoped, calls)
}

// fixtureUIDs are the uids of the fixtures' users on the 18.0 double.
var fixtureUIDs = map[string]int64{"default": odootest.UIDAdmin, "demo": odootest.UIDDemo, "portal": odootest.UIDPortal}

// checkSecrets: no answer a partner sees carries a traceback.
func checkSecrets(t *testing.T, got gatewaytest.Exchange) {
	t.Helper()
	for _, bad := range []string{`"debug"`, "Traceback", "dist-packages", odootest.KeyGlobal} {
		if bytes.Contains(got.Body, []byte(bad)) {
			t.Errorf("answer carries %q:\n%s", bad, got.Body)
		}
	}
}

// checkTransport: keygate answers what is not a call as Odoo does; for
// XML that is not XML-RPC, with fault 1 and no traceback.
func checkTransport(t *testing.T, rc *rpcCase, got, want gatewaytest.Exchange) {
	t.Helper()
	if rc.proto == "xmlrpc" && rc.Request.Method == "POST" {
		f := decodeFault(t, got.Body)
		if got.Status != 200 || f == nil || f.Code != int64(1) || f.String == "" {
			t.Errorf("got %d %s, want a fault 1 with a message", got.Status, got.Body)
		}
		return
	}
	type answer struct {
		Status            int
		ContentType, Body string
	}
	w := answer{want.Status, want.Header.Get("Content-Type"), string(want.Body)}
	g := answer{got.Status, got.Header.Get("Content-Type"), string(got.Body)}
	if diff := cmp.Diff(w, g); diff != "" {
		t.Errorf("answer differs from Odoo's (-odoo +keygate):\n%s", diff)
	}
}

// checkSameAnswer: keygate's answer is the double's own, less its
// traceback (JSON: data.debug; XML: the traceback of a fault).
func checkSameAnswer(t *testing.T, rc *rpcCase, got, want gatewaytest.Exchange) {
	t.Helper()
	if got.Status != want.Status {
		t.Errorf("status %d, want %d", got.Status, want.Status)
	}
	if rc.proto == "jsonrpc" {
		if diff := cmp.Diff(withoutDebug(t, want.Body), decodeAny(t, got.Body)); diff != "" {
			t.Errorf("answer differs from Odoo's less debug (-odoo +keygate):\n%s", diff)
		}
		return
	}
	wf, gf := decodeFault(t, want.Body), decodeFault(t, got.Body)
	if wf == nil {
		if !bytes.Equal(want.Body, got.Body) {
			t.Errorf("answer differs from Odoo's:\nodoo:    %s\nkeygate: %s", want.Body, got.Body)
		}
		return
	}
	wf.String = exceptionLine(wf.String)
	if code, ok := wf.Code.(string); ok {
		wf.Code = exceptionLine(code)
	}
	if diff := cmp.Diff(wf, gf); diff != "" {
		t.Errorf("fault differs from Odoo's less traceback (-odoo +keygate):\n%s", diff)
	}
}

// checkKeygateRefusal: an AccessError in the protocol's shape, HTTP 200.
func checkKeygateRefusal(t *testing.T, rc *rpcCase, got gatewaytest.Exchange) {
	t.Helper()
	if got.Status != 200 {
		t.Errorf("status %d, want 200", got.Status)
	}
	if rc.proto == "jsonrpc" {
		var a struct {
			Error struct {
				Code    int
				Message string
				Data    struct{ Name string }
			}
		}
		_ = json.Unmarshal(got.Body, &a)
		if a.Error.Code != 200 || a.Error.Message != "Odoo Server Error" || a.Error.Data.Name != "odoo.exceptions.AccessError" {
			t.Errorf("got %s, want an Odoo AccessError", got.Body)
		}
		return
	}
	f := decodeFault(t, got.Body)
	code, _ := f.Code.(string)
	if f == nil || rc.legacy() && !strings.HasPrefix(code, "warning -- AccessError\n\n") || !rc.legacy() && f.Code != int64(4) {
		t.Errorf("got %s, want an AccessError fault", got.Body)
	}
}

// strictRefusals are the fixtures whose calls keygate's check refuses
// itself, stricter than Odoo, which raises ValueError for them: a field
// that fields_get does not list, an operator that Odoo does not have.
var strictRefusals = map[string]bool{
	"30-value-error-unknown-field": true, "31-value-error-bad-operator": true, // jsonrpc
	"32-fault-value-error-unknown-field": true, "33-fault-value-error-bad-operator": true, // xmlrpc
}

// partnerCalls leaves out of calls the fields_get calls that keygate
// makes itself, to learn the fields its check needs (proxy.Client.Fields),
// unless the case is a fields_get itself (which needs no fields: its
// arguments name none that the check follows).
func partnerCalls(rc *rpcCase, calls []odootest.Call) []odootest.Call {
	if rc.str(4) == "fields_get" {
		return calls
	}
	return slices.DeleteFunc(calls, func(c odootest.Call) bool { return c.ModelMethod == "fields_get" })
}

// checkCalls: only calls that a key may make reach Odoo, once each, as
// the service account; login and authenticate never do; version at most
// once (then it is cached).
func checkCalls(t *testing.T, rc *rpcCase, scoped bool, calls []odootest.Call) {
	t.Helper()
	var want []odootest.Call
	switch rc.kind() {
	case kindVersion:
		if len(calls) <= 1 && (len(calls) == 0 || calls[0].Method == "version") {
			return
		}
	case kindObject:
		if scoped && !strictRefusals[rc.name] {
			acct := rc.account()
			auth := "password" // the demo and portal accounts log in with their passwords
			if acct == "default" {
				auth = "apikey"
			}
			want = []odootest.Call{{Protocol: rc.proto, Path: rc.Request.Path, Service: "object", Method: rc.method,
				DB: "odoo_test", UID: fixtureUIDs[acct], Auth: auth, Model: rc.str(3), ModelMethod: rc.str(4)}}
		}
	}
	if diff := cmp.Diff(want, calls, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("calls that reached Odoo (-want +got):\n%s", diff)
	}
}

func decodeAny(t *testing.T, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("not JSON: %s", b)
	}
	return v
}

func withoutDebug(t *testing.T, b []byte) any {
	t.Helper()
	v := decodeAny(t, b)
	if m, ok := v.(map[string]any); ok {
		if e, ok := m["error"].(map[string]any); ok {
			if d, ok := e["data"].(map[string]any); ok {
				delete(d, "debug")
			}
		}
	}
	return v
}

// decodeFault returns the fault of an XML-RPC answer, nil for a result.
func decodeFault(t *testing.T, b []byte) *xmlrpc.Fault {
	t.Helper()
	_, err := xmlrpc.DecodeResponse(bytes.NewReader(b))
	var f *xmlrpc.Fault
	if errors.As(err, &f) {
		return f
	}
	if err != nil {
		t.Fatalf("not XML-RPC: %v\n%s", err, b)
	}
	return nil
}

// exceptionLine is the last line of a Python traceback, the text itself
// when it holds none.
func exceptionLine(s string) string {
	if !strings.HasPrefix(s, "Traceback (most recent call last):") {
		return s
	}
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}
