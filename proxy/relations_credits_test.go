package proxy_test

import (
	"bytes"
	"testing"

	"github.com/keygate/keygate/keystore"
)

// TestRelationsRefusalSpendsNoCredit: a call that the relation check
// refuses spends none of the key's credits (they are spent last, once
// every check passed); the same key's allowed call spends one.
func TestRelationsRefusalSpendsNoCredit(t *testing.T) {
	h := relationsHarness(t)
	for _, proto := range protocols {
		t.Run(proto, func(t *testing.T) {
			rec, k, err := h.Store.Create(ctx, "test", keystore.Spec{Name: "shop", Scopes: []string{"odoo:res.partner:create"},
				Credits: &keystore.Credits{Remaining: 2}})
			if err != nil {
				t.Fatal(err)
			}
			key := k.Reveal()
			for range 3 {
				x := h.rpc(t, proto, key, "res.partner", "create",
					`[{"name": "p", "user_ids": [[0, 0, {"name": "u", "login": "x-`+proto+`", "password": "pw-x-123456"}]]}]`, "")
				if !bytes.Contains(x.Body, []byte("this key needs odoo:res.users:create")) {
					t.Fatalf("attack not refused for its scope: %s", x.Body)
				}
			}
			if got := h.Balance(t, rec.ID); got != 2 {
				t.Errorf("after 3 refused calls the balance is %d, want 2 (none spent)", got)
			}
			x := h.rpc(t, proto, key, "res.partner", "create", `[{"name": "allowed"}]`, "")
			if bytes.Contains(x.Body, []byte("Error")) || bytes.Contains(x.Body, []byte("fault")) {
				t.Fatalf("plain create refused: %s", x.Body)
			}
			if got := h.Balance(t, rec.ID); got != 1 {
				t.Errorf("after one allowed call the balance is %d, want 1", got)
			}
		})
	}
}
