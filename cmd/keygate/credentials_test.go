package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/internal/odootest"
	"github.com/keygate/keygate/internal/testenv"
	"github.com/keygate/keygate/keystore"
)

// cliIn runs one keygate command with stdin and returns its output and
// error; it checks that neither output holds a secret of the audit.
func cliIn(t testing.TB, env []string, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errs bytes.Buffer
	err := run(context.Background(), args, env, strings.NewReader(stdin), &out, &errs)
	logs := &testenv.LockedBuffer{}
	logs.Write(out.Bytes())
	logs.Write(errs.Bytes())
	audit.logs(logs)
	return out.String(), err
}

func secretKeyOf(b byte) string {
	return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, 32))
}

// openVault opens the database as keygate would, with the given sealer keys.
func openVault(t testing.TB, dbURL string, key []byte, previous ...[]byte) *keystore.Vault {
	t.Helper()
	s, err := keystore.Open(context.Background(), keystore.Config{URL: dbURL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	sealer, err := keystore.NewSealer(key, previous...)
	if err != nil {
		t.Fatal(err)
	}
	return s.Vault(sealer)
}

func TestCLICredentials(t *testing.T) {
	const pw1, pw2, pw3 = "first-odoo-api-key-0001", "second-odoo-api-key-0002", "third-odoo-api-key-0003"
	for _, s := range []string{pw1, pw2, pw3} {
		audit.secret(s)
	}
	dbURL := sqliteURL(t)
	env := []string{"KEYGATE_DATABASE_URL=" + dbURL, "KEYGATE_SECRET_KEY=" + secretKeyOf(5)}
	out, err := cliIn(t, env, pw1+"\n", "credentials", "create", "--name", "shop", "--url", "https://odoo.example.com/",
		"--db", "prod", "--login", "api", "--password-stdin", "--json")
	if err != nil {
		t.Fatalf("credentials create: %v", err)
	}
	var shop keystore.Credential
	if err := json.Unmarshal([]byte(out), &shop); err != nil || shop.URL != "https://odoo.example.com" {
		t.Fatalf("credentials create --json printed %q (%v)", out, err)
	}
	second, err := cliIn(t, append(env, "KEYGATE_CREDENTIAL_PASSWORD="+pw2), "", "credentials", "create", "--name", "crm",
		"--url", "http://odoo:8069", "--db", "crm", "--login", "bot", "--password-env")
	if err != nil || !strings.Contains(second, "created ") {
		t.Fatalf("credentials create --password-env: %q, %v", second, err)
	}
	failures := map[string][]string{
		"no_password":       {"credentials", "create", "--name", "x", "--url", "http://o", "--db", "d", "--login", "l"},
		"two_password_ways": {"credentials", "create", "--name", "x", "--url", "http://o", "--db", "d", "--login", "l", "--password", "p", "--password-stdin"},
		"invalid_url":       {"credentials", "create", "--name", "x", "--url", "ftp://o", "--db", "d", "--login", "l", "--password-env"},
		"unknown_id":        {"credentials", "update", "nope", "--db", "x"},
	}
	for name, args := range failures {
		t.Run(name, func(t *testing.T) {
			if _, err := cliIn(t, append(env, "KEYGATE_CREDENTIAL_PASSWORD=x"), "y\n", args...); err == nil {
				t.Errorf("keygate %s succeeded, want an error", strings.Join(args, " "))
			}
		})
	}
	if _, err := cliIn(t, []string{"KEYGATE_DATABASE_URL=" + dbURL}, pw1+"\n", "credentials", "create", "--name", "nokey",
		"--url", "http://o", "--db", "d", "--login", "l", "--password-stdin"); err == nil || !strings.Contains(err.Error(), "KEYGATE_SECRET_KEY") {
		t.Errorf("create without KEYGATE_SECRET_KEY: %v, want an error naming it", err)
	}
	updated, err := cliIn(t, env, pw3+"\n", "credentials", "update", shop.ID, "--login", "bot2", "--password-stdin", "--json")
	var u keystore.Credential
	if err != nil || json.Unmarshal([]byte(updated), &u) != nil || u.Login != "bot2" || u.DB != "prod" {
		t.Fatalf("credentials update: %q, %v; want login bot2 and the db kept", updated, err)
	}
	if secret, err := openVault(t, dbURL, bytes.Repeat([]byte{5}, 32)).CredentialSecret(context.Background(), shop.ID); err != nil || secret != pw3 {
		t.Errorf("secret after update = %q, %v; want the one from stdin", secret, err)
	}
	list, err := cliIn(t, env, "", "credentials", "list")
	if err != nil || !strings.Contains(list, shop.ID) || !strings.Contains(list, "bot2") || strings.Count(list, "\n") != 3 {
		t.Errorf("credentials list = %q, %v; want a header and two rows", list, err)
	}
	keyOut, _ := cli(t, env, "keys", "create", "--name", "k", "--json")
	var key map[string]any
	_ = json.Unmarshal([]byte(keyOut), &key)
	k := start(t, env...)
	if s, _, _ := call(t, "PATCH", k.admin+"/admin/v1/keys/"+key["id"].(string), testToken, `{"credential_id":"`+shop.ID+`"}`); s != 200 {
		t.Fatalf("mapping the key to the credential: %d", s)
	}
	if _, err := cliIn(t, env, "", "credentials", "delete", shop.ID); err == nil || !strings.Contains(err.Error(), key["id"].(string)) {
		t.Errorf("delete while a key uses it: %v, want an error naming the key", err)
	}
	cli(t, env, "keys", "revoke", key["id"].(string))
	if out, err := cliIn(t, env, "", "credentials", "delete", shop.ID); err != nil || out != "deleted "+shop.ID+"\n" {
		t.Errorf("delete once the key is revoked: %q, %v", out, err)
	}
	status, creds, _ := call(t, "GET", k.admin+"/admin/v1/credentials", testToken, "")
	if status != 200 || creds["pagination"].(map[string]any)["total"] != float64(1) {
		t.Errorf("the running server lists %v after the CLI's delete, want 1 credential", creds)
	}
	dump := dumpSQLite(t, strings.TrimPrefix(dbURL, "sqlite://"))
	for _, s := range []string{pw1, pw2, pw3} {
		if strings.Contains(dump, s) || strings.Contains(list+updated+out+second, s) {
			t.Errorf("a password (%.6s…) is in the database or the CLI's output", s)
		}
	}
}

func TestSecretsReseal(t *testing.T) {
	dbURL := sqliteURL(t)
	oldKey, newKey, otherKey := secretKeyOf(1), secretKeyOf(2), secretKeyOf(3)
	before := []string{"KEYGATE_DATABASE_URL=" + dbURL, "KEYGATE_SECRET_KEY=" + oldKey, "KEYGATE_CREDENTIAL_PASSWORD=odoo-secret-0123456789"}
	audit.secret("odoo-secret-0123456789")
	for _, name := range []string{"a", "b"} {
		if _, err := cliIn(t, before, "", "credentials", "create", "--name", name, "--url", "http://o", "--db", "d", "--login", "l", "--password-env"); err != nil {
			t.Fatal(err)
		}
	}
	rotating := []string{"KEYGATE_DATABASE_URL=" + dbURL, "KEYGATE_SECRET_KEY=" + newKey, "KEYGATE_SECRET_KEY_PREVIOUS=" + oldKey}
	cases := []struct {
		name string
		env  []string
		want string
		fail bool
	}{
		{"wrong_key_fails_and_changes_nothing", []string{"KEYGATE_DATABASE_URL=" + dbURL, "KEYGATE_SECRET_KEY=" + otherKey}, "resealed 0, already current 0, failed 2\n", true},
		{"new_key_with_the_old_as_previous_reseals", rotating, "resealed 2, already current 0, failed 0\n", false},
		{"second_run_changes_nothing", rotating, "resealed 0, already current 2, failed 0\n", false},
		{"new_key_alone_finds_all_current", []string{"KEYGATE_DATABASE_URL=" + dbURL, "KEYGATE_SECRET_KEY=" + newKey}, "resealed 0, already current 2, failed 0\n", false},
		{"old_key_alone_opens_nothing_now", before, "resealed 0, already current 0, failed 2\n", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := cliIn(t, c.env, "", "secrets", "reseal")
			got := strings.Join(strings.SplitAfter(out, "\n")[:1], "")
			if got != c.want || (err != nil) != c.fail {
				t.Errorf("secrets reseal = %q, %v; want %q (error: %v)", out, err, c.want, c.fail)
			}
		})
	}
	for name, env := range map[string][]string{
		"previous_without_current": {"KEYGATE_DATABASE_URL=" + dbURL, "KEYGATE_SECRET_KEY_PREVIOUS=" + oldKey},
		"previous_not_base64":      {"KEYGATE_DATABASE_URL=" + dbURL, "KEYGATE_SECRET_KEY=" + newKey, "KEYGATE_SECRET_KEY_PREVIOUS=nope"},
	} {
		err := run(context.Background(), []string{"serve"}, env, nil, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "KEYGATE_SECRET_KEY_PREVIOUS") {
			t.Errorf("%s: serve = %v, want an error naming KEYGATE_SECRET_KEY_PREVIOUS", name, err)
		}
	}
	bad := []string{"KEYGATE_DATABASE_URL=" + dbURL, "KEYGATE_SECRET_KEY=" + newKey, "KEYGATE_SECRET_KEY_PREVIOUS=nope"}
	if out, err := cliIn(t, bad, "", "secrets", "reseal"); err == nil || out != "" || !strings.Contains(err.Error(), "KEYGATE_SECRET_KEY_PREVIOUS") {
		t.Errorf("secrets reseal with a bad previous key = %q, %v; want no output and an error naming KEYGATE_SECRET_KEY_PREVIOUS", out, err)
	}
}

// During a rotation, a replica with the new key and the old one as
// previous serves credentials sealed under either.
func TestServeOpensSecretsUnderThePreviousKey(t *testing.T) {
	_, srv := odootest.NewServer(t, odootest.Config{})
	dbURL := sqliteURL(t)
	oldKey, newKey := secretKeyOf(1), secretKeyOf(2)
	if _, err := cliIn(t, []string{"KEYGATE_DATABASE_URL=" + dbURL, "KEYGATE_SECRET_KEY=" + oldKey}, "demo\n",
		"credentials", "create", "--name", "demo", "--url", srv.URL, "--db", "odoo_test", "--login", "demo", "--password-stdin", "--json"); err != nil {
		t.Fatal(err)
	}
	creds, _ := cliIn(t, []string{"KEYGATE_DATABASE_URL=" + dbURL}, "", "credentials", "list", "--json")
	var c keystore.Credential
	_ = json.Unmarshal([]byte(creds), &c)
	k := start(t, "KEYGATE_DATABASE_URL="+dbURL, "KEYGATE_SECRET_KEY="+newKey, "KEYGATE_SECRET_KEY_PREVIOUS="+oldKey)
	_, key, _ := call(t, "POST", k.admin+"/admin/v1/keys", testToken, `{"name":"k","scopes":["odoo:res.partner:read"],"credential_id":"`+c.ID+`"}`)
	uid := jsonrpc(t, k.public, "common", "authenticate", "x", "x", key["key"].(string), map[string]any{})
	if uid["result"] != float64(6) {
		t.Errorf("authenticate through a credential sealed under the previous key = %v, want demo's uid 6", uid)
	}
}

// Two replicas on one Postgres: a service account changed through one is
// used, with its new uid, by the other within a second (LISTEN/NOTIFY),
// not after the account cache's 5 minutes.
func TestCredentialChangeReachesOtherReplica(t *testing.T) {
	_, srv := odootest.NewServer(t, odootest.Config{})
	db := testenv.Postgres(t)
	env := []string{"KEYGATE_DATABASE_URL=" + db, "KEYGATE_SECRET_KEY=" + secretKeyOf(4)}
	a, b := start(t, env...), start(t, env...)
	_, cred, _ := call(t, "POST", a.admin+"/admin/v1/credentials", testToken,
		fmt.Sprintf(`{"name":"svc","url":%q,"db":"odoo_test","login":"demo","password":"demo"}`, srv.URL))
	_, key, _ := call(t, "POST", a.admin+"/admin/v1/keys", testToken, `{"name":"k","scopes":["odoo:res.partner:read"],"credential_id":"`+cred["id"].(string)+`"}`)
	plain := key["key"].(string)
	uidOn := func(k *instance) any {
		return jsonrpc(t, k.public, "common", "authenticate", "x", "x", plain, map[string]any{})["result"]
	}
	if got := uidOn(b); got != float64(6) {
		t.Fatalf("replica b before the change: uid %v, want demo's 6", got) // b caches the account and its uid now
	}
	changedAt := time.Now()
	if s, _, _ := call(t, "PATCH", a.admin+"/admin/v1/credentials/"+cred["id"].(string), testToken, `{"login":"portal","password":"portal"}`); s != 200 {
		t.Fatalf("PATCH: %d", s)
	}
	for uidOn(b) != float64(7) {
		if time.Since(changedAt) > 5*time.Second {
			t.Fatalf("replica b still uses the old account 5s after the change")
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("the change reached the other replica after %v", time.Since(changedAt))
	if got := uidOn(a); !cmp.Equal(got, float64(7)) {
		t.Errorf("replica a after its own change: uid %v, want 7", got)
	}
}
