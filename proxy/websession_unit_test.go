package proxy_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/authz"
)

// TestAuthenticateCountsFailures: a wrong key as the password of
// /web/session/authenticate counts against the failed-authentication
// limit of the client's address like any bad key, and the limit then
// answers 429 before any key is looked at; nothing reaches Odoo.
func TestAuthenticateCountsFailures(t *testing.T) {
	h := newHarness(t, options{})
	h.warm(t)
	wrong := unknownKey(t)
	var statuses []int
	for range authz.DefaultFailedAuthLimit.Count + 1 {
		body := `{"jsonrpc": "2.0", "method": "call", "id": 1, "params": {"db": "odoo_test", "login": "a", "password": "` + wrong + `"}}`
		x := post(t, h.url+"/web/session/authenticate", "application/json", []byte(body))
		statuses = append(statuses, x.status)
		var env struct {
			Error struct{ Data struct{ Name string } }
		}
		_ = json.Unmarshal(x.body, &env)
		if x.status == http.StatusOK && env.Error.Data.Name != "odoo.exceptions.AccessDenied" {
			t.Fatalf("wrong key: %s, want AccessDenied", x.body)
		}
	}
	if last := statuses[len(statuses)-1]; last != http.StatusTooManyRequests || statuses[0] != http.StatusOK || len(h.odoo.Calls()) != 0 {
		t.Errorf("statuses %v: want AccessDenied (200) until the failed-auth limit, then 429; %d calls reached Odoo", statuses, len(h.odoo.Calls()))
	}
}

// TestCanonicalPaths: the gateway's paths in the forms werkzeug and
// Odoo's routing take answer as the canonical ones; other paths are
// routed as sent.
func TestCanonicalPaths(t *testing.T) {
	h := newHarness(t, options{})
	version := `{"jsonrpc": "2.0", "method": "call", "id": 1, "params": {"service": "common", "method": "version", "args": []}}`
	canonical := post(t, h.url+"/jsonrpc", "application/json", []byte(version))
	for _, p := range []string{"//jsonrpc", "/jsonrpc/", "///jsonrpc", "//web/webclient/version_info/"} {
		got := post(t, h.url+p, "application/json", []byte(version))
		want := canonical
		if strings.Contains(p, "version_info") {
			want = post(t, h.url+"/web/webclient/version_info", "application/json", []byte(version))
		}
		if diff := cmp.Diff([]any{want.status, string(want.body)}, []any{got.status, string(got.body)}); diff != "" {
			t.Errorf("%s (-canonical +got):\n%s", p, diff)
		}
	}
	if got := post(t, h.url+"//auth", "application/json", nil); got.status != http.StatusNotFound {
		t.Errorf("//auth: %d, want 404 (only the gateway's paths are rewritten)", got.status)
	}
}
