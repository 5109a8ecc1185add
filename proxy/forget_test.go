package proxy_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/keygate/keygate/internal/gatewaytest"
	"github.com/keygate/keygate/keystore"
	"github.com/keygate/keygate/odoo"
	"github.com/keygate/keygate/proxy"
)

// A changed service account is read again, and its uid resolved again,
// once the change is announced (keystore.Store.OnCredentialChange).
func TestForgetCredential(t *testing.T) {
	h := newHarness(t, gatewaytest.Options{})
	var auths atomic.Int64
	client := odoo.NewClient(odoo.ClientConfig{Transport: fakeFunc(func(body []byte) []byte {
		if isVersionCall(body) {
			return version18
		}
		if strings.Contains(string(body), `"authenticate"`) {
			auths.Add(1)
		}
		return []byte(`{"jsonrpc": "2.0", "id": 1, "result": 7}`)
	})})
	accts := h.Accounts(t)
	forget := proxy.ForgetCredential(accts, client)
	t.Cleanup(h.Store.OnCredentialChange(forget))
	demo := &keystore.Verified{CredentialID: h.CredIDs["demo"]}
	before, err := accts.Account(ctx, demo)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := client.UID(ctx, before); err != nil {
			t.Fatal(err)
		}
	}
	if n := auths.Load(); n != 1 {
		t.Fatalf("%d authenticates for two UIDs, want 1 (cached)", n)
	}
	if _, err := h.Vault.UpdateCredential(ctx, "test", *demo.CredentialID, keystore.CredentialPatch{Login: keystore.Some("demo2")}); err != nil {
		t.Fatal(err)
	}
	after, err := accts.Account(ctx, demo)
	if err != nil || after.Login != "demo2" {
		t.Errorf("account after the change = %+v, %v; want login demo2", after, err)
	}
	if _, err := client.UID(ctx, before); err != nil || auths.Load() != 2 {
		t.Errorf("uid of the old account after the change: %d authenticates, %v; want it resolved again", auths.Load(), err)
	}
	if err := h.Vault.DeleteCredential(ctx, "test", *demo.CredentialID); err != nil {
		t.Fatal(err)
	}
	if _, err := accts.Account(ctx, demo); err == nil {
		t.Error("a deleted service account still serves its keys")
	}
}

// forgettingVault announces a change while a read is in flight.
type forgettingVault struct {
	proxy.Vault
	accts *proxy.Accounts
	reads atomic.Int64
}

func (f *forgettingVault) GetCredential(ctx context.Context, id string) (*keystore.Credential, error) {
	f.reads.Add(1)
	c, err := f.Vault.GetCredential(ctx, id)
	f.accts.Forget(id) // the credential changes right after this read
	return c, err
}

// An account read before a change was announced is used once, never kept.
func TestForgetDuringLoadIsNotCached(t *testing.T) {
	h := newHarness(t, gatewaytest.Options{})
	v := &forgettingVault{Vault: h.Vault}
	accts, err := proxy.NewAccounts(proxy.AccountsConfig{Vault: v})
	if err != nil {
		t.Fatal(err)
	}
	v.accts = accts
	demo := &keystore.Verified{CredentialID: h.CredIDs["demo"]}
	for range 2 {
		if _, err := accts.Account(ctx, demo); err != nil {
			t.Fatal(err)
		}
	}
	if n := v.reads.Load(); n != 2 {
		t.Errorf("%d vault reads for two calls, want 2: an account loaded across a change was cached", n)
	}
}
