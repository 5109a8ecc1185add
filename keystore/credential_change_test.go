package keystore_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/internal/testenv"
	"github.com/keygate/keygate/internal/testenv/storetest"
	"github.com/keygate/keygate/keystore"
)

// changes records what OnCredentialChange announced.
type changes struct {
	mu  sync.Mutex
	ids []string
	ch  chan string
}

func watch(tb testing.TB, s *keystore.Store) *changes {
	tb.Helper()
	c := &changes{ch: make(chan string, 100)}
	tb.Cleanup(s.OnCredentialChange(func(id string) {
		c.mu.Lock()
		c.ids = append(c.ids, id)
		c.mu.Unlock()
		select {
		case c.ch <- id:
		default:
		}
	}))
	return c
}

func (c *changes) seen(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, x := range c.ids {
		if x == id {
			return true
		}
	}
	return false
}

// await waits for id to be announced.
func (c *changes) await(tb testing.TB, id string) {
	tb.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case got := <-c.ch:
			if got == id {
				return
			}
		case <-deadline:
			tb.Fatalf("credential %s: no change announced within 10s", id)
		}
	}
}

func newCredential(tb testing.TB, v *keystore.Vault, name string) *keystore.Credential {
	tb.Helper()
	c, err := v.CreateCredential(ctx, "test", keystore.CredentialSpec{Name: name, URL: "http://odoo:8069", DB: "d", Login: "l"}, odooSecret)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func TestUpdateCredential(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		clk := newClock()
		s := openStore(t, url, keystore.Config{Now: clk.Now})
		v := s.Vault(newSealer(t, testKey(7)))
		seen := watch(t, s)
		c := newCredential(t, v, "shop")
		other := newCredential(t, v, "other")
		clk.Add(time.Minute)
		got, err := v.UpdateCredential(ctx, "test", c.ID, keystore.CredentialPatch{
			URL: keystore.Some("https://new.example.com/"), Login: keystore.Some("bot"), Password: keystore.Some("new-secret")})
		if err != nil {
			t.Fatal(err)
		}
		want := &keystore.Credential{ID: c.ID, Name: "shop", URL: "https://new.example.com", DB: "d", Login: "bot",
			CreatedAt: c.CreatedAt, UpdatedAt: clk.Now()}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("UpdateCredential (-want +got):\n%s", diff)
		}
		if secret, err := v.CredentialSecret(ctx, c.ID); err != nil || secret != "new-secret" {
			t.Errorf("secret after the update = %q, %v; want the new one", secret, err)
		}
		if !seen.seen(c.ID) {
			t.Errorf("the update was not announced to this replica's subscribers")
		}
		events, _, _ := s.Audit(ctx, keystore.AuditFilter{})
		if events[0].Action != keystore.ActionCredentialUpdate || !strings.Contains(string(events[0].Details), `"fields":["url","login","password"]`) ||
			strings.Contains(string(events[0].Details), "new-secret") || events[0].Actor != "test" {
			t.Errorf("audit = %+v %s, want credential.update naming the fields, never the secret", events[0], events[0].Details)
		}
		cases := map[string]struct {
			vault *keystore.Vault
			id    string
			patch keystore.CredentialPatch
			want  error
			field string
		}{
			"empty_name_is_invalid":         {v, c.ID, keystore.CredentialPatch{Name: keystore.Some("")}, keystore.ErrInvalid, "name"},
			"bad_url_is_invalid":            {v, c.ID, keystore.CredentialPatch{URL: keystore.Some("ftp://x")}, keystore.ErrInvalid, "url"},
			"empty_password_is_invalid":     {v, c.ID, keystore.CredentialPatch{Password: keystore.Some("")}, keystore.ErrInvalid, "password"},
			"name_of_another_is_invalid":    {v, c.ID, keystore.CredentialPatch{Name: keystore.Some(other.Name)}, keystore.ErrInvalid, "name"},
			"missing_credential_is_404":     {v, "nope", keystore.CredentialPatch{Name: keystore.Some("x")}, keystore.ErrNotFound, ""},
			"password_needs_the_secret_key": {s.Vault(nil), c.ID, keystore.CredentialPatch{Password: keystore.Some("x")}, keystore.ErrNoSecretKey, ""},
		}
		for name, tc := range cases {
			t.Run(name, func(t *testing.T) {
				_, err := tc.vault.UpdateCredential(ctx, "test", tc.id, tc.patch)
				if !errors.Is(err, tc.want) {
					t.Fatalf("UpdateCredential = %v, want %v", err, tc.want)
				}
				var ve *keystore.ValidationError
				if tc.field != "" && (!errors.As(err, &ve) || ve.Fields[tc.field] == "") {
					t.Errorf("UpdateCredential = %v, want a message on %s", err, tc.field)
				}
			})
		}
		if got, err := s.Vault(nil).UpdateCredential(ctx, "test", c.ID, keystore.CredentialPatch{DB: keystore.Some("prod")}); err != nil || got.DB != "prod" {
			t.Errorf("changing the db without the secret key = %+v, %v; want it done", got, err)
		}
		if secret, err := v.CredentialSecret(ctx, c.ID); err != nil || secret != "new-secret" {
			t.Errorf("secret after a change of db = %q, %v; want it kept", secret, err)
		}
	})
}

func TestDeleteCredential(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		clk := newClock()
		s := openStore(t, url, keystore.Config{Now: clk.Now})
		v := s.Vault(newSealer(t, testKey(7)))
		seen := watch(t, s)
		c := newCredential(t, v, "shop")
		id := c.ID
		exp := clk.Now().Add(time.Minute)
		active, _, _ := s.Create(ctx, "test", keystore.Spec{Name: "active", CredentialID: &id})
		expired, _, _ := s.Create(ctx, "test", keystore.Spec{Name: "expires", CredentialID: &id, ExpiresAt: &exp})
		revoked, _, _ := s.Create(ctx, "test", keystore.Spec{Name: "revoked", CredentialID: &id})
		if _, err := s.Revoke(ctx, "test", revoked.ID); err != nil {
			t.Fatal(err)
		}
		clk.Add(2 * time.Minute)
		err := v.DeleteCredential(ctx, "test", id)
		var inUse *keystore.InUseError
		if !errors.As(err, &inUse) || !errors.Is(err, keystore.ErrConflict) {
			t.Fatalf("DeleteCredential while keys use it = %v, want an InUseError (ErrConflict)", err)
		}
		if diff := cmp.Diff(&keystore.InUseError{Keys: 2, KeyIDs: []string{active.ID, expired.ID}}, inUse); diff != "" {
			t.Errorf("InUseError: active and expired keys count, revoked ones do not (-want +got):\n%s", diff)
		}
		for _, k := range []string{active.ID, expired.ID} {
			if _, err := s.Revoke(ctx, "test", k); err != nil {
				t.Fatal(err)
			}
		}
		if err := v.DeleteCredential(ctx, "test", id); err != nil {
			t.Fatalf("DeleteCredential once only revoked keys name it = %v", err)
		}
		if _, err := v.GetCredential(ctx, id); !errors.Is(err, keystore.ErrNotFound) {
			t.Errorf("GetCredential after delete = %v, want ErrNotFound", err)
		}
		if err := v.DeleteCredential(ctx, "test", id); !errors.Is(err, keystore.ErrNotFound) {
			t.Errorf("second DeleteCredential = %v, want ErrNotFound", err)
		}
		if !seen.seen(id) {
			t.Error("the delete was not announced to this replica's subscribers")
		}
		events, _, _ := s.Audit(ctx, keystore.AuditFilter{})
		if events[0].Action != keystore.ActionCredentialDelete || !strings.Contains(string(events[0].Details), id) {
			t.Errorf("audit = %+v, want credential.delete naming the credential", events[0])
		}
		if _, _, err := s.Create(ctx, "test", keystore.Spec{Name: "late", CredentialID: &id}); !errors.Is(err, keystore.ErrInvalid) {
			t.Errorf("a key for the deleted credential = %v, want ErrInvalid", err)
		}
	})
}

// Two replicas on one Postgres: a change made through one is announced to
// the subscribers of the other (LISTEN/NOTIFY), as key revocations are.
func TestCredentialChangeReachesOtherReplica(t *testing.T) {
	db := testenv.Postgres(t)
	a := openStore(t, db, keystore.Config{})
	b := openStore(t, db, keystore.Config{})
	va, vb := a.Vault(newSealer(t, testKey(7))), b.Vault(newSealer(t, testKey(7)))
	c := newCredential(t, va, "shop")
	seen := watch(t, b)
	if _, err := va.UpdateCredential(ctx, "test", c.ID, keystore.CredentialPatch{Password: keystore.Some("rotated")}); err != nil {
		t.Fatal(err)
	}
	seen.await(t, c.ID)
	if secret, err := vb.CredentialSecret(ctx, c.ID); err != nil || secret != "rotated" {
		t.Errorf("replica b reads %q, %v after the announcement; want the new secret", secret, err)
	}
	if err := va.DeleteCredential(ctx, "test", c.ID); err != nil {
		t.Fatal(err)
	}
	seen.await(t, c.ID)
}

// With SQLite, a change written by another process (another Store on the
// same file) is noticed by the file watch, which announces every
// credential.
func TestCredentialChangeByOtherProcessSQLite(t *testing.T) {
	url := storetest.SQLiteURL(t)
	a := openStore(t, url, keystore.Config{WatchInterval: 10 * time.Millisecond})
	b := openStore(t, url, keystore.Config{WatchInterval: 10 * time.Millisecond})
	c := newCredential(t, a.Vault(newSealer(t, testKey(7))), "shop")
	seen := watch(t, b)
	if _, err := a.Vault(nil).UpdateCredential(ctx, "test", c.ID, keystore.CredentialPatch{DB: keystore.Some("x")}); err != nil {
		t.Fatal(err)
	}
	seen.await(t, keystore.AllCredentials)
}

// A key created for a credential while the credential is deleted: one of
// the two wins, never both (no live key names a deleted account).
func TestDeleteCredentialRacesKeyCreate(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		s := openStore(t, url, keystore.Config{})
		v := s.Vault(newSealer(t, testKey(7)))
		for i := range 20 {
			c := newCredential(t, v, fmt.Sprint("c", i))
			var (
				wg                sync.WaitGroup
				createErr, delErr error
			)
			wg.Add(2)
			go func() {
				defer wg.Done()
				_, _, createErr = s.Create(ctx, "t", keystore.Spec{Name: "k", CredentialID: &c.ID})
			}()
			go func() { defer wg.Done(); delErr = v.DeleteCredential(ctx, "t", c.ID) }()
			wg.Wait()
			keyWon := createErr == nil && errors.Is(delErr, keystore.ErrConflict)
			deleteWon := delErr == nil && errors.Is(createErr, keystore.ErrInvalid)
			if !keyWon && !deleteWon {
				t.Fatalf("round %d: create = %v, delete = %v; want exactly one to win", i, createErr, delErr)
			}
		}
	})
}
