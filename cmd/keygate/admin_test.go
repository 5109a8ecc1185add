package main

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/internal/testenv"
)

func TestAdminAPI(t *testing.T) {
	for name, url := range map[string]string{"sqlite": sqliteURL(t), "postgres": testenv.Postgres(t)} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testAdminAPI(t, start(t, "KEYGATE_DATABASE_URL="+url))
		})
	}
}

func testAdminAPI(t *testing.T, k *instance) {
	api := k.admin + "/admin/v1"
	status, created, hdr := call(t, "POST", api+"/keys", testToken,
		`{"name":"shop","owner":"partner-42","scopes":["odoo:res.partner:read"],"rate_limits":["10/1s"],"ip_allowlist":["203.0.113.0/24"],"ttl":"720h","metadata":{"tier":"gold"}}`)
	if status != http.StatusCreated || created["key"] == nil || hdr.Get("Location") == "" {
		t.Fatalf("create: %d %v", status, created)
	}
	id, plaintext := created["id"].(string), created["key"].(string)
	if _, has := created["hash"]; has {
		t.Error("the key object carries the hash")
	}
	_, adminKey, _ := call(t, "POST", api+"/keys", testToken, `{"name":"ops","scopes":["admin"]}`)
	big := `{"name":"` + strings.Repeat("x", 70<<10) + `"}`
	cases := []struct {
		name, method, path, token, body string
		want                            int
	}{
		{"no_credential_is_401", "GET", "/keys", "", "", 401},
		{"wrong_token_is_401", "GET", "/keys", "wrong-token-wrong-token-wrong-token", "", 401},
		{"key_without_admin_scope_is_403", "GET", "/keys", plaintext, "", 403},
		{"admin_key_is_accepted", "GET", "/keys", adminKey["key"].(string), "", 200},
		{"get_is_200", "GET", "/keys/" + id, testToken, "", 200},
		{"get_missing_is_404", "GET", "/keys/nope", testToken, "", 404},
		{"list_filter_owner", "GET", "/keys?owner=partner-42&status=active", testToken, "", 200},
		{"list_bad_status_is_400", "GET", "/keys?status=gone", testToken, "", 400},
		{"list_bad_page_is_400", "GET", "/keys?page=0", testToken, "", 400},
		{"unknown_field_is_400", "POST", "/keys", testToken, `{"name":"a","colour":"red"}`, 400},
		{"malformed_json_is_400", "POST", "/keys", testToken, `{"name":`, 400},
		{"trailing_data_is_400", "POST", "/keys", testToken, `{"name":"a"} {}`, 400},
		{"wrong_type_is_400", "POST", "/keys", testToken, `{"name":5}`, 400},
		{"oversize_body_is_413", "POST", "/keys", testToken, big, 413},
		{"missing_name_is_422", "POST", "/keys", testToken, `{"scopes":["admin"]}`, 422},
		{"bad_rate_limit_is_422", "POST", "/keys", testToken, `{"name":"a","rate_limits":["lots"]}`, 422},
		{"ttl_and_expires_at_is_422", "POST", "/keys", testToken, `{"name":"a","ttl":"1h","expires_at":"2030-01-01T00:00:00Z"}`, 422},
		{"patch_is_200", "PATCH", "/keys/" + id, testToken, `{"name":"shop2","ip_allowlist":null}`, 200},
		{"patch_null_name_is_422", "PATCH", "/keys/" + id, testToken, `{"name":null}`, 422},
		{"patch_missing_is_404", "PATCH", "/keys/nope", testToken, `{"name":"x"}`, 404},
		{"usage_is_200", "GET", "/keys/" + id + "/usage", testToken, "", 200},
		{"audit_is_200", "GET", "/audit?key_id=" + id, testToken, "", 200},
		{"rotate_bad_grace_is_422", "POST", "/keys/" + id + "/rotate", testToken, `{"grace":"soon"}`, 422},
		{"revoke_is_200", "POST", "/keys/" + id + "/revoke", testToken, "", 200},
		{"revoke_again_is_200", "POST", "/keys/" + id + "/revoke", testToken, "", 200},
		{"rotate_revoked_is_409", "POST", "/keys/" + id + "/rotate", testToken, `{"grace":"1h"}`, 409},
		{"revoke_missing_is_404", "POST", "/keys/nope/revoke", testToken, "", 404},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, body, _ := call(t, c.method, api+c.path, c.token, c.body)
			if got != c.want {
				t.Fatalf("%s %s = %d %v, want %d", c.method, c.path, got, body, c.want)
			}
			if got >= 400 && (body["error"] == "" || body["code"] != float64(got) || body["request_id"] == "") {
				t.Errorf("error body %v: want error, code %d and request_id", body, got)
			}
		})
	}
	checkAdminAnswers(t, api, id)
}

// checkAdminAnswers looks inside the answers the table above only counted.
func checkAdminAnswers(t *testing.T, api, id string) {
	_, got, _ := call(t, "GET", api+"/keys/"+id, testToken, "")
	want := map[string]any{"name": "shop2", "owner": "partner-42", "status": "revoked", "ip_allowlist": []any{}, "metadata": map[string]any{"tier": "gold"}}
	for k, v := range want {
		if diff := cmp.Diff(v, got[k]); diff != "" {
			t.Errorf("key object %s (-want +got):\n%s", k, diff)
		}
	}
	_, list, _ := call(t, "GET", api+"/keys?owner=partner-42&limit=500", testToken, "")
	wantPage := map[string]any{"page": 1.0, "limit": 100.0, "total": 1.0, "pages": 1.0}
	if diff := cmp.Diff(wantPage, list["pagination"]); diff != "" {
		t.Errorf("pagination (-want +got):\n%s", diff)
	}
	_, audit, _ := call(t, "GET", api+"/audit?key_id="+id, testToken, "")
	var actions []string
	for _, e := range audit["data"].([]any) {
		actions = append(actions, e.(map[string]any)["action"].(string))
	}
	if diff := cmp.Diff([]string{"key.revoke", "key.update", "key.create"}, actions); diff != "" {
		t.Errorf("audit of the key, newest first (-want +got):\n%s", diff)
	}
	_, bad, _ := call(t, "POST", api+"/keys", testToken, `{"rate_limits":["lots"]}`)
	details, _ := bad["details"].(map[string]any)
	if details["name"] == nil || details["rate_limits[0]"] == nil {
		t.Errorf("422 details = %v, want an entry for name and rate_limits[0]", bad["details"])
	}
}

func TestRotateThroughAPI(t *testing.T) {
	k := start(t, "KEYGATE_DATABASE_URL="+sqliteURL(t))
	api := k.admin + "/admin/v1"
	_, old, _ := call(t, "POST", api+"/keys", testToken, `{"name":"ops","scopes":["admin"]}`)
	status, fresh, _ := call(t, "POST", api+"/keys/"+old["id"].(string)+"/rotate", testToken, `{"grace":"0s"}`)
	if status != 201 || fresh["key"] == nil || fresh["id"] == old["id"] {
		t.Fatalf("rotate = %d %v", status, fresh)
	}
	if s, _, _ := call(t, "GET", api+"/keys", old["key"].(string), ""); s != 401 {
		t.Errorf("old key after a 0s grace: %d, want 401", s)
	}
	if s, _, _ := call(t, "GET", api+"/keys", fresh["key"].(string), ""); s != 200 {
		t.Errorf("new key: %d, want 200", s)
	}
}

// 50 parallel creations and revocations through the API: no lost write,
// and the audit log holds exactly one event per change.
func TestConcurrentAdminWrites(t *testing.T) {
	k := start(t, "KEYGATE_DATABASE_URL="+testenv.Postgres(t))
	api := k.admin + "/admin/v1"
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, rec, _ := call(t, "POST", api+"/keys", testToken, fmt.Sprintf(`{"name":"k%d"}`, i))
			if status != 201 {
				t.Errorf("create: %d", status)
				return
			}
			if s, _, _ := call(t, "POST", api+"/keys/"+rec["id"].(string)+"/revoke", testToken, ""); s != 200 {
				t.Errorf("revoke: %d", s)
			}
		}()
	}
	wg.Wait()
	_, keys, _ := call(t, "GET", api+"/keys?status=revoked", testToken, "")
	_, audit, _ := call(t, "GET", api+"/audit", testToken, "")
	got := []any{keys["pagination"].(map[string]any)["total"], audit["pagination"].(map[string]any)["total"]}
	if diff := cmp.Diff([]any{50.0, 100.0}, got); diff != "" {
		t.Errorf("revoked keys, audit events (-want +got):\n%s", diff)
	}
}
