package proxy_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os/exec"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/internal/gatewaytest"
	"github.com/keygate/keygate/internal/odootest"
)

// partnerScopes are what the seed code needs.
var partnerScopes = []string{"odoo:res.partner:read", "odoo:res.partner:create", "odoo:res.partner:write", "odoo:res.partner:unlink"}

const unscopedMessage = "You are not allowed to call search_read through keygate: no scope of this key grants odoo:ir.config_parameter:read."

// TestPythonXMLRPCClient runs Odoo's documented seed code with Python's
// standard xmlrpc.client against keygate, on the legacy and the current
// paths, and checks what the script got.
func TestPythonXMLRPCClient(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 is needed (apt-get install python3): %v", err)
	}
	type faults struct{ unscoped, wrongKey, db map[string]any }
	cases := map[string]faults{
		"/xmlrpc": {
			unscoped: map[string]any{"faultCode": "warning -- AccessError\n\n" + unscopedMessage, "faultString": ""},
			wrongKey: map[string]any{"faultCode": "AccessDenied", "faultString": "Access Denied"},
			db:       map[string]any{"faultCode": "warning -- AccessError\n\nThe db service is not available through keygate.", "faultString": ""},
		},
		"/xmlrpc/2": {
			unscoped: map[string]any{"faultCode": 4.0, "faultString": unscopedMessage},
			wrongKey: map[string]any{"faultCode": 3.0, "faultString": "Access Denied"},
			db:       map[string]any{"faultCode": 4.0, "faultString": "The db service is not available through keygate."},
		},
	}
	for prefix, f := range cases {
		t.Run(prefix, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, gatewaytest.Options{})
			key := h.Key(t, "default", partnerScopes...)
			partners := h.direct(t, "res.partner", "search_read", []any{[]any{}, []any{"name", "email"}}, nil)
			cctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			out, err := exec.CommandContext(cctx, python, "testdata/xmlrpc_client.py", h.URL, "odoo_test", key, gatewaytest.UnknownKey(t), prefix).CombinedOutput()
			if err != nil {
				t.Fatalf("python: %v\n%s", err, out)
			}
			want := map[string]any{
				"version": "18.0", "uid": 2.0, "search_read": partners, "create": 42.0, "write": true, "unlink": true,
				"read_back":      []any{map[string]any{"id": 42.0, "name": "Keygate Partner 2", "email": "kg@example.com"}},
				"unscoped_model": f.unscoped, "wrong_key_execute": f.wrongKey, "wrong_key_authenticate": false, "db_list": f.db,
			}
			var got map[string]any
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("script output: %v\n%s", err, out)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("what the script got (-want +got):\n%s", diff)
			}
		})
	}
}

// TestJSONRPCClient is the same session over JSON-RPC with a plain Go
// HTTP client.
func TestJSONRPCClient(t *testing.T) {
	h := newHarness(t, gatewaytest.Options{})
	key := h.Key(t, "default", partnerScopes...)
	wrong := gatewaytest.UnknownKey(t)
	c := &rpcClient{tb: t, url: h.URL}
	uid := c.ok("common", "authenticate", "any-db", "partner@example.com", key, map[string]any{})
	newID := c.ok("object", "execute_kw", "x", uid, key, "res.partner", "create", []any{map[string]any{"name": "Keygate Partner"}})
	got := map[string]any{
		"uid":                    uid,
		"create":                 newID,
		"write":                  c.ok("object", "execute_kw", "x", uid, key, "res.partner", "write", []any{[]any{newID}, map[string]any{"name": "KP 2"}}),
		"read":                   c.ok("object", "execute_kw", "x", uid, key, "res.partner", "read", []any{[]any{newID}}, map[string]any{"fields": []any{"name"}}),
		"unlink":                 c.ok("object", "execute", "x", uid, key, "res.partner", "unlink", []any{newID}),
		"wrong_key_authenticate": c.ok("common", "authenticate", "x", "y", wrong, map[string]any{}),
		"unscoped":               c.fail("object", "execute_kw", "x", uid, key, "ir.config_parameter", "search_read", []any{[]any{}}),
		"wrong_key":              c.fail("object", "execute_kw", "x", uid, wrong, "res.partner", "search_count", []any{[]any{}}),
		"db_list":                c.fail("db", "list"),
	}
	want := map[string]any{
		"uid": 2.0, "create": 42.0, "write": true, "unlink": true, "wrong_key_authenticate": false,
		"read":      []any{map[string]any{"id": 42.0, "name": "KP 2"}},
		"unscoped":  rpcErr{"odoo.exceptions.AccessError", unscopedMessage},
		"wrong_key": rpcErr{"odoo.exceptions.AccessDenied", "Access Denied"},
		"db_list":   rpcErr{"odoo.exceptions.AccessError", "The db service is not available through keygate."},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("session (-want +got):\n%s", diff)
	}
}

// TestKeyInAuthorizationHeader: the key may come in a header instead of
// the password, and then the header decides. A bad header key is refused
// before the body is read, so that answer's id is null (JSON-RPC 2.0: the
// id could not be determined).
func TestKeyInAuthorizationHeader(t *testing.T) {
	h := newHarness(t, gatewaytest.Options{})
	key := h.Key(t, "default", "odoo:res.partner:read")
	count := []any{"x", 2, "not-the-key", "res.partner", "search_count", []any{[]any{}}}
	cases := []struct {
		name   string
		header []string
		want   any
	}{
		{"bearer", []string{"Authorization", "Bearer " + key}, 37.0},
		{"apikey_scheme", []string{"Authorization", "ApiKey " + key}, 37.0},
		{"x_api_key", []string{"X-API-Key", key}, 37.0},
		{"header_wins_over_a_valid_password", []string{"Authorization", "Bearer " + gatewaytest.UnknownKey(t)}, rpcErr{"odoo.exceptions.AccessDenied", "Access Denied"}},
		{"no_key_anywhere", nil, rpcErr{"odoo.exceptions.AccessDenied", "Access Denied"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := count
			if tc.name == "header_wins_over_a_valid_password" {
				args = append([]any{"x", 2, key}, count[3:]...)
			}
			c := &rpcClient{tb: t, url: h.URL, header: tc.header, nullID: tc.name == "header_wins_over_a_valid_password"}
			if diff := cmp.Diff(tc.want, c.result("object", "execute_kw", args...)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// rpcErr is what a test keeps of a JSON-RPC error.
type rpcErr struct{ Name, Message string }

// rpcClient is a plain JSON-RPC client.
type rpcClient struct {
	tb     testing.TB
	url    string
	header []string
	nullID bool // the answer's id is null: refused before the body was read
}

// result returns the call's result, or its error as an rpcErr.
func (c *rpcClient) result(service, method string, args ...any) any {
	c.tb.Helper()
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": "call", "id": 7,
		"params": map[string]any{"service": service, "method": method, "args": args}})
	x := gatewaytest.Post(c.tb, c.url+"/jsonrpc", "application/json", body, c.header...)
	var a struct {
		ID     any
		Result any
		Error  *struct{ Data rpcErr }
	}
	wantID := any(7.0)
	if c.nullID {
		wantID = nil
	}
	if err := json.Unmarshal(x.Body, &a); err != nil || x.Status != http.StatusOK || a.ID != wantID {
		c.tb.Fatalf("%s.%s: %d %s", service, method, x.Status, x.Body)
	}
	if a.Error != nil {
		return a.Error.Data
	}
	return a.Result
}

func (c *rpcClient) ok(service, method string, args ...any) any {
	c.tb.Helper()
	v := c.result(service, method, args...)
	if e, isErr := v.(rpcErr); isErr {
		c.tb.Fatalf("%s.%s: %+v", service, method, e)
	}
	return v
}

func (c *rpcClient) fail(service, method string, args ...any) any {
	c.tb.Helper()
	v := c.result(service, method, args...)
	if _, isErr := v.(rpcErr); !isErr {
		c.tb.Fatalf("%s.%s = %v, want an error", service, method, v)
	}
	return v
}

// direct calls the double itself as admin.
func (h *harness) direct(tb testing.TB, model, method string, args []any, kwargs map[string]any) any {
	tb.Helper()
	if kwargs == nil {
		kwargs = map[string]any{}
	}
	c := &rpcClient{tb: tb, url: h.OdooURL}
	return c.ok("object", "execute_kw", "odoo_test", odootest.UIDAdmin, odootest.KeyGlobal, model, method, args, kwargs)
}
