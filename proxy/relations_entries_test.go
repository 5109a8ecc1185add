package proxy_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/keygate/keygate/internal/gatewaytest"
	"github.com/keygate/keygate/keystore"
)

// json2Names are the parameter names of the attacks' methods, in order:
// JSON-2 takes named arguments only.
var json2Names = map[string][]string{
	"create":       {"vals_list"},
	"write":        {"ids", "vals"},
	"search_count": {"domain"},
	"name_search":  {"name"},
	"read_group":   {"domain", "fields", "groupby"},
	"export_data":  {"ids", "fields_to_export"},
}

// TestRelationsAttacksRefusedOverJSON2AndWeb: the attacks, sent through
// the two entries that carry named or session-bound calls (JSON-2 and the
// web client's /web/dataset/call_kw), are refused as over execute_kw,
// naming the missing scope, and nothing reaches Odoo.
func TestRelationsAttacksRefusedOverJSON2AndWeb(t *testing.T) {
	h := relationsHarness(t)
	for _, entry := range []string{"json2", "call_kw"} {
		for _, a := range attacks {
			t.Run(entry+"/"+a.name, func(t *testing.T) {
				key := h.Key(t, "default", a.scopes...)
				var session string
				if entry == "call_kw" {
					session = webSession(t, h, key)
				}
				h.Odoo.Reset()
				args, _ := jsonValue(t, a.args, "[]").([]any)
				kwargs, _ := jsonValue(t, a.kwargs, "{}").(map[string]any)
				var msg string
				if entry == "json2" {
					names := json2Names[a.method]
					if len(args) > len(names) {
						t.Fatalf("no JSON-2 names for %d arguments of %s", len(args), a.method)
					}
					for i, v := range args {
						kwargs[names[i]] = v
					}
					body, _ := json.Marshal(kwargs)
					x := gatewaytest.Post(t, h.URL+"/json/2/"+a.model+"/"+a.method, "application/json", body,
						"Authorization", "Bearer "+key)
					var e struct{ Name, Message string }
					if err := json.Unmarshal(x.Body, &e); err != nil || x.Status != 403 || e.Name != "odoo.exceptions.AccessError" {
						t.Fatalf("got %d %.300s, want 403 AccessError", x.Status, x.Body)
					}
					msg = e.Message
				} else {
					body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": "call", "id": 1,
						"params": map[string]any{"model": a.model, "method": a.method, "args": args, "kwargs": kwargs}})
					msg = accessErrorText(t, "jsonrpc", gatewaytest.Post(t, h.URL+"/web/dataset/call_kw/"+a.model+"/"+a.method,
						"application/json", body, "Cookie", "session_id="+session))
				}
				if !strings.Contains(msg, "this key needs "+a.needs+" (") {
					t.Errorf("refusal %q does not name %s", msg, a.needs)
				}
				if calls := h.Odoo.Calls(); len(calls) > 0 {
					t.Errorf("%d calls reached Odoo, want none: %+v", len(calls), calls)
				}
			})
		}
	}
}

// webSession opens a web session for key and returns its id.
func webSession(t *testing.T, h *harness, key string) string {
	t.Helper()
	auth, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": "call", "id": 1,
		"params": map[string]any{"db": "x", "login": "x", "password": key}})
	x := gatewaytest.Post(t, h.URL+"/web/session/authenticate", "application/json", auth)
	for _, ck := range x.Header.Values("Set-Cookie") {
		if v, ok := strings.CutPrefix(ck, "session_id="); ok {
			id, _, _ := strings.Cut(v, ";")
			return id
		}
	}
	t.Fatalf("authenticate set no session: %d %.300s", x.Status, x.Body)
	return ""
}

// TestPartnerDatabaseIsIgnored: the database a partner names (JSON-2's
// X-Odoo-Database, execute_kw's first argument, authenticate's db) is
// never the one called: every call runs in its service account's.
func TestPartnerDatabaseIsIgnored(t *testing.T) {
	for _, version := range []string{"18.0", "19.0"} {
		t.Run(version, func(t *testing.T) {
			h := newHarness(t, gatewaytest.Options{Version: version})
			key := h.Key(t, "default", "odoo:res.partner:read")
			want := h.Accts["default"].DB
			h.Odoo.Reset()
			x := gatewaytest.Post(t, h.URL+"/json/2/res.partner/search_count", "application/json", []byte(`{"domain": []}`),
				"Authorization", "Bearer "+key, "X-Odoo-Database", "other_db")
			if x.Status != 200 {
				t.Fatalf("JSON-2 with another X-Odoo-Database: %d %.300s", x.Status, x.Body)
			}
			c := &rpcClient{tb: t, url: h.URL}
			c.ok("object", "execute_kw", "other_db", 2, key, "res.partner", "search_count", []any{[]any{}})
			calls := h.Odoo.Calls()
			if len(calls) == 0 {
				t.Fatal("no call reached Odoo")
			}
			for _, call := range calls {
				if call.DB != "" && call.DB != want {
					t.Errorf("%s %s.%s ran in database %q, want the account's %q", call.Protocol, call.Model, call.ModelMethod, call.DB, want)
				}
			}
		})
	}
}

// TestWebSessionKeyIsCheckedOnEveryCall: a web session holds no right of
// its own: each call_kw is decided on its key as it stands, so a key
// revoked after authenticate, or out of its rate limit, is refused and
// nothing reaches Odoo.
func TestWebSessionKeyIsCheckedOnEveryCall(t *testing.T) {
	h := newHarness(t, gatewaytest.Options{})
	call, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": "call", "id": 1,
		"params": map[string]any{"model": "res.partner", "method": "search_count", "args": []any{[]any{}}, "kwargs": map[string]any{}}})
	post := func(session string) (string, int) {
		h.Odoo.Reset()
		x := gatewaytest.Post(t, h.URL+"/web/dataset/call_kw", "application/json", call, "Cookie", "session_id="+session)
		var env struct {
			Error *struct{ Data struct{ Name string } }
		}
		_ = json.Unmarshal(x.Body, &env)
		if env.Error == nil {
			return "", len(h.Odoo.Calls())
		}
		return env.Error.Data.Name, len(h.Odoo.Calls())
	}
	spec := keystore.Spec{Name: "web", Scopes: []string{"odoo:res.partner:read"}, CredentialID: h.CredIDs["default"]}

	rec, k, err := h.Store.Create(ctx, "test", spec)
	if err != nil {
		t.Fatal(err)
	}
	session := webSession(t, h, k.Reveal())
	if name, n := post(session); name != "" || n == 0 {
		t.Fatalf("call_kw of a live key: error %q, %d calls to Odoo", name, n)
	}
	if _, err := h.Store.Revoke(ctx, "test", rec.ID); err != nil {
		t.Fatal(err)
	}
	if name, n := post(session); name == "" || n != 0 {
		t.Errorf("call_kw after the key was revoked: error %q, %d calls to Odoo; want a refusal, none", name, n)
	}

	spec.RateLimits = []string{"2/1m"}
	_, k, err = h.Store.Create(ctx, "test", spec)
	if err != nil {
		t.Fatal(err)
	}
	session = webSession(t, h, k.Reveal()) // authenticate spends the first
	if name, _ := post(session); name != "" {
		t.Fatalf("second request of 2/1m refused: %q", name)
	}
	if name, n := post(session); name == "" || n != 0 {
		t.Errorf("third request of 2/1m: error %q, %d calls to Odoo; want a refusal, none", name, n)
	}
}
