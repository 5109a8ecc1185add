package keystore_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/keystore"
)

// sessionCases are run each on fresh databases: the bounds count every
// session in the table.
var sessionCases = map[string]func(t *testing.T, url string){}

func TestSessions(t *testing.T) {
	for name, fn := range sessionCases {
		t.Run(name, func(t *testing.T) { forEachBackend(t, fn) })
	}
}

func init() {
	add("a_session_stands_for_its_key_until_destroyed", func(t *testing.T, url string) {
		clk := newClock()
		s := openStore(t, url, keystore.Config{Now: clk.Now})
		ss := s.Sessions(keystore.SessionConfig{})
		rec, _, _ := s.Create(ctx, "test", keystore.Spec{Name: "a"})
		id, until, err := ss.Create(ctx, rec.ID)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ss.Key(ctx, id)
		if err != nil || got.ID != rec.ID {
			t.Fatalf("Key = %v, %v; want key %s", got, err, rec.ID)
		}
		if want := clk.Now().Add(keystore.DefaultSessionMaxAge); !until.Equal(want) || len(id) != 84 {
			t.Errorf("until %v (want %v), id of %d characters (want 84)", until, want, len(id))
		}
		if err := ss.Delete(ctx, id); err != nil {
			t.Fatal(err)
		}
		if _, err := ss.Key(ctx, id); !errors.Is(err, keystore.ErrNoSession) {
			t.Errorf("Key after Delete = %v, want ErrNoSession", err)
		}
	})
	add("only_the_hash_of_the_id_is_stored", func(t *testing.T, url string) {
		s := openStore(t, url, keystore.Config{})
		rec, _, _ := s.Create(ctx, "test", keystore.Spec{Name: "a"})
		id, _, _ := s.Sessions(keystore.SessionConfig{}).Create(ctx, rec.ID)
		var n int
		if err := s.SQLDB().QueryRowContext(ctx, "SELECT count(*) FROM web_sessions WHERE hash = $1", []byte(id)).Scan(&n); err != nil || n != 0 {
			t.Errorf("rows holding the plain id: %d, %v", n, err)
		}
	})
	add("revoked_or_expired_key_ends_its_sessions", func(t *testing.T, url string) {
		clk := newClock()
		s := openStore(t, url, keystore.Config{Now: clk.Now})
		ss := s.Sessions(keystore.SessionConfig{})
		exp := clk.Now().Add(time.Hour)
		revoked, _, _ := s.Create(ctx, "test", keystore.Spec{Name: "r"})
		expiring, _, _ := s.Create(ctx, "test", keystore.Spec{Name: "e", ExpiresAt: &exp})
		a, _, _ := ss.Create(ctx, revoked.ID)
		b, _, _ := ss.Create(ctx, expiring.ID)
		if _, err := s.Revoke(ctx, "test", revoked.ID); err != nil {
			t.Fatal(err)
		}
		clk.Add(time.Hour)
		_, errA := ss.Key(ctx, a)
		_, errB := ss.Key(ctx, b)
		if !errors.Is(errA, keystore.ErrNoSession) || !errors.Is(errB, keystore.ErrNoSession) {
			t.Errorf("revoked key's session: %v; expired key's session: %v; want ErrNoSession", errA, errB)
		}
	})
	add("idle_and_old_sessions_end", func(t *testing.T, url string) {
		clk := newClock()
		s := openStore(t, url, keystore.Config{Now: clk.Now})
		ss := s.Sessions(keystore.SessionConfig{IdleTimeout: time.Hour, MaxAge: 3 * time.Hour})
		rec, _, _ := s.Create(ctx, "test", keystore.Spec{Name: "a"})
		idle, _, _ := ss.Create(ctx, rec.ID)
		used, _, _ := ss.Create(ctx, rec.ID)
		var errs []error
		for range 5 { // used every 50 minutes: never idle, but too old after 3 h
			clk.Add(50 * time.Minute)
			_, err := ss.Key(ctx, used)
			errs = append(errs, err)
		}
		_, idleErr := ss.Key(ctx, idle)
		want := []error{nil, nil, nil, keystore.ErrNoSession, keystore.ErrNoSession}
		if !cmp.Equal(errs, want, cmp.Comparer(func(a, b error) bool { return errors.Is(a, b) })) || !errors.Is(idleErr, keystore.ErrNoSession) {
			t.Errorf("uses every 50 min: %v (want %v); idle session: %v", errs, want, idleErr)
		}
	})
	add("sessions_are_bounded_per_key_and_in_total", func(t *testing.T, url string) {
		clk := newClock()
		s := openStore(t, url, keystore.Config{Now: clk.Now})
		ss := s.Sessions(keystore.SessionConfig{MaxPerKey: 2, MaxTotal: 3})
		a, _, _ := s.Create(ctx, "test", keystore.Spec{Name: "a"})
		b, _, _ := s.Create(ctx, "test", keystore.Spec{Name: "b"})
		var ids []string
		for range 3 {
			clk.Add(time.Second)
			id, _, err := ss.Create(ctx, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		_, oldest := ss.Key(ctx, ids[0])
		n, _ := ss.Count(ctx, a.ID)
		_, _, errB1 := ss.Create(ctx, b.ID)
		_, _, errB2 := ss.Create(ctx, b.ID)
		if !errors.Is(oldest, keystore.ErrNoSession) || n != 2 || errB1 != nil || !errors.Is(errB2, keystore.ErrTooManySessions) {
			t.Errorf("oldest of key a: %v (want ErrNoSession); a holds %d (want 2); b's first %v (want nil), second %v (want ErrTooManySessions)",
				oldest, n, errB1, errB2)
		}
	})
	add("malformed_and_unknown_ids_name_no_session", func(t *testing.T, url string) {
		s := openStore(t, url, keystore.Config{})
		ss := s.Sessions(keystore.SessionConfig{})
		for _, id := range []string{"", "SESSION_ID_2", string(make([]byte, 84)), "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"} {
			if _, err := ss.Key(ctx, id); !errors.Is(err, keystore.ErrNoSession) {
				t.Errorf("Key(%q) = %v, want ErrNoSession", id, err)
			}
		}
	})
}

func add(name string, fn func(t *testing.T, url string)) { sessionCases[name] = fn }
