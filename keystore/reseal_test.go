package keystore_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/keystore"
)

func TestSealerWithPreviousKey(t *testing.T) {
	oldKey, newKey, otherKey := testKey(1), testKey(2), testKey(3)
	underOld, _ := newSealer(t, oldKey).Seal([]byte("secret"), []byte("cred-1"))
	underNew, _ := newSealer(t, newKey).Seal([]byte("secret"), []byte("cred-1"))
	rotating, err := keystore.NewSealer(newKey, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		s      *keystore.Sealer
		sealed []byte
		want   error
	}{
		"current_and_previous_open_the_old":    {rotating, underOld, nil},
		"current_and_previous_open_the_new":    {rotating, underNew, nil},
		"new_alone_does_not_open_the_old":      {newSealer(t, newKey), underOld, keystore.ErrSealed},
		"old_alone_does_not_open_the_new":      {newSealer(t, oldKey), underNew, keystore.ErrSealed},
		"two_wrong_keys_open_nothing":          {mustSealer(t, otherKey, testKey(4)), underOld, keystore.ErrSealed},
		"the_previous_key_is_for_opening_only": {mustSealer(t, otherKey, oldKey), underNew, keystore.ErrSealed},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := c.s.Open(c.sealed, []byte("cred-1"))
			if !errors.Is(err, c.want) || (err == nil && string(got) != "secret") {
				t.Fatalf("Open = %q, %v; want %v", got, err, c.want)
			}
		})
	}
	resealed, _ := rotating.Seal([]byte("secret"), []byte("cred-1"))
	if _, err := newSealer(t, newKey).Open(resealed, []byte("cred-1")); err != nil {
		t.Errorf("a rotating sealer seals under the current key: the current key alone fails to open it: %v", err)
	}
	if _, err := keystore.NewSealer(newKey, []byte("short")); err == nil {
		t.Error("NewSealer accepted a previous key of 5 bytes")
	}
}

func mustSealer(tb testing.TB, key []byte, previous ...[]byte) *keystore.Sealer {
	tb.Helper()
	s, err := keystore.NewSealer(key, previous...)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestReseal(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		s := openStore(t, url, keystore.Config{})
		oldKey, newKey := testKey(1), testKey(2)
		before := s.Vault(newSealer(t, oldKey))
		var ids []string
		for _, name := range []string{"a", "b", "c"} {
			ids = append(ids, newCredential(t, before, name).ID)
		}
		rotating := s.Vault(mustSealer(t, newKey, oldKey))
		fresh := newCredential(t, rotating, "d") // sealed under the new key already
		rep, err := rotating.Reseal(ctx, "test")
		if err != nil || !cmp.Equal(rep, keystore.ResealReport{Resealed: 3, Current: 1}) {
			t.Fatalf("first Reseal = %+v, %v; want 3 resealed, 1 current", rep, err)
		}
		again, err := rotating.Reseal(ctx, "test")
		if err != nil || !cmp.Equal(again, keystore.ResealReport{Current: 4}) {
			t.Errorf("second Reseal = %+v, %v; want it to change nothing (4 current)", again, err)
		}
		for _, id := range append(ids, fresh.ID) {
			if secret, err := s.Vault(newSealer(t, newKey)).CredentialSecret(ctx, id); err != nil || secret != odooSecret {
				t.Errorf("credential %s under the new key alone: %q, %v", id, secret, err)
			}
			if _, err := before.CredentialSecret(ctx, id); !errors.Is(err, keystore.ErrSealed) {
				t.Errorf("credential %s under the old key: %v, want ErrSealed (resealed)", id, err)
			}
		}
		events, _, _ := s.Audit(ctx, keystore.AuditFilter{})
		if got := strings.Count(strings.Join(actions(events), " "), keystore.ActionCredentialReseal); got != 3 {
			t.Errorf("audit holds %d credential.reseal events, want 3 (one per resealed credential)", got)
		}
		lost := newCredential(t, s.Vault(newSealer(t, testKey(9))), "lost")
		rep, err = rotating.Reseal(ctx, "test")
		if !errors.Is(err, keystore.ErrSealed) || !cmp.Equal(rep, keystore.ResealReport{Current: 4, Failed: []string{lost.ID}}) {
			t.Errorf("Reseal with a secret under an unknown key = %+v, %v; want it named as failed and ErrSealed", rep, err)
		}
		if _, err := s.Vault(nil).Reseal(ctx, "test"); !errors.Is(err, keystore.ErrNoSecretKey) {
			t.Errorf("Reseal without a key = %v, want ErrNoSecretKey", err)
		}
	})
}

func TestRevokeLeaked(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		clk := newClock()
		s := openStore(t, url, keystore.Config{Now: clk.Now})
		live, liveKey, _ := s.Create(ctx, "test", keystore.Spec{Name: "live"})
		exp := clk.Now().Add(time.Minute)
		expired, expiredKey, _ := s.Create(ctx, "test", keystore.Spec{Name: "expired", ExpiresAt: &exp})
		clk.Add(time.Hour)
		if _, err := s.Verify(ctx, liveKey.Reveal()); err != nil { // cached now
			t.Fatal(err)
		}
		details := map[string]any{"url": "https://github.com/o/r/blob/x/f"}
		rec, revoked, err := s.RevokeLeaked(ctx, "secret-scanning:github", liveKey.Reveal(), details)
		if err != nil || !revoked || rec.ID != live.ID || rec.Status != keystore.StatusRevoked {
			t.Fatalf("RevokeLeaked(live) = %+v, %v, %v; want it revoked now", rec, revoked, err)
		}
		if _, err := s.Verify(ctx, liveKey.Reveal()); !errors.Is(err, keystore.ErrRevoked) {
			t.Errorf("Verify after RevokeLeaked = %v, want ErrRevoked (the cache dropped it)", err)
		}
		if _, revoked, err := s.RevokeLeaked(ctx, "secret-scanning:github", liveKey.Reveal(), details); err != nil || revoked {
			t.Errorf("RevokeLeaked again = %v, %v; want no change", revoked, err)
		}
		if rec, revoked, err := s.RevokeLeaked(ctx, "secret-scanning:github", expiredKey.Reveal(), nil); err != nil || !revoked || rec.ID != expired.ID {
			t.Errorf("RevokeLeaked(expired) = %+v, %v, %v; want it revoked (a PATCH could revive it)", rec, revoked, err)
		}
		other, _ := keystore.Generate("kg")
		for name, c := range map[string]struct {
			token string
			want  error
		}{"garbage_is_malformed": {"not a key", keystore.ErrMalformed}, "foreign_key_is_unknown": {other.Reveal(), keystore.ErrUnknown}} {
			if _, _, err := s.RevokeLeaked(ctx, "x", c.token, nil); !errors.Is(err, c.want) {
				t.Errorf("%s: RevokeLeaked = %v, want %v", name, err, c.want)
			}
		}
		events, _, _ := s.Audit(ctx, keystore.AuditFilter{KeyID: live.ID})
		if events[0].Action != keystore.ActionKeyRevoke || events[0].Actor != "secret-scanning:github" || !strings.Contains(string(events[0].Details), "github.com/o/r") {
			t.Errorf("audit = %+v %s, want one key.revoke by secret-scanning:github with the url", events[0], events[0].Details)
		}
		if got := actions(events); !cmp.Equal(got, []string{keystore.ActionKeyRevoke, keystore.ActionKeyCreate}) {
			t.Errorf("audit of the live key = %v, want one revoke (the second report changed nothing)", got)
		}
	})
}

func TestScanPattern(t *testing.T) {
	for _, prefix := range []string{"kg", "acme2", "a"} {
		re := regexp.MustCompile(keystore.ScanPattern(prefix))
		for range 20 {
			k, _ := keystore.Generate(prefix)
			text := "export KEY=" + k.Reveal() + "\n"
			if got := re.FindString(text); got != k.Reveal() {
				t.Fatalf("pattern %s finds %q in %q, want the key", re, got, text)
			}
			for _, near := range []string{k.Reveal()[:len(k.Reveal())-1], k.Reveal() + "x", "x" + k.Reveal()} {
				if re.MatchString(near) {
					t.Errorf("pattern %s matches %q, which is not a key", re, near)
				}
			}
		}
	}
}
