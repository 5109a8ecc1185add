package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/internal/odootest"
)

// jsonrpc posts one Odoo JSON-RPC call and returns the decoded envelope.
func jsonrpc(t testing.TB, url, service, method string, args ...any) map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": "call", "id": 1,
		"params": map[string]any{"service": service, "method": method, "args": args}})
	resp, err := http.Post(url+"/jsonrpc", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("jsonrpc %s.%s: %v", service, method, err)
	}
	return out
}

// The wired binary speaks Odoo's JSON-RPC with the key as the password and
// calls the double as the configured service account.
func TestGatewayThroughServe(t *testing.T) {
	double, srv := odootest.NewServer(t, odootest.Config{})
	k := start(t, "KEYGATE_DATABASE_URL="+sqliteURL(t), "KEYGATE_ODOO_URL="+srv.URL, "KEYGATE_ODOO_DB=odoo_test",
		"KEYGATE_ODOO_LOGIN=admin", "KEYGATE_ODOO_PASSWORD="+odootest.KeyGlobal)
	_, key, _ := call(t, "POST", k.admin+"/admin/v1/keys", testToken, `{"name":"shop","scopes":["odoo:res.partner:read"]}`)
	plain := key["key"].(string)
	uid := jsonrpc(t, k.public, "common", "authenticate", "anything", "partner", plain, map[string]any{})
	direct := jsonrpc(t, srv.URL, "object", "execute_kw", "odoo_test", 2, odootest.KeyGlobal, "res.partner", "search_count", []any{[]any{}})
	before := len(double.Calls())
	via := jsonrpc(t, k.public, "object", "execute_kw", "whatever", uid["result"], plain, "res.partner", "search_count", []any{[]any{}})
	if diff := cmp.Diff(direct["result"], via["result"]); diff != "" || uid["result"] != float64(2) {
		t.Errorf("uid %v; search_count through keygate vs direct (-direct +keygate):\n%s", uid["result"], diff)
	}
	refused := jsonrpc(t, k.public, "object", "execute_kw", "x", 2, plain, "res.partner", "create", []any{map[string]any{"name": "n"}})
	wrong := jsonrpc(t, k.public, "object", "execute_kw", "x", 2, "kg_wrong", "res.partner", "search_count", []any{[]any{}})
	got := []any{errName(refused), errName(wrong), len(double.Calls()) - before}
	want := []any{"odoo.exceptions.AccessError", "odoo.exceptions.AccessDenied", 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("unscoped create, wrong key, calls that reached Odoo (-want +got):\n%s", diff)
	}
	if strings.Contains(k.logs.String(), odootest.KeyGlobal) || strings.Contains(k.logs.String(), plain) {
		t.Error("the log holds the Odoo password or the partner's key")
	}
}

func errName(env map[string]any) any {
	e, _ := env["error"].(map[string]any)
	d, _ := e["data"].(map[string]any)
	return d["name"]
}

func stringsReader(s string) io.Reader { return strings.NewReader(s) }

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }

// The REST facade through the wired binary: list, create, read back, and
// the OpenAPI document, with a key scoped to read and create.
func TestRESTThroughServe(t *testing.T) {
	_, srv := odootest.NewServer(t, odootest.Config{})
	k := start(t, "KEYGATE_DATABASE_URL="+sqliteURL(t), "KEYGATE_ODOO_URL="+srv.URL, "KEYGATE_ODOO_DB=odoo_test",
		"KEYGATE_ODOO_LOGIN=admin", "KEYGATE_ODOO_PASSWORD="+odootest.KeyGlobal)
	_, key, _ := call(t, "POST", k.admin+"/admin/v1/keys", testToken, `{"name":"shop","scopes":["odoo:res.partner:read","odoo:res.partner:create"]}`)
	plain := key["key"].(string)
	listStatus, list, _ := call(t, "GET", k.public+"/api/v1/partners?limit=2", plain, "")
	createStatus, created, hdr := call(t, "POST", k.public+"/api/v2/partners", plain, `{"name":"Ada","email":"ada@example.com"}`)
	data, _ := created["data"].(map[string]any)
	getStatus, got, _ := call(t, "GET", k.public+"/api/v1/partners/"+fmt.Sprint(data["id"]), plain, "")
	delStatus, _, _ := call(t, "DELETE", k.public+"/api/v2/partners/1", plain, "")
	docStatus, doc, _ := call(t, "GET", k.public+"/api/openapi.json", "", "")
	statuses := []int{listStatus, createStatus, getStatus, delStatus, docStatus}
	if diff := cmp.Diff([]int{200, 201, 200, 403, 200}, statuses); diff != "" {
		t.Fatalf("list, create, get, unscoped delete, openapi (-want +got):\n%s", diff)
	}
	want := map[string]any{"data": map[string]any{"id": data["id"], "name": "Ada", "email": "ada@example.com"}}
	if diff := cmp.Diff(want, got); diff != "" || hdr.Get("Location") == "" || len(list["data"].([]any)) != 2 {
		t.Errorf("read back (-want +got):\n%s; Location %q; list %v", diff, hdr.Get("Location"), list)
	}
	if doc["openapi"] != "3.1.0" {
		t.Errorf("openapi document version %v", doc["openapi"])
	}
}
