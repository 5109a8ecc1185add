package proxy_test

import (
	"context"
	"encoding/json"
	"net/url"
	"os/exec"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/internal/gatewaytest"
)

// debianPython is the interpreter that imports Debian's python3-odoorpc
// (a pyenv python3 first on PATH does not).
const debianPython = "/usr/bin/python3"

// TestOdooRPC runs OdooRPC itself, as Debian packages it, against keygate
// in front of the 18.0 and 19.0 doubles, with the keygate key as the
// password: version_info, login through /web/session/authenticate,
// res.partner's fields_get, search_read, create, write, read and unlink,
// an RPCError for a model the key has no scope on and for a wrong key, and
// logout through /web/session/destroy.
func TestOdooRPC(t *testing.T) {
	if err := exec.Command(debianPython, "-c", "import odoorpc").Run(); err != nil {
		t.Fatalf("OdooRPC is needed: apt-get install python3-odoorpc (%s -c 'import odoorpc': %v)", debianPython, err)
	}
	for _, version := range []string{"18.0", "19.0"} {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, gatewaytest.Options{Version: version})
			key := h.Key(t, "default", partnerScopes...)
			u, _ := url.Parse(h.URL)
			cctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			out, err := exec.CommandContext(cctx, debianPython, "testdata/odoorpc_client.py", u.Hostname(), u.Port(), "odoo_test", key, gatewaytest.UnknownKey(t)).CombinedOutput()
			if err != nil {
				t.Fatalf("python: %v\n%s", err, out)
			}
			want := map[string]any{
				"version": version, "uid": 2.0,
				"search_read": []any{map[string]any{"id": 1.0, "name": "YourCompany"}, map[string]any{"id": 9.0, "name": "Wood Corner"},
					map[string]any{"id": 10.0, "name": "Deco Addict"}},
				"create": 42.0, "write": true, "unlink": true,
				"read_back":      []any{map[string]any{"id": 42.0, "name": "OdooRPC Partner", "email": "rpc2@example.com"}},
				"unscoped_model": "odoo.exceptions.AccessError", "logout": true, "wrong_key": "odoo.exceptions.AccessDenied",
			}
			var got map[string]any
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("script output: %v\n%s", err, out)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("what OdooRPC got (-want +got):\n%s", diff)
			}
		})
	}
}
