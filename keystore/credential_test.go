package keystore_test

import (
	"bytes"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/internal/testenv/storetest"
	"github.com/keygate/keygate/keystore"
)

const odooSecret = "0123456789abcdef0123456789abcdef0badc0de"

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, keystore.SecretKeySize) }

func newSealer(tb testing.TB, key []byte) *keystore.Sealer {
	tb.Helper()
	s, err := keystore.NewSealer(key)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestSealer(t *testing.T) {
	right, wrong := newSealer(t, testKey(1)), newSealer(t, testKey(2))
	sealed, err := right.Seal([]byte("secret"), []byte("cred-1"))
	if err != nil {
		t.Fatal(err)
	}
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	cases := map[string]struct {
		s      *keystore.Sealer
		sealed []byte
		ad     string
		want   error
	}{
		"right_key_and_id_open":     {right, sealed, "cred-1", nil},
		"wrong_key_fails":           {wrong, sealed, "cred-1", keystore.ErrSealed},
		"other_id_fails_(row_swap)": {right, sealed, "cred-2", keystore.ErrSealed},
		"changed_ciphertext_fails":  {right, tampered, "cred-1", keystore.ErrSealed},
		"truncated_fails":           {right, sealed[:20], "cred-1", keystore.ErrSealed},
		"unknown_version_fails":     {right, append([]byte{9}, sealed[1:]...), "cred-1", keystore.ErrSealed},
		"empty_fails":               {right, nil, "cred-1", keystore.ErrSealed},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := c.s.Open(c.sealed, []byte(c.ad))
			if !errors.Is(err, c.want) {
				t.Fatalf("Open = %q, %v; want %v", got, err, c.want)
			}
			if err == nil && string(got) != "secret" {
				t.Errorf("Open = %q, want %q", got, "secret")
			}
			if bytes.Contains(c.sealed, []byte("secret")) {
				t.Errorf("sealed bytes hold the plaintext")
			}
		})
	}
	again, _ := right.Seal([]byte("secret"), []byte("cred-1"))
	if bytes.Equal(again, sealed) {
		t.Error("two seals of one secret are equal: the nonce is not random")
	}
}

func TestParseSecretKey(t *testing.T) {
	raw := bytes.Repeat([]byte{0xfb}, 32)
	cases := map[string]struct {
		in     string
		wantOK bool
	}{
		"standard_padded":    {base64.StdEncoding.EncodeToString(raw), true},
		"standard_unpadded":  {base64.RawStdEncoding.EncodeToString(raw), true},
		"url_alphabet":       {base64.URLEncoding.EncodeToString(raw), true},
		"surrounding_spaces": {" " + base64.StdEncoding.EncodeToString(raw) + "\n", true},
		"16_bytes_refused":   {base64.StdEncoding.EncodeToString(raw[:16]), false},
		"33_bytes_refused":   {base64.StdEncoding.EncodeToString(append(raw, 1)), false},
		"not_base64":         {"not base64!", false},
		"empty":              {"", false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := keystore.ParseSecretKey(c.in)
			if (err == nil) != c.wantOK {
				t.Fatalf("ParseSecretKey(%q) = %v, want ok=%v", c.in, err, c.wantOK)
			}
			if c.wantOK && !bytes.Equal(got, raw) {
				t.Errorf("ParseSecretKey = %x, want %x", got, raw)
			}
		})
	}
	if _, err := keystore.NewSealer(raw[:31]); err == nil {
		t.Error("NewSealer accepted a 31-byte key")
	}
}

func TestCredentials(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		clk := newClock()
		s := openStore(t, url, keystore.Config{Now: clk.Now})
		v := s.Vault(newSealer(t, testKey(7)))
		spec := keystore.CredentialSpec{Name: "shop", URL: "https://odoo.example.com/", DB: "prod", Login: "api@example.com"}
		c, err := v.CreateCredential(ctx, "test", spec, odooSecret)
		if err != nil {
			t.Fatal(err)
		}
		want := &keystore.Credential{ID: c.ID, Name: "shop", URL: "https://odoo.example.com", DB: "prod",
			Login: "api@example.com", CreatedAt: clk.Now(), UpdatedAt: clk.Now()}
		if diff := cmp.Diff(want, c); diff != "" {
			t.Errorf("CreateCredential (-want +got):\n%s", diff)
		}
		got, err := v.GetCredential(ctx, c.ID)
		if err != nil || !cmp.Equal(want, got) {
			t.Errorf("GetCredential = %+v, %v; want %+v", got, err, want)
		}
		list, total, err := v.ListCredentials(ctx, keystore.CredentialFilter{})
		if err != nil || total != 1 || !cmp.Equal([]*keystore.Credential{want}, list) {
			t.Errorf("ListCredentials = %+v, %d, %v", list, total, err)
		}
		if secret, err := v.CredentialSecret(ctx, c.ID); err != nil || secret != odooSecret {
			t.Errorf("CredentialSecret = %q, %v; want the secret", secret, err)
		}
		var ve *keystore.ValidationError
		if _, err := v.CreateCredential(ctx, "test", spec, "other"); !errors.As(err, &ve) || ve.Fields["name"] == "" {
			t.Errorf("a second credential named %q: %v, want a ValidationError on name", spec.Name, err)
		}
		events, _, _ := s.Audit(ctx, keystore.AuditFilter{})
		if len(events) != 1 || events[0].Action != keystore.ActionCredentialCreate || strings.Contains(string(events[0].Details), odooSecret) {
			t.Errorf("audit = %+v, want one credential.create without the secret", events)
		}
	})
}

func TestCredentialSecretAtRest(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		s := openStore(t, url, keystore.Config{})
		c, err := s.Vault(newSealer(t, testKey(7))).CreateCredential(ctx, "test",
			keystore.CredentialSpec{Name: "a", URL: "http://odoo:8069", DB: "d", Login: "l"}, odooSecret)
		if err != nil {
			t.Fatal(err)
		}
		dump := dumpTable(t, s.SQLDB(), "credentials")
		if !strings.Contains(dump, c.ID) || strings.Contains(dump, odooSecret) || strings.Contains(dump, base64.StdEncoding.EncodeToString([]byte(odooSecret))) {
			t.Errorf("credentials table holds the plaintext secret (or lacks the row):\n%s", dump)
		}
		cases := map[string]struct {
			vault *keystore.Vault
			want  error
		}{
			"wrong_key_fails_to_open": {s.Vault(newSealer(t, testKey(8))), keystore.ErrSealed},
			"no_key_cannot_open":      {s.Vault(nil), keystore.ErrNoSecretKey},
		}
		for name, tc := range cases {
			t.Run(name, func(t *testing.T) {
				secret, err := tc.vault.CredentialSecret(ctx, c.ID)
				if !errors.Is(err, tc.want) || secret != "" {
					t.Errorf("CredentialSecret = %q, %v; want %v", secret, err, tc.want)
				}
			})
		}
		if _, err := s.Vault(nil).CredentialSecret(ctx, "nope"); !errors.Is(err, keystore.ErrNoSecretKey) {
			t.Errorf("no key: %v", err)
		}
		if _, err := s.Vault(newSealer(t, testKey(7))).CredentialSecret(ctx, "nope"); !errors.Is(err, keystore.ErrNotFound) {
			t.Errorf("missing credential: %v, want ErrNotFound", err)
		}
	})
}

// dumpTable renders every row and column of table as text, raw bytes
// included, the way someone reading a backup would see them.
func dumpTable(tb testing.TB, db *sql.DB, table string) string {
	tb.Helper()
	rows, err := db.Query("SELECT * FROM " + table)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			tb.Fatal(err)
		}
		for i, v := range vals {
			fmt.Fprintf(&b, "%s=%s ", cols[i], textOf(v))
		}
		b.WriteString("\n")
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return b.String()
}

func textOf(v any) string {
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	return fmt.Sprint(v)
}

func TestCredentialValidation(t *testing.T) {
	s := openStore(t, storetest.SQLiteURL(t), keystore.Config{})
	v := s.Vault(newSealer(t, testKey(1)))
	ok := keystore.CredentialSpec{Name: "a", URL: "https://odoo.example.com", DB: "d", Login: "l"}
	with := func(f func(*keystore.CredentialSpec)) keystore.CredentialSpec { c := ok; f(&c); return c }
	cases := map[string]struct {
		spec   keystore.CredentialSpec
		secret string
		want   map[string]string
	}{
		"everything_missing": {keystore.CredentialSpec{}, "", map[string]string{
			"name": "is required", "url": "is required", "db": "is required", "login": "is required", "password": "is required"}},
		"ftp_url":             {with(func(c *keystore.CredentialSpec) { c.URL = "ftp://odoo" }), "x", map[string]string{"url": "must be an absolute http:// or https:// URL"}},
		"relative_url":        {with(func(c *keystore.CredentialSpec) { c.URL = "/odoo" }), "x", map[string]string{"url": "must be an absolute http:// or https:// URL"}},
		"credentials_in_url":  {with(func(c *keystore.CredentialSpec) { c.URL = "https://u:p@odoo" }), "x", map[string]string{"url": "must not hold credentials, a query or a fragment"}},
		"invalid_utf8_secret": {ok, "\xff", map[string]string{"password": "must be valid UTF-8 of at most 1024 bytes"}},
		"secret_too_long":     {ok, strings.Repeat("x", 1025), map[string]string{"password": "must be valid UTF-8 of at most 1024 bytes"}},
		"name_over_200_chars": {with(func(c *keystore.CredentialSpec) { c.Name = strings.Repeat("n", 201) }), "x", map[string]string{"name": "must be at most 200 characters"}},
		"valid_is_accepted":   {ok, "x", nil},
		"name_already_in_use": {ok, "y", map[string]string{"name": "is already used by another credential"}},
	}
	for _, name := range []string{"everything_missing", "ftp_url", "relative_url", "credentials_in_url", "invalid_utf8_secret",
		"secret_too_long", "name_over_200_chars", "valid_is_accepted", "name_already_in_use"} {
		c := cases[name]
		t.Run(name, func(t *testing.T) {
			_, err := v.CreateCredential(ctx, "test", c.spec, c.secret)
			var ve *keystore.ValidationError
			if c.want == nil {
				if err != nil {
					t.Fatalf("CreateCredential = %v, want ok", err)
				}
				return
			}
			if !errors.As(err, &ve) {
				t.Fatalf("CreateCredential = %v, want a ValidationError", err)
			}
			if diff := cmp.Diff(c.want, ve.Fields); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := s.Vault(nil).CreateCredential(ctx, "test", with(func(c *keystore.CredentialSpec) { c.Name = "b" }), "x"); !errors.Is(err, keystore.ErrNoSecretKey) {
		t.Errorf("CreateCredential without a key = %v, want ErrNoSecretKey", err)
	}
}

func TestCredentialPages(t *testing.T) {
	clk := newClock()
	s := openStore(t, storetest.SQLiteURL(t), keystore.Config{Now: clk.Now})
	v := s.Vault(newSealer(t, testKey(1)))
	var want []string
	for i := range 5 {
		c, err := v.CreateCredential(ctx, "test", keystore.CredentialSpec{Name: fmt.Sprint("c", i), URL: "http://o", DB: "d", Login: "l"}, "x")
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, c.ID)
		clk.Add(1e9)
	}
	var got []string
	for page := 1; page <= 3; page++ {
		list, total, err := v.ListCredentials(ctx, keystore.CredentialFilter{Page: page, Limit: 2})
		if err != nil || total != 5 {
			t.Fatalf("page %d: total %d, %v", page, total, err)
		}
		for _, c := range list {
			got = append(got, c.ID)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pages, oldest first (-want +got):\n%s", diff)
	}
}
