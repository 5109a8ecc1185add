package proxy_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/authz"
	"github.com/keygate/keygate/internal/gatewaytest"
)

// TestAuthenticateCountsFailures: a wrong key as the password of
// /web/session/authenticate counts against the failed-authentication
// limit of the client's address like any bad key, and the limit then
// answers 429 before any key is looked at; nothing reaches Odoo.
func TestAuthenticateCountsFailures(t *testing.T) {
	h := newHarness(t, gatewaytest.Options{})
	h.Warm(t)
	wrong := gatewaytest.UnknownKey(t)
	var statuses []int
	for range authz.DefaultFailedAuthLimit.Count + 1 {
		body := `{"jsonrpc": "2.0", "method": "call", "id": 1, "params": {"db": "odoo_test", "login": "a", "password": "` + wrong + `"}}`
		x := gatewaytest.Post(t, h.URL+"/web/session/authenticate", "application/json", []byte(body))
		statuses = append(statuses, x.Status)
		var env struct {
			Error struct{ Data struct{ Name string } }
		}
		_ = json.Unmarshal(x.Body, &env)
		if x.Status == http.StatusOK && env.Error.Data.Name != "odoo.exceptions.AccessDenied" {
			t.Fatalf("wrong key: %s, want AccessDenied", x.Body)
		}
	}
	if last := statuses[len(statuses)-1]; last != http.StatusTooManyRequests || statuses[0] != http.StatusOK || len(h.Odoo.Calls()) != 0 {
		t.Errorf("statuses %v: want AccessDenied (200) until the failed-auth limit, then 429; %d calls reached Odoo", statuses, len(h.Odoo.Calls()))
	}
}

// TestCanonicalPaths: the gateway's paths in the forms werkzeug and
// Odoo's routing take answer as the canonical ones; other paths are
// routed as sent.
func TestCanonicalPaths(t *testing.T) {
	h := newHarness(t, gatewaytest.Options{})
	version := `{"jsonrpc": "2.0", "method": "call", "id": 1, "params": {"service": "common", "method": "version", "args": []}}`
	canonical := gatewaytest.Post(t, h.URL+"/jsonrpc", "application/json", []byte(version))
	for _, p := range []string{"//jsonrpc", "/jsonrpc/", "///jsonrpc", "//web/webclient/version_info/"} {
		got := gatewaytest.Post(t, h.URL+p, "application/json", []byte(version))
		want := canonical
		if strings.Contains(p, "version_info") {
			want = gatewaytest.Post(t, h.URL+"/web/webclient/version_info", "application/json", []byte(version))
		}
		if diff := cmp.Diff([]any{want.Status, string(want.Body)}, []any{got.Status, string(got.Body)}); diff != "" {
			t.Errorf("%s (-canonical +got):\n%s", p, diff)
		}
	}
	if got := gatewaytest.Post(t, h.URL+"//auth", "application/json", nil); got.Status != http.StatusNotFound {
		t.Errorf("//auth: %d, want 404 (only the gateway's paths are rewritten)", got.Status)
	}
}
