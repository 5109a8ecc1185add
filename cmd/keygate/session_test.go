package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/internal/odootest"
	"github.com/keygate/keygate/internal/testenv"
)

// webCall posts a session-API call with the cookie, and returns the
// answer's envelope and the session cookie it set, if any.
func webCall(t testing.TB, url, cookie string, params any) (map[string]any, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": "call", "id": 1, "params": params})
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: "session_id", Value: cookie})
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		t.Fatal(err)
	}
	set := ""
	for _, c := range resp.Cookies() {
		if c.Name == "session_id" {
			set = c.Value
		}
	}
	return env, set
}

// webOutcome is what a session client sees of an answer: the result, or the
// error's class.
func webOutcome(env map[string]any) any {
	if _, ok := env["error"].(map[string]any); ok {
		return errName(env)
	}
	return env["result"]
}

// TestSessionsAcrossReplicas: two keygate replicas on one Postgres. A web
// session made on one works on the other; revoking its key ends it on
// both at once; destroy on one ends it on both.
func TestSessionsAcrossReplicas(t *testing.T) {
	_, srv := odootest.NewServer(t, odootest.Config{})
	env := []string{"KEYGATE_DATABASE_URL=" + testenv.Postgres(t), "KEYGATE_ODOO_URL=" + srv.URL, "KEYGATE_ODOO_DB=odoo_test",
		"KEYGATE_ODOO_LOGIN=admin", "KEYGATE_ODOO_PASSWORD=" + odootest.KeyGlobal}
	one, two := start(t, env...), start(t, env...)
	_, key, _ := call(t, "POST", one.admin+"/admin/v1/keys", testToken, `{"name":"rpc","scopes":["odoo:res.partner:read"]}`)
	plain, id := key["key"].(string), key["id"].(string)
	audit.secret(plain)
	search := map[string]any{"model": "res.partner", "method": "search_read", "args": []any{[]any{[]any{"id", "=", 1}}}, "kwargs": map[string]any{"fields": []string{"name"}}}
	login := map[string]any{"db": "odoo_test", "login": "any", "password": plain}

	auth, cookie := webCall(t, one.public+"/web/session/authenticate", "", login)
	audit.secret(cookie)
	onOther, _ := webCall(t, two.public+"/web/dataset/call_kw/res.partner/search_read", cookie, search)
	info, _ := webCall(t, two.public+"/web/session/get_session_info", cookie, map[string]any{})
	yourCompany := []any{map[string]any{"id": 1.0, "name": "YourCompany"}}
	got := []any{webOutcome(auth).(map[string]any)["uid"], webOutcome(onOther), webOutcome(info).(map[string]any)["uid"]}
	if diff := cmp.Diff([]any{2.0, yourCompany, 2.0}, got); diff != "" || len(cookie) != 84 {
		t.Fatalf("uid, call_kw and session info on the other replica (-want +got):\n%s\ncookie %q", diff, cookie)
	}

	if status, _, _ := call(t, "POST", two.admin+"/admin/v1/keys/"+id+"/revoke", testToken, ""); status != http.StatusOK {
		t.Fatalf("revoke: %d", status)
	}
	afterOne, _ := webCall(t, one.public+"/web/dataset/call_kw", cookie, search)
	afterTwo, _ := webCall(t, two.public+"/web/dataset/call_kw", cookie, search)
	expired := "odoo.http.SessionExpiredException"
	if diff := cmp.Diff([]any{expired, expired}, []any{webOutcome(afterOne), webOutcome(afterTwo)}); diff != "" {
		t.Errorf("after revoking the key, on both replicas (-want +got):\n%s", diff)
	}

	_, key2, _ := call(t, "POST", one.admin+"/admin/v1/keys", testToken, `{"name":"rpc2","scopes":["odoo:res.partner:read"]}`)
	plain2 := key2["key"].(string)
	audit.secret(plain2)
	_, cookie2 := webCall(t, two.public+"/web/session/authenticate", "", map[string]any{"db": "x", "login": "x", "password": plain2})
	audit.secret(cookie2)
	destroyed, _ := webCall(t, one.public+"/web/session/destroy", cookie2, map[string]any{})
	afterDestroy, _ := webCall(t, two.public+"/web/dataset/call_kw", cookie2, search)
	if _, hasResult := destroyed["result"]; hasResult || destroyed["error"] != nil || webOutcome(afterDestroy) != expired {
		t.Errorf("destroy on one replica: %v; then call_kw on the other: %v, want SessionExpired", destroyed, afterDestroy)
	}
}
