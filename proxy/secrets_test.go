package proxy_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/keygate/keygate/internal/gatewaytest"
	"github.com/keygate/keygate/internal/odootest"
	"github.com/keygate/keygate/keystore"
	"github.com/keygate/keygate/odoo"
)

// TestSecretsNeverLogged drives the gateway through successes and every
// kind of failure, then reads every log line: no keygate key, no Odoo
// password or API key, no Authorization header may be in them. The
// access log names the key by id and owner.
func TestSecretsNeverLogged(t *testing.T) {
	h := newHarness(t, gatewaytest.Options{Timeout: 300 * time.Millisecond})
	const distinct = "Odoo-Password-0f1e2d3c4b5a69788796a5b4c3d2e1f0"
	c, err := h.Vault.CreateCredential(ctx, "test", keystore.CredentialSpec{Name: "refused", URL: h.OdooURL, DB: "odoo_test", Login: "admin"}, distinct)
	if err != nil {
		t.Fatal(err)
	}
	h.CredIDs["refused"] = &c.ID
	good := h.Key(t, "default", "odoo:res.partner:read")
	refused := h.Key(t, "refused", "odoo:res.partner:read")
	revokedRec, revoked, _ := h.Store.Create(ctx, "test", keystore.Spec{Name: "r", Scopes: []string{"odoo:*:*"}})
	if _, err := h.Store.Revoke(ctx, "test", revokedRec.ID); err != nil {
		t.Fatal(err)
	}
	unknown := gatewaytest.UnknownKey(t)
	for _, key := range []string{good, refused, revoked.Reveal(), unknown, "kg_malformed"} {
		gatewaytest.Post(t, h.URL+"/jsonrpc", "application/json", searchCount(key))
		gatewaytest.Post(t, h.URL+"/xmlrpc/2/object", "text/xml", searchCountXML(t, key))
		gatewaytest.Post(t, h.URL+"/jsonrpc", "application/json", searchCount("x"), "Authorization", "Bearer "+key)
		auth, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": "call", "params": map[string]any{
			"service": "common", "method": "authenticate", "args": []any{"odoo_test", "admin", key, map[string]any{}}}})
		gatewaytest.Post(t, h.URL+"/jsonrpc", "application/json", auth)
	}
	h.Odoo.SetHang(true)
	gatewaytest.Post(t, h.URL+"/jsonrpc", "application/json", searchCount(good))
	h.Odoo.SetHang(false)
	logs := h.Logs.String()
	for _, secret := range []string{good, refused, revoked.Reveal(), unknown, odootest.KeyGlobal, distinct, "Bearer", "Authorization"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs hold %q", keystore.DisplayPrefix(secret))
		}
	}
	for _, want := range []string{`"key_id":"`, `"owner":"partner-42"`, `"msg":"odoo call failed"`, `"msg":"odoo refused the service account"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("the logs lack %s", want)
		}
	}
}

// TestAccountNeverPrintsItsPassword: however an Account or its Secret is
// printed, logged or marshalled, the password stays out.
func TestAccountNeverPrintsItsPassword(t *testing.T) {
	const pw = "the-odoo-api-key-0123456789"
	a := odoo.Account{Name: "default", URL: "https://odoo.example.com", DB: "prod", Login: "api", Password: pw}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "account", a, "password", a.Password)
	js, _ := json.Marshal(a)
	for _, out := range []string{fmt.Sprint(a), fmt.Sprintf("%v %+v %#v %s", a, a, a, a.Password), logs.String(), string(js)} {
		if strings.Contains(out, pw) {
			t.Errorf("printed the password: %s", out)
		}
	}
	if a.Password.Reveal() != pw {
		t.Error("Reveal lost the password")
	}
}
