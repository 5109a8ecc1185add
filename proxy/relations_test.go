package proxy_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/keygate/keygate/internal/callgen"
	"github.com/keygate/keygate/internal/gatewaytest"
	"github.com/keygate/keygate/internal/odootest"
	"github.com/keygate/keygate/odoo/xmlrpc"
)

// The attacks of issue 11, tried through keygate against the double with
// keys that hold only res.partner scopes: each must be refused, naming the
// scope it lacks, with nothing reaching Odoo; and each must go through to
// Odoo once the key also holds that scope.

// attack is one call and the scope it needs beyond the partner's.
type attack struct {
	name          string
	scopes        []string // what the key holds
	needs         string   // the scope the refusal names
	also          []string // with needs, what lets the call through
	model, method string
	args, kwargs  string // JSON
	// unknownModel: the double does not describe a model the call
	// reaches, so keygate cannot check it even with every scope.
	unknownModel bool
}

var attacks = []attack{
	{name: "create_an_administrator_through_user_ids", scopes: []string{"odoo:res.partner:create"}, needs: "odoo:res.users:create",
		model: "res.partner", method: "create",
		args: `[{"name": "p", "user_ids": [[0, 0, {"name": "u", "login": "x", "password": "pw-x-123456", "groups_id": [[6, 0, [4, 1]]]}]]}]`},
	{name: "reset_a_password_through_user_ids", scopes: []string{"odoo:res.partner:write"}, needs: "odoo:res.users:write",
		model: "res.partner", method: "write", args: `[[7], {"user_ids": [[1, 6, {"password": "pw-y-123456"}]]}]`},
	{name: "delete_a_contact_through_child_ids", scopes: []string{"odoo:res.partner:write"}, needs: "odoo:res.partner:unlink",
		model: "res.partner", method: "write", args: `[[9], {"child_ids": [[2, 17]]}]`},
	{name: "create_a_tag_through_category_id", scopes: []string{"odoo:res.partner:create"}, needs: "odoo:res.partner.category:create",
		model: "res.partner", method: "create", args: `[{"name": "p", "category_id": [[0, 0, {"name": "Attack Tag"}]]}]`},
	{name: "create_a_tag_in_a_write", scopes: []string{"odoo:res.partner:write"}, needs: "odoo:res.partner.category:create",
		model: "res.partner", method: "write", args: `[[9], {"category_id": [[0, 0, {"name": "Attack Tag"}]]}]`},
	{name: "create_a_bank_account_through_bank_ids", scopes: []string{"odoo:res.partner:create"}, needs: "odoo:res.partner.bank:create",
		model: "res.partner", method: "create", args: `[{"name": "p", "bank_ids": [[0, 0, {"acc_number": "BE71096123456769"}]]}]`},
	{name: "read_a_login_through_a_dotted_domain", scopes: []string{"odoo:res.partner:read"}, needs: "odoo:res.users:read",
		model: "res.partner", method: "search_count", args: `[[["id", "=", 7], ["user_ids.login", "=like", "d%"]]]`},
	{name: "read_groups_through_a_two_level_path", scopes: []string{"odoo:res.partner:read"}, needs: "odoo:res.users:read",
		also: []string{"odoo:res.groups:read"}, model: "res.partner", method: "search_count", args: `[[["user_ids.groups_id.name", "=", "Settings"]]]`},
	{name: "read_api_keys_through_a_two_level_path", scopes: []string{"odoo:res.partner:read"}, needs: "odoo:res.users:read",
		also: []string{"odoo:res.users.apikeys:read"}, unknownModel: true,
		model: "res.partner", method: "search_count", args: `[[["user_ids.api_key_ids.name", "!=", false]]]`},
	{name: "read_messages_through_message_ids", scopes: []string{"odoo:res.partner:read"}, needs: "odoo:mail.message:read",
		model: "res.partner", method: "search_count", args: `[[["message_ids.body", "ilike", "a"]]]`},
	{name: "read_logins_through_name_search", scopes: []string{"odoo:res.partner:read"}, needs: "odoo:res.users:read",
		model: "res.partner", method: "name_search", args: `[""]`, kwargs: `{"args": [["user_ids.login", "=like", "a%"]]}`},
	{name: "read_logins_through_read_group", scopes: []string{"odoo:res.partner:read"}, needs: "odoo:res.users:read",
		model: "res.partner", method: "read_group", args: `[[], ["create_uid"], ["create_uid.login"]]`},
	{name: "read_logins_through_a_specification", scopes: []string{"odoo:res.partner:call:web_search_read"}, needs: "odoo:res.users:read",
		model: "res.partner", method: "web_search_read",
		kwargs: `{"domain": [], "specification": {"name": {}, "user_ids": {"fields": {"login": {}}}}}`},
	{name: "read_logins_through_export_data", scopes: []string{"odoo:res.partner:call:export_data"}, needs: "odoo:res.users:read",
		model: "res.partner", method: "export_data", args: `[[3], ["name", "user_ids/login"]]`},
	{name: "default_keys_in_the_context", scopes: []string{"odoo:res.partner:create"}, needs: "odoo:res.partner:context",
		model: "res.partner", method: "create", args: `[{"name": "p"}]`, kwargs: `{"context": {"default_user_ids": [[0, 0, {"login": "z"}]]}}`},
}

// protocols are the three ways in of the gateway.
var protocols = []string{"jsonrpc", "xmlrpc", "xmlrpc-legacy"}

// relationsHarness is the gateway over a double, its metadata cache
// warmed with the fields of the fixtures' models for the default account,
// then the double reset: the calls it records afterwards are the
// partner's only.
func relationsHarness(t *testing.T) *harness {
	t.Helper()
	h := newHarness(t, gatewaytest.Options{})
	acct := h.Accts["default"]
	for _, m := range []string{"res.partner", "res.users", "res.partner.category", "res.partner.bank", "res.country",
		"res.company", "res.groups", "res.currency", "ir.config_parameter", "mail.message"} {
		if _, err := h.Gateway.Client().Fields(ctx, acct, m); err != nil {
			t.Fatalf("fields of %s: %v", m, err)
		}
	}
	h.Warm(t)
	return h
}

// rpc sends an object.execute_kw call over proto with key as password,
// its args and kwargs in JSON.
func (h *harness) rpc(t *testing.T, proto, key, model, method, args, kwargs string) gatewaytest.Exchange {
	t.Helper()
	return h.rpcValues(t, proto, key, model, method, jsonValue(t, args, "[]"), jsonValue(t, kwargs, "{}"))
}

// rpcValues is rpc with decoded args and kwargs (nil: empty).
func (h *harness) rpcValues(t *testing.T, proto, key, model, method string, a any, kw any) gatewaytest.Exchange {
	t.Helper()
	if l, ok := a.([]any); a == nil || ok && l == nil {
		a = []any{}
	}
	if m, ok := kw.(map[string]any); kw == nil || ok && m == nil {
		kw = map[string]any{}
	}
	params := []any{"odoo_test", int64(2), key, model, method, a, kw}
	if proto == "jsonrpc" {
		b, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": "call", "id": 1,
			"params": map[string]any{"service": "object", "method": "execute_kw", "args": params}})
		if err != nil {
			t.Fatal(err)
		}
		return gatewaytest.Post(t, h.URL+"/jsonrpc", "application/json", b)
	}
	var buf bytes.Buffer
	if err := xmlrpc.EncodeCall(&buf, xmlrpc.Call{Method: "execute_kw", Params: params}); err != nil {
		t.Fatal(err)
	}
	path := "/xmlrpc/2/object"
	if proto == "xmlrpc-legacy" {
		path = "/xmlrpc/object"
	}
	return gatewaytest.Post(t, h.URL+path, "text/xml", buf.Bytes())
}

// jsonValue decodes s (def when empty) into values both codecs carry:
// whole numbers as int64.
func jsonValue(t *testing.T, s, def string) any {
	t.Helper()
	if s == "" {
		s = def
	}
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return int64s(v)
}

func int64s(v any) any {
	switch v := v.(type) {
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		f, _ := v.Float64()
		return f
	case []any:
		for i := range v {
			v[i] = int64s(v[i])
		}
	case map[string]any:
		for k := range v {
			v[k] = int64s(v[k])
		}
	}
	return v
}

// accessErrorText returns the message of an Odoo-shaped AccessError in
// proto's shape, failing the test for any other answer.
func accessErrorText(t *testing.T, proto string, x gatewaytest.Exchange) string {
	t.Helper()
	if x.Status != 200 {
		t.Fatalf("status %d, want 200: %s", x.Status, x.Body)
	}
	if proto == "jsonrpc" {
		var a struct {
			Error *struct {
				Code int
				Data struct{ Name, Message string }
			}
		}
		if err := json.Unmarshal(x.Body, &a); err != nil || a.Error == nil || a.Error.Data.Name != "odoo.exceptions.AccessError" {
			t.Fatalf("got %s, want an Odoo AccessError", x.Body)
		}
		return a.Error.Data.Message
	}
	_, err := xmlrpc.DecodeResponse(bytes.NewReader(x.Body))
	f, _ := err.(*xmlrpc.Fault)
	switch {
	case f == nil:
		t.Fatalf("got %s, want a fault", x.Body)
	case proto == "xmlrpc" && f.Code == int64(4):
		return f.String
	case proto == "xmlrpc-legacy":
		if code, ok := f.Code.(string); ok && strings.HasPrefix(code, "warning -- AccessError\n\n") {
			return code
		}
	}
	t.Fatalf("got fault %v %q, want an AccessError fault", f.Code, f.String)
	return ""
}

// TestRelationsAttacksRefused: each attack, on each protocol, is an
// AccessError naming the missing scope, and nothing reaches Odoo.
func TestRelationsAttacksRefused(t *testing.T) {
	h := relationsHarness(t)
	for _, proto := range protocols {
		for _, a := range attacks {
			t.Run(proto+"/"+a.name, func(t *testing.T) {
				h.Odoo.Reset()
				key := h.Key(t, "default", a.scopes...)
				msg := accessErrorText(t, proto, h.rpc(t, proto, key, a.model, a.method, a.args, a.kwargs))
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

// TestRelationsAttacksAllowedWithTheScope: the same calls go through,
// once, when the key also holds the scope the refusal named.
func TestRelationsAttacksAllowedWithTheScope(t *testing.T) {
	h := relationsHarness(t)
	for _, proto := range protocols {
		for _, a := range attacks {
			t.Run(proto+"/"+a.name, func(t *testing.T) {
				h.Odoo.Reset()
				key := h.Key(t, "default", slices.Concat(a.scopes, []string{a.needs}, a.also)...)
				x := h.rpc(t, proto, key, a.model, a.method, a.args, a.kwargs)
				if a.unknownModel {
					msg := accessErrorText(t, proto, x)
					if !strings.Contains(msg, "keygate cannot check this call: Odoo did not describe the fields") {
						t.Errorf("got %q, want keygate's refusal of a model whose fields it cannot learn", msg)
					}
					return
				}
				if bytes.Contains(x.Body, []byte("this key needs")) {
					t.Fatalf("refused with the scope: %s", x.Body)
				}
				var reached []string
				for _, c := range h.Odoo.Calls() {
					if c.ModelMethod != "fields_get" {
						reached = append(reached, c.Model+"."+c.ModelMethod)
					}
				}
				if want := []string{a.model + "." + a.method}; !slices.Equal(reached, want) {
					t.Errorf("calls that reached Odoo: %v, want %v (answer %s)", reached, want, x.Body)
				}
			})
		}
	}
}

// TestRelationsNestedUserCreate: what the first attack does when it is
// allowed, and that nothing of it exists when it is refused.
func TestRelationsNestedUserCreate(t *testing.T) {
	h := relationsHarness(t)
	a := attacks[0]
	hasUser := func() bool {
		users, err := h.Odoo.Records("res.users")
		if err != nil {
			t.Fatal(err)
		}
		return slices.ContainsFunc(users, func(u odootest.Object) bool {
			login, _ := u.Get("login")
			return fmt.Sprint(login) == "x"
		})
	}
	h.Odoo.Reset()
	h.rpc(t, "jsonrpc", h.Key(t, "default", a.scopes...), a.model, a.method, a.args, a.kwargs)
	if hasUser() {
		t.Fatal("refused, yet the user exists")
	}
	h.rpc(t, "jsonrpc", h.Key(t, "default", append(slices.Clone(a.scopes), a.needs)...), a.model, a.method, a.args, a.kwargs)
	if !hasUser() {
		t.Error("allowed with odoo:res.users:create, yet no user x")
	}
}

// TestRelationsNoOverBlocking: a partner key's everyday calls still pass
// with partner scopes only: the README's XML-RPC snippet, CRUD with a
// country, tags linked with (6, 0, ids) and (4, id), many2one values,
// plain domains and read_group by a many2one.
func TestRelationsNoOverBlocking(t *testing.T) {
	h := relationsHarness(t)
	crud := []string{"odoo:res.partner:read", "odoo:res.partner:create", "odoo:res.partner:write", "odoo:res.partner:unlink"}
	calls := []struct{ name, method, args, kwargs string }{
		{"readme_search_read", "search_read", `[[["is_company", "=", true]]]`, `{"fields": ["name", "email"], "limit": 5}`},
		{"create_with_country_and_tags", "create", `[{"name": "Shop", "email": "shop@example.com", "country_id": 20, "category_id": [[6, 0, [1, 2]]]}]`, ""},
		{"write_tags_link_and_country", "write", `[[9], {"category_id": [[4, 3]], "country_id": 233, "city": "Fremont"}]`, ""},
		{"read_with_many2one", "read", `[[9], ["name", "country_id", "category_id", "parent_id"]]`, `{"context": {"lang": "en_US"}}`},
		{"search_count_child_of", "search_count", `[[["id", "child_of", 9]]]`, ""},
		{"read_group_by_country", "read_group", `[[], ["country_id"], ["country_id"]]`, `{"lazy": false}`},
		{"unlink", "unlink", `[[17]]`, ""},
	}
	for _, proto := range protocols {
		for _, c := range calls {
			t.Run(proto+"/"+c.name, func(t *testing.T) {
				h.Odoo.Reset()
				x := h.rpc(t, proto, h.Key(t, "default", crud...), "res.partner", c.method, c.args, c.kwargs)
				if bytes.Contains(x.Body, []byte("keygate")) {
					t.Fatalf("refused: %s", x.Body)
				}
				calls := h.Odoo.Calls()
				if len(calls) != 1 || calls[0].ModelMethod != c.method {
					t.Errorf("calls that reached Odoo: %+v, want the one %s (answer %s)", calls, c.method, x.Body)
				}
			})
		}
	}
}

// TestRelationsSQLErrorCut: Odoo's database error for a value the column
// cannot take quotes the generated SQL; a partner sees its first line
// only, on every protocol.
func TestRelationsSQLErrorCut(t *testing.T) {
	h := relationsHarness(t)
	key := h.Key(t, "default", "odoo:res.partner:read")
	for _, proto := range protocols {
		t.Run(proto, func(t *testing.T) {
			x := h.rpc(t, proto, key, "res.partner", "search", `[[["id", "=", "abc"]]]`, "")
			if !bytes.Contains(x.Body, []byte(`invalid input syntax for type integer`)) {
				t.Fatalf("got %s, want Odoo's database error", x.Body)
			}
			for _, sql := range []string{"res_partner", "LINE 1", "Traceback"} {
				if bytes.Contains(x.Body, []byte(sql)) {
					t.Errorf("the answer quotes %q:\n%s", sql, x.Body)
				}
			}
		})
	}
}

// TestRelationsExecuteRefused: object.execute (positional arguments, no
// kwargs) is checked as execute_kw is, on JSON-RPC and XML-RPC.
func TestRelationsExecuteRefused(t *testing.T) {
	h := relationsHarness(t)
	key := h.Key(t, "default", "odoo:res.partner:create", "odoo:res.partner:write")
	vals := map[string]any{"name": "p", "user_ids": []any{[]any{int64(0), int64(0), map[string]any{"login": "x", "name": "x"}}}}
	for _, proto := range protocols {
		t.Run(proto, func(t *testing.T) {
			h.Odoo.Reset()
			params := []any{"odoo_test", int64(2), key, "res.partner", "write", []any{int64(9)}, vals}
			var x gatewaytest.Exchange
			if proto == "jsonrpc" {
				b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": "call", "id": 1,
					"params": map[string]any{"service": "object", "method": "execute", "args": params}})
				x = gatewaytest.Post(t, h.URL+"/jsonrpc", "application/json", b)
			} else {
				var buf bytes.Buffer
				if err := xmlrpc.EncodeCall(&buf, xmlrpc.Call{Method: "execute", Params: params}); err != nil {
					t.Fatal(err)
				}
				path := map[string]string{"xmlrpc": "/xmlrpc/2/object", "xmlrpc-legacy": "/xmlrpc/object"}[proto]
				x = gatewaytest.Post(t, h.URL+path, "text/xml", buf.Bytes())
			}
			if msg := accessErrorText(t, proto, x); !strings.Contains(msg, "this key needs odoo:res.users:create (field user_ids of res.partner)") {
				t.Errorf("refusal %q does not name odoo:res.users:create", msg)
			}
			if calls := h.Odoo.Calls(); len(calls) > 0 {
				t.Errorf("%d calls reached Odoo, want none", len(calls))
			}
		})
	}
}

// TestRelationsProperty: random calls (callgen: nested x2many command
// trees, dotted domains with any sub-domains and child_of, random keys)
// sent through the gateway to the double, alternating the protocols. A
// call whose models and operations are not all covered by the key's
// scopes is refused and nothing of it reaches Odoo; a covered one
// reaches Odoo, once.
func TestRelationsProperty(t *testing.T) {
	h := relationsHarness(t)
	const runs = 150
	allowed := 0
	for seed := range uint64(runs) {
		g := callgen.New(seed, callgen.Odoo18())
		scopes := g.Scopes()
		c := g.Call()
		missing := g.Missing(scopes)
		if own := "odoo:" + c.Model + ":" + c.Op; !slices.Contains(scopes, own) {
			missing = append(missing, own)
		}
		proto := protocols[seed%uint64(len(protocols))]
		h.Odoo.Reset()
		x := h.rpcValues(t, proto, h.Key(t, "default", scopes...), c.Model, c.Method, c.Args, c.Kwargs)
		calls := h.Odoo.Calls()
		if len(missing) > 0 {
			accessErrorText(t, proto, x)
			if len(calls) > 0 {
				t.Fatalf("seed %d (%s): %s.%s reached Odoo, but the key lacks %v\nargs %v\nkwargs %v", seed, proto, c.Model, c.Method, missing, c.Args, c.Kwargs)
			}
			continue
		}
		allowed++
		if len(calls) != 1 || calls[0].Model != c.Model || calls[0].ModelMethod != c.Method {
			t.Fatalf("seed %d (%s): %s.%s covered by the key, yet Odoo got %+v\nanswer %s", seed, proto, c.Model, c.Method, calls, x.Body)
		}
	}
	if allowed < runs/10 || allowed > runs*9/10 {
		t.Errorf("%d of %d calls allowed: the generator no longer explores both answers", allowed, runs)
	}
	t.Logf("%d of %d random calls allowed", allowed, runs)
}

// TestRelationsArgumentsKeygateCannotRead: execute_kw whose args are not
// a list or whose kwargs are not an object is refused, not passed on for
// Odoo to read its own way.
func TestRelationsArgumentsKeygateCannotRead(t *testing.T) {
	h := relationsHarness(t)
	key := h.Key(t, "default", "odoo:res.partner:create")
	for _, tc := range []struct{ name, args, kwargs, want string }{
		{"args_an_object", `{"vals_list": {"name": "p", "user_ids": [[0, 0, {"login": "x"}]]}}`, `{}`, "execute_kw's args must be a list"},
		{"kwargs_a_list", `[{"name": "p"}]`, `[{"user_ids": [[0, 0, {"login": "x"}]]}]`, "execute_kw's kwargs must be a dict"},
	} {
		for _, proto := range protocols {
			t.Run(proto+"/"+tc.name, func(t *testing.T) {
				h.Odoo.Reset()
				x := h.rpcValues(t, proto, key, "res.partner", "create", jsonValue(t, tc.args, ""), jsonValue(t, tc.kwargs, ""))
				if msg := accessErrorText(t, proto, x); !strings.Contains(msg, tc.want) {
					t.Errorf("refusal %q, want %q", msg, tc.want)
				}
				if calls := h.Odoo.Calls(); len(calls) > 0 {
					t.Errorf("%d calls reached Odoo, want none", len(calls))
				}
			})
		}
	}
}

// TestRelationsRawJSONReadAsOdooReadsIt: on an Odoo that takes JSON-RPC,
// keygate forwards execute_kw's args and kwargs as sent, so it must read
// them as Python's json.loads does: a repeated member's last value, and
// members named with \u escapes. Each call hides a reach into res.users;
// each is refused and nothing reaches Odoo.
func TestRelationsRawJSONReadAsOdooReadsIt(t *testing.T) {
	h := relationsHarness(t)
	for name, tc := range map[string]struct{ method, scope, args, kwargs string }{
		"repeated_kwarg": {"search_count", "odoo:res.partner:read", `[]`,
			`{"domain": [], "domain": [["user_ids.login", "=like", "a%"]]}`},
		"escaped_kwarg": {"search_count", "odoo:res.partner:read", `[]`,
			`{"d\u006fmain": [["user_ids.login", "=like", "a%"]]}`},
		"repeated_field": {"create", "odoo:res.partner:create",
			`[{"name": "p", "user_ids": [], "user_ids": [[0, 0, {"name": "u", "login": "x"}]]}]`, `{}`},
		"escaped_field": {"create", "odoo:res.partner:create",
			`[{"name": "p", "user_\u0069ds": [[0, 0, {"name": "u", "login": "x"}]]}]`, `{}`},
	} {
		t.Run(name, func(t *testing.T) {
			h.Odoo.Reset()
			key := h.Key(t, "default", tc.scope)
			body := `{"jsonrpc": "2.0", "method": "call", "id": 1, "params": {"service": "object", "method": "execute_kw", ` +
				`"args": ["odoo_test", 2, "` + key + `", "res.partner", "` + tc.method + `", ` + tc.args + `, ` + tc.kwargs + `]}}`
			msg := accessErrorText(t, "jsonrpc", gatewaytest.Post(t, h.URL+"/jsonrpc", "application/json", []byte(body)))
			if !strings.Contains(msg, "odoo:res.users:") {
				t.Errorf("refusal %q does not name a res.users scope", msg)
			}
			if calls := h.Odoo.Calls(); len(calls) > 0 {
				t.Errorf("%d calls reached Odoo, want none: %+v", len(calls), calls)
			}
		})
	}
}
