package proxy_test

import (
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/internal/gatewaytest"
)

// TestJSPasswordMode sends the exact requests of @fernandoslim/odoo-jsonrpc
// in password mode, as recorded in 19.0/web (03: authenticate without a
// cookie; 11: call_kw without /<model>/<method>), with the keygate key in
// place of the password and a cookie jar as a browser or fetch keeps one,
// on the 18.0 and 19.0 doubles.
func TestJSPasswordMode(t *testing.T) {
	for _, version := range []string{"18.0", "19.0"} {
		t.Run(version, func(t *testing.T) {
			h := newHarness(t, gatewaytest.Options{Version: version})
			key := h.Key(t, "default", "odoo:res.partner:read")
			jar, _ := cookiejar.New(nil)
			client := &http.Client{Jar: jar}
			login := strings.Replace(string(recordedBody(t, "03-authenticate-no-cookie.json")), `"password": "admin"`, `"password": "`+key+`"`, 1)
			var got []any
			for _, body := range []string{login, string(recordedBody(t, "11-call-kw-no-suffix.json"))} {
				path := "/web/session/authenticate"
				if !strings.Contains(body, `"password"`) {
					path = "/web/dataset/call_kw"
				}
				resp, err := client.Post(h.URL+path, "application/json", strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				var env struct {
					ID     any
					Result json.RawMessage
					Error  any
				}
				_ = json.NewDecoder(resp.Body).Decode(&env)
				resp.Body.Close()
				got = append(got, env.ID, env.Error == nil)
				if path == "/web/dataset/call_kw" {
					var rows any
					_ = json.Unmarshal(env.Result, &rows)
					got = append(got, rows)
				}
			}
			want := []any{3.0, true, 11.0, true, []any{map[string]any{"id": 1.0, "name": "YourCompany"}}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("authenticate, then call_kw with the cookie (-want +got):\n%s", diff)
			}
		})
	}
}

// recordedBody is the request body of a 19.0/web fixture, as sent.
func recordedBody(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "internal", "odootest", "testdata", "odoo", "19.0", "web", name))
	if err != nil {
		t.Fatal(err)
	}
	var fx struct {
		Request struct{ Body json.RawMessage }
	}
	if err := json.Unmarshal(data, &fx); err != nil {
		t.Fatal(err)
	}
	return fx.Request.Body
}
