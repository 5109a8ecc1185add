package proxy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/internal/gatewaytest"
	"github.com/keygate/keygate/keystore"
	"github.com/keygate/keygate/odoo"
	"github.com/keygate/keygate/proxy"
)

// countingVault counts reads of a real vault, and can fail them.
type countingVault struct {
	v     *keystore.Vault
	reads atomic.Int64
	fail  error
}

func (c *countingVault) GetCredential(ctx context.Context, id string) (*keystore.Credential, error) {
	c.reads.Add(1)
	if c.fail != nil {
		return nil, c.fail
	}
	return c.v.GetCredential(ctx, id)
}

func (c *countingVault) CredentialSecret(ctx context.Context, id string) (string, error) {
	return c.v.CredentialSecret(ctx, id)
}

func TestAccounts(t *testing.T) {
	h := newHarness(t, gatewaytest.Options{})
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	vault := &countingVault{v: h.Vault}
	def := h.Accts["default"]
	accts, err := proxy.NewAccounts(proxy.AccountsConfig{Default: &def, Vault: vault, TTL: time.Minute, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	missing := "nope"
	cases := []struct {
		name string
		key  *keystore.Verified
		want odoo.Account
		err  error
	}{
		{"nil_key_is_the_default", nil, def, nil},
		{"key_without_credential_is_the_default", &keystore.Verified{}, def, nil},
		{"credential_from_the_vault", &keystore.Verified{CredentialID: h.CredIDs["demo"]}, h.Accts["demo"], nil},
		{"missing_credential", &keystore.Verified{CredentialID: &missing}, odoo.Account{}, proxy.ErrNoAccount},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := accts.Account(ctx, c.key)
			if !errors.Is(err, c.err) {
				t.Fatalf("err = %v, want %v", err, c.err)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	demo := &keystore.Verified{CredentialID: h.CredIDs["demo"]}
	before := vault.reads.Load()
	_, _ = accts.Account(ctx, demo)
	if n := vault.reads.Load() - before; n != 0 {
		t.Errorf("a cached account was read %d times from the vault", n)
	}
	now = now.Add(time.Minute)
	vault.fail = fmt.Errorf("db down: %w", keystore.ErrUnavailable)
	if _, err := accts.Account(ctx, demo); !errors.Is(err, keystore.ErrUnavailable) || errors.Is(err, proxy.ErrNoAccount) {
		t.Errorf("after the TTL with storage down: %v, want ErrUnavailable (not ErrNoAccount)", err)
	}
}

func TestAccountsWithout(t *testing.T) {
	id := "x"
	none, _ := proxy.NewAccounts(proxy.AccountsConfig{})
	for name, key := range map[string]*keystore.Verified{"no_default": nil, "no_vault": {CredentialID: &id}} {
		if _, err := none.Account(ctx, key); !errors.Is(err, proxy.ErrNoAccount) {
			t.Errorf("%s: %v, want ErrNoAccount", name, err)
		}
	}
	_, err := proxy.NewAccounts(proxy.AccountsConfig{Default: &odoo.Account{URL: "ftp://u:p@odoo"}})
	for _, want := range []string{"odoo url", "odoo db", "odoo login", "odoo password"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("invalid default account: %v, want it to name %s", err, want)
		}
	}
	if err != nil && strings.Contains(err.Error(), "u:p") {
		t.Errorf("the error shows the URL's credentials: %v", err)
	}
}

// TestClientErrors: the Client's errors as the REST facade maps them.
func TestClientErrors(t *testing.T) {
	h := newHarness(t, gatewaytest.Options{})
	c := h.Gateway.Client()
	admin, portal := h.Accts["default"], h.Accts["portal"]
	cases := []struct {
		name    string
		acct    odoo.Account
		method  string
		args    []any
		kind    odoo.Kind
		errName string
		status  int
	}{
		{"missing_record_is_404", admin, "write", []any{[]any{999999}, map[string]any{"name": "x"}}, odoo.KindMissing, "odoo.exceptions.MissingError", http.StatusNotFound},
		{"acl_is_403", portal, "create", []any{map[string]any{"name": "x"}}, odoo.KindAccessError, "odoo.exceptions.AccessError", http.StatusForbidden},
		{"constraint_is_422", admin, "create", []any{map[string]any{"email": "x@example.com"}}, odoo.KindValidation, "odoo.exceptions.ValidationError", http.StatusUnprocessableEntity},
		{"private_method_is_403", admin, "_read_group", []any{[]any{}}, odoo.KindAccessError, "odoo.exceptions.AccessError", http.StatusForbidden},
		{"bad_field_is_502", admin, "search_read", []any{[]any{}, []any{"no_such_field"}}, odoo.KindOther, "builtins.ValueError", http.StatusBadGateway},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.ExecuteKW(ctx, tc.acct, "res.partner", tc.method, tc.args, nil)
			var oe *odoo.OdooError
			if !errors.As(err, &oe) {
				t.Fatalf("err = %v, want an *OdooError", err)
			}
			type got struct {
				Kind   odoo.Kind
				Name   string
				Status int
			}
			if diff := cmp.Diff(got{tc.kind, tc.errName, tc.status}, got{oe.Kind(), oe.Name, odoo.Status(err)}); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if strings.Contains(oe.Message, "Traceback") || oe.Message == "" {
				t.Errorf("message %q", oe.Message)
			}
		})
	}
	raw, err := c.ExecuteKW(ctx, admin, "res.partner", "search_count", []any{[]any{[]any{"is_company", "=", true}}}, nil)
	if err != nil || string(raw) != "9" {
		t.Errorf("search_count = %s, %v; want 9", raw, err)
	}
	raw, err = c.ExecuteKW(ctx, admin, "res.partner", "check_access", []any{[]any{1}, "read"}, nil)
	if err != nil || string(raw) != "null" {
		t.Errorf("a None result = %s, %v; want null", raw, err)
	}
}

func TestStatusOfOtherErrors(t *testing.T) {
	cases := map[string]struct {
		err  error
		want int
	}{
		"nil":              {nil, 200},
		"timeout":          {fmt.Errorf("x: %w", odoo.ErrGatewayTimeout), 504},
		"unreachable":      {fmt.Errorf("x: %w", odoo.ErrBadGateway), 502},
		"account_rejected": {odoo.ErrAccountRejected, 502},
		"access_denied":    {&odoo.OdooError{Name: "odoo.exceptions.AccessDenied"}, 403},
		"user_error":       {&odoo.OdooError{Name: "odoo.exceptions.UserError"}, 422},
	}
	for name, c := range cases {
		if got := odoo.Status(c.err); got != c.want {
			t.Errorf("%s: Status = %d, want %d", name, got, c.want)
		}
	}
}

// TestUIDForgottenOnAccessDenied: when Odoo stops accepting a service
// account, its uid is dropped and the account authenticated again.
func TestUIDForgottenOnAccessDenied(t *testing.T) {
	calls := 0
	denyOnce := fakeFunc(func(body []byte) []byte {
		if isVersionCall(body) {
			return version18
		}
		calls++
		switch {
		case strings.Contains(string(body), `"authenticate"`):
			return []byte(fmt.Sprintf(`{"jsonrpc": "2.0", "id": 1, "result": %d}`, 2+calls))
		case calls == 2:
			return []byte(`{"jsonrpc": "2.0", "id": 1, "error": {"code": 200, "message": "Odoo Server Error", "data": {"name": "odoo.exceptions.AccessDenied", "message": "Access Denied"}}}`)
		}
		var req struct{ Params struct{ Args []any } }
		_ = json.Unmarshal(body, &req)
		return []byte(fmt.Sprintf(`{"jsonrpc": "2.0", "id": 1, "result": %v}`, req.Params.Args[1]))
	})
	c := odoo.NewClient(odoo.ClientConfig{Transport: denyOnce})
	a := odoo.Account{URL: "http://odoo", DB: "d", Login: "l", Password: "p"}
	_, err := c.ExecuteKW(ctx, a, "m", "read", nil, nil)
	if odoo.Status(err) != http.StatusForbidden {
		t.Fatalf("first call: %v, want AccessDenied", err)
	}
	uid, err := c.ExecuteKW(ctx, a, "m", "read", nil, nil)
	if err != nil || string(uid) != "5" {
		t.Errorf("after AccessDenied the call ran as uid %s (%v), want a fresh authenticate (uid 5)", uid, err)
	}
}

// fakeFunc is an upstream that answers each body with what fn returns.
type fakeFunc func(body []byte) []byte

func (f fakeFunc) RoundTrip(r *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(f(body))), Request: r}, nil
}
