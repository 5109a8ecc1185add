package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/internal/testenv/storetest"
	"github.com/keygate/keygate/keystore"
)

func TestCredentialUpdateAndDelete(t *testing.T) {
	s := storetest.SQLite(t)
	sealer, _ := keystore.NewSealer(bytes.Repeat([]byte{3}, 32))
	vault := s.Vault(sealer)
	api := serve(t, s, vault)
	_, body := do(t, "POST", api+"/credentials", token, `{"name":"shop","url":"https://odoo.example.com","db":"prod","login":"api","password":"`+secret+`"}`)
	var cred map[string]any
	if err := json.Unmarshal([]byte(body), &cred); err != nil {
		t.Fatal(err)
	}
	id := cred["id"].(string)
	do(t, "POST", api+"/credentials", token, `{"name":"other","url":"https://odoo.example.com","db":"prod","login":"api","password":"x"}`)
	_, keyBody := do(t, "POST", api+"/keys", token, `{"name":"k","credential_id":"`+id+`"}`)
	var key map[string]any
	_ = json.Unmarshal([]byte(keyBody), &key)
	path := "/credentials/" + id
	cases := []routeCase{
		{"patch_without_credential_is_401", "PATCH", path, "", `{"db":"x"}`, 401, nil},
		{"patch_changes_the_fields_given", "PATCH", path, token, `{"url":"https://erp.example.com/","login":"bot","password":"new-secret"}`, 200,
			[]string{`"url":"https://erp.example.com"`, `"login":"bot"`, `"db":"prod"`, `"name":"shop"`}},
		{"patch_null_is_422", "PATCH", path, token, `{"name":null}`, 422, []string{`"name":"must not be null"`}},
		{"patch_wrong_type_is_422", "PATCH", path, token, `{"db":5}`, 422, []string{`"db":"has the wrong type"`}},
		{"patch_invalid_values_are_422", "PATCH", path, token, `{"url":"ftp://x","login":""}`, 422,
			[]string{`"url":"must be an absolute http:// or https:// URL"`, `"login":"is required"`}},
		{"patch_password_null_is_422", "PATCH", path, token, `{"password":null}`, 422, []string{`"password":"must not be null"`}},
		{"patch_password_empty_is_422", "PATCH", path, token, `{"password":""}`, 422, []string{`"password":"is required"`}},
		{"patch_password_over_1024_bytes_is_422", "PATCH", path, token, `{"password":"` + strings.Repeat("x", 1025) + `"}`, 422,
			[]string{`"password":"must be valid UTF-8 of at most 1024 bytes"`}},
		{"patch_url_with_userinfo_is_422", "PATCH", path, token, `{"url":"https://bot:pw@erp.example.com"}`, 422,
			[]string{`"url":"must not hold credentials, a query or a fragment"`}},
		{"patch_taken_name_is_422", "PATCH", path, token, `{"name":"other"}`, 422, []string{`"name":"is already used by another credential"`}},
		{"patch_unknown_field_is_400", "PATCH", path, token, `{"secret":"x"}`, 400, []string{"unknown field"}},
		{"patch_two_objects_is_400", "PATCH", path, token, `{} {}`, 400, nil},
		{"patch_over_64KiB_is_413", "PATCH", path, token, `{"name":"` + strings.Repeat("x", 65<<10) + `"}`, 413, nil},
		{"patch_missing_is_404", "PATCH", "/credentials/nope", token, `{"db":"x"}`, 404, nil},
		{"delete_without_credential_is_401", "DELETE", path, "", "", 401, nil},
		{"delete_in_use_is_409", "DELETE", path, token, "", 409, []string{`"keys":1`, `"key_ids":["` + key["id"].(string) + `"]`}},
		{"revoke_the_key", "POST", "/keys/" + key["id"].(string) + "/revoke", token, "", 200, nil},
		{"delete_unused_is_204", "DELETE", path, token, "", 204, nil},
		{"delete_again_is_404", "DELETE", path, token, "", 404, nil},
		{"patch_deleted_is_404", "PATCH", path, token, `{"db":"x"}`, 404, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := c.check(t, api)
			if strings.Contains(body, "new-secret") || strings.Contains(body, secret) || strings.Contains(body, `"password":"`) && c.want < 300 {
				t.Errorf("answer carries a secret: %s", body)
			}
			if c.name == "patch_changes_the_fields_given" {
				if pw, err := vault.CredentialSecret(context.Background(), id); err != nil || pw != "new-secret" {
					t.Errorf("secret after PATCH = %q, %v; want the new one", pw, err)
				}
			}
		})
	}
	_, audit := do(t, "GET", api+"/audit", token, "")
	var page struct {
		Data []keystore.AuditEvent `json:"data"`
	}
	_ = json.Unmarshal([]byte(audit), &page)
	var got []string
	for _, e := range page.Data {
		if strings.HasPrefix(e.Action, "credential.") && e.Actor == "admin-token" {
			got = append(got, e.Action)
		}
	}
	want := []string{keystore.ActionCredentialDelete, keystore.ActionCredentialUpdate, keystore.ActionCredentialCreate, keystore.ActionCredentialCreate}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("credential audit events by admin-token, newest first (-want +got):\n%s", diff)
	}
	if strings.Contains(audit, "new-secret") {
		t.Error("the audit log holds the new password")
	}
}

func TestCredentialPasswordChangeWithoutSecretKey(t *testing.T) {
	s := storetest.SQLite(t)
	sealer, _ := keystore.NewSealer(bytes.Repeat([]byte{3}, 32))
	c, err := s.Vault(sealer).CreateCredential(context.Background(), "t", keystore.CredentialSpec{Name: "a", URL: "http://o", DB: "d", Login: "l"}, "p")
	if err != nil {
		t.Fatal(err)
	}
	api := serve(t, s, s.Vault(nil))
	if got, body := do(t, "PATCH", api+"/credentials/"+c.ID, token, `{"password":"x"}`); got != 503 || !strings.Contains(body, "KEYGATE_SECRET_KEY") {
		t.Errorf("PATCH of a password without the secret key = %d %s, want 503 naming KEYGATE_SECRET_KEY", got, body)
	}
	if got, body := do(t, "PATCH", api+"/credentials/"+c.ID, token, `{"db":"prod"}`); got != 200 {
		t.Errorf("PATCH of the db without the secret key = %d %s, want 200", got, body)
	}
}
