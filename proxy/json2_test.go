package proxy_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/keygate/keygate/authz"
	"github.com/keygate/keygate/internal/gatewaytest"
	"github.com/keygate/keygate/internal/odootest"
)

func (jc *fixture) modelMethod() (string, string) {
	parts := strings.Split(strings.TrimPrefix(jc.Request.Path, "/json/2/"), "/")
	if len(parts) != 2 {
		return "", ""
	}
	return parts[0], parts[1]
}

// body is the request body as sent: JSON, or the raw string of a body
// that is not JSON.
func (jc *fixture) body() []byte {
	var s string
	if json.Unmarshal(jc.Request.Body, &s) == nil {
		return []byte(s)
	}
	if string(jc.Request.Body) == "null" {
		return nil
	}
	return jc.Request.Body
}

// account is the service account the case runs as: demo for the demo
// key, the admin otherwise.
func (jc *fixture) account() string {
	if strings.Contains(jc.Request.Headers["Authorization"], "ODOO_API_KEY_DEMO") {
		return "demo"
	}
	return "default"
}

// validKey reports whether the recorded bearer key is one Odoo accepts.
func (jc *fixture) validKey() bool {
	a := jc.Request.Headers["Authorization"]
	return strings.Contains(a, "ODOO_API_KEY_GLOBAL") || strings.Contains(a, "ODOO_API_KEY_DEMO")
}

// TestJSON2Fixtures sends every 19.0/json2 exchange through keygate with
// a keygate key as the bearer token, once with a key holding the one
// scope the call needs and once with a key lacking it, in front of a 19.0
// double (forwarded as JSON-2) and of an 18.0 double (translated to
// execute_kw). A 19.0 double called directly as the service account gives
// the expected answers: the same status and body, less the traceback.
// A key that is missing or bad is 401, an unscoped or private call 403,
// and neither reaches Odoo.
func TestJSON2Fixtures(t *testing.T) {
	for _, version := range []string{"19.0", "18.0"} {
		t.Run(version, func(t *testing.T) {
			h := newHarness(t, gatewaytest.Options{Version: version})
			h.Warm(t)
			_, directURL := gatewaytest.StartDouble(t, "19.0")
			for _, scoped := range []bool{true, false} {
				t.Run(map[bool]string{true: "scoped", false: "unscoped"}[scoped], func(t *testing.T) {
					for _, jc := range loadFixtures(t, "19.0", "json2") {
						t.Run(jc.name, func(t *testing.T) { runJSON2(t, h, directURL, &jc, version, scoped) })
					}
				})
			}
		})
	}
}

// strictJSON2Refusals are the exchanges whose calls keygate's check
// refuses itself (AccessError, 403), stricter than Odoo, which answers
// them with an error of its own: a field fields_get does not list, an
// operator Odoo does not have (500 ValueError), ids given to a model
// method, an argument the method does not take (422). Nothing reaches
// Odoo for them.
var strictJSON2Refusals = map[string]bool{
	"22-value-error-unknown-field": true, "23-value-error-bad-operator": true,
	"24-unprocessable-ids-on-model-method": true, "25-unprocessable-bad-parameter": true,
}

func runJSON2(t *testing.T, h *harness, directURL string, jc *fixture, version string, scoped bool) {
	model, method := jc.modelMethod()
	need := authz.NeedOdoo(model, method)
	private := strings.HasPrefix(need.String(), "invalid")
	scope := need.String()
	if private {
		scope = "odoo:*:*" // a private method is refused whatever the scopes
	}
	if !scoped {
		scope = "odoo:res.bank:read"
	}
	auth := jc.Request.Headers["Authorization"]
	if jc.validKey() {
		auth = "Bearer " + h.Key(t, jc.account(), scope)
	}
	before := len(h.Odoo.Calls())
	got := gatewaytest.Send(t, jc.Request.Method, h.URL+jc.Request.Path, jc.Request.Headers["Content-Type"], jc.body(),
		"Authorization", auth, "X-Odoo-Database", jc.Request.Headers["X-Odoo-Database"])
	calls := h.Odoo.Calls()[before:]
	direct := odooKey(jc.account())
	want := gatewaytest.Send(t, jc.Request.Method, directURL+jc.Request.Path, jc.Request.Headers["Content-Type"], jc.body(),
		"Authorization", "bearer "+direct)
	switch {
	case jc.Request.Method != http.MethodPost:
		checkJSON2Error(t, got, http.StatusNotFound, "werkzeug.exceptions.NotFound")
		checkNoCalls(t, calls)
	case auth == "" || !jc.validKey():
		checkJSON2Error(t, got, http.StatusUnauthorized, "werkzeug.exceptions.Unauthorized")
		if got.Header.Get("WWW-Authenticate") == "" {
			t.Error("401 without WWW-Authenticate")
		}
		checkNoCalls(t, calls)
	case !json.Valid(jc.body()):
		checkJSON2Error(t, got, http.StatusBadRequest, "werkzeug.exceptions.BadRequest")
		checkNoCalls(t, calls)
	case private || !scoped || strictJSON2Refusals[jc.name]:
		checkJSON2Error(t, got, http.StatusForbidden, "odoo.exceptions.AccessError")
		checkNoCalls(t, calls)
	default:
		calls = slices.DeleteFunc(calls, func(c odootest.Call) bool { return c.ModelMethod == "fields_get" && method != "fields_get" })
		checkSameJSON2(t, got, want, version)
		checkJSON2Calls(t, calls, version, model, method)
	}
}

func odooKey(account string) string {
	if account == "demo" {
		return odootest.KeyDemo
	}
	return odootest.KeyGlobal
}

// checkSameJSON2: keygate answers as Odoo does, without the traceback.
// Through execute_kw (18.0), errors keep their status and class, but
// their texts are 18.0's.
func checkSameJSON2(t *testing.T, got, want gatewaytest.Exchange, version string) {
	t.Helper()
	if bytes.Contains(got.Body, []byte(`"debug"`)) || bytes.Contains(got.Body, []byte("Traceback")) {
		t.Errorf("the answer carries a traceback: %s", got.Body)
	}
	g, w := decodeAny(t, got.Body), decodeAny(t, want.Body)
	if m, ok := w.(map[string]any); ok && want.Status != http.StatusOK {
		delete(m, "debug")
		if version == "18.0" {
			gm, _ := g.(map[string]any)
			g = []any{gm["name"]}
			w = []any{m["name"]}
		}
	}
	if diff := cmp.Diff([]any{want.Status, w}, []any{got.Status, g}); diff != "" {
		t.Errorf("status and body (-odoo +keygate):\n%s", diff)
	}
	if ct := got.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
}

func checkJSON2Error(t *testing.T, got gatewaytest.Exchange, status int, name string) {
	t.Helper()
	var e struct {
		Name      string `json:"name"`
		Message   string `json:"message"`
		Arguments []any  `json:"arguments"`
	}
	if err := json.Unmarshal(got.Body, &e); err != nil || got.Status != status || e.Name != name || e.Message == "" || len(e.Arguments) == 0 {
		t.Errorf("got %d %s, want %d with a JSON-2 error %s", got.Status, got.Body, status, name)
	}
}

func checkNoCalls(t *testing.T, calls []odootest.Call) {
	t.Helper()
	if len(calls) != 0 {
		t.Errorf("%d calls reached Odoo: %+v", len(calls), calls)
	}
}

// checkJSON2Calls: the one call reached Odoo as JSON-2 on 19.0, as
// execute_kw on 18.0, for the model and method asked.
func checkJSON2Calls(t *testing.T, calls []odootest.Call, version, model, method string) {
	t.Helper()
	type call struct{ Protocol, Model, Method string }
	want := []call{{"json2", model, method}}
	if version == "18.0" {
		want = []call{{"jsonrpc", model, method}}
	}
	var got []call
	for _, c := range calls {
		got = append(got, call{c.Protocol, c.Model, c.ModelMethod})
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("calls that reached Odoo (-want +got):\n%s", diff)
	}
}
