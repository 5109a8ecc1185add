package keystore

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/keygate/keygate/migrations"
)

// A secret that changes between Reseal's read and its write is not
// overwritten: the compare-and-swap fails and Reseal reads it again.
func TestResealDoesNotOverwriteAConcurrentChange(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Config{URL: "sqlite://" + filepath.Join(t.TempDir(), "k.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	r, _ := migrations.New(s.SQLDB(), s.Dialect())
	if _, err := r.Up(ctx); err != nil {
		t.Fatal(err)
	}
	oldKey, newKey := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	oldSealer, _ := NewSealer(oldKey)
	rotating, _ := NewSealer(newKey, oldKey)
	c, err := s.Vault(oldSealer).CreateCredential(ctx, "t", CredentialSpec{Name: "a", URL: "http://o", DB: "d", Login: "l"}, "first")
	if err != nil {
		t.Fatal(err)
	}
	v := s.Vault(rotating)
	stale, _ := v.load(ctx, c.ID)
	// A replica still sealing under the old key changes the password now.
	if _, err := s.Vault(oldSealer).UpdateCredential(ctx, "t", c.ID, CredentialPatch{Password: Some("second")}); err != nil {
		t.Fatal(err)
	}
	if swapped, err := v.swapSecret(ctx, "t", stale, []byte("first")); err != nil || swapped {
		t.Fatalf("swapSecret over a changed secret = %v, %v; want no swap", swapped, err)
	}
	var rep ResealReport
	if err := v.resealOne(ctx, "t", c.ID, &rep); err != nil || rep.Resealed != 1 {
		t.Fatalf("resealOne = %+v, %v", rep, err)
	}
	newOnly, _ := NewSealer(newKey)
	if got, err := s.Vault(newOnly).CredentialSecret(ctx, c.ID); err != nil || got != "second" {
		t.Errorf("after reseal the secret is %q, %v; want the concurrent change kept", got, err)
	}
}
