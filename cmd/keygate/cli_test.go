package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	_ "github.com/glebarez/go-sqlite"
	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/internal/testenv"
)

// cli runs one keygate command and returns what it printed.
func cli(t testing.TB, env []string, args ...string) (string, string) {
	t.Helper()
	var out, errs bytes.Buffer
	if err := run(context.Background(), args, env, nil, &out, &errs); err != nil {
		t.Fatalf("keygate %s: %v\n%s", strings.Join(args, " "), err, errs.String())
	}
	audit.secretsIn(out.Bytes())
	logs := &testenv.LockedBuffer{}
	logs.Write(errs.Bytes())
	audit.logs(logs)
	return out.String(), errs.String()
}

func TestCLIKeys(t *testing.T) {
	env := []string{"KEYGATE_DATABASE_URL=" + sqliteURL(t)}
	out, _ := cli(t, env, "keys", "create", "--name", "bootstrap", "--owner", "ops", "--admin",
		"--scope", "route:GET:/api/**", "--rate-limit", "100/1m", "--ip", "10.0.0.0/8", "--ip", "127.0.0.0/8", // the test calls from loopback: the allowlist holds on the admin listener
		"--ttl", "720h", "--json")
	var created map[string]any
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatalf("keys create --json printed %q", out)
	}
	// The admin API, with the key the CLI made, answers the same object.
	k := start(t, env...)
	status, got, _ := call(t, "GET", k.admin+"/admin/v1/keys/"+created["id"].(string), created["key"].(string), "")
	if status != 200 {
		t.Fatalf("GET with the CLI's admin key: %d", status)
	}
	got["key"] = created["key"]
	if diff := cmp.Diff(created, got); diff != "" {
		t.Errorf("CLI object vs API object (-cli +api):\n%s", diff)
	}
	if diff := cmp.Diff([]any{"route:GET:/api/**", "admin"}, got["scopes"]); diff != "" {
		t.Errorf("scopes (-want +got):\n%s", diff)
	}
	list, _ := cli(t, env, "keys", "list")
	if !strings.Contains(list, created["id"].(string)) || strings.Contains(list, created["key"].(string)) {
		t.Errorf("keys list = %q: want the id and never the key", list)
	}
	rotated, _ := cli(t, env, "keys", "rotate", created["id"].(string), "--grace", "0s", "--json")
	var fresh map[string]any
	_ = json.Unmarshal([]byte(rotated), &fresh)
	revoked, _ := cli(t, env, "keys", "revoke", fresh["id"].(string))
	if !strings.Contains(revoked, "revoked "+fresh["id"].(string)) {
		t.Errorf("keys revoke printed %q", revoked)
	}
	// The CLI wrote to the file behind the running server's back; the server
	// notices within its watch interval (1s). Poll, do not sleep.
	for _, key := range []string{created["key"].(string), fresh["key"].(string)} {
		deadline := time.Now().Add(10 * time.Second)
		for {
			s, _, _ := call(t, "GET", k.admin+"/admin/v1/keys", key, "")
			if s == 401 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("key %.12s still %d 10s after rotate(0s)/revoke by the CLI, want 401", key, s)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func TestCLIMigrate(t *testing.T) {
	env := []string{"KEYGATE_DATABASE_URL=" + sqliteURL(t)}
	up, _ := cli(t, env, "migrate", "up")
	st, _ := cli(t, env, "migrate", "status")
	cli(t, env, "migrate", "down")
	after, _ := cli(t, env, "migrate", "status")
	n := strings.Count(st, "\n")
	want := []string{fmt.Sprintf("applied %d migration(s)\n", n), "0 pending", "1 pending"}
	got := []string{up, fmt.Sprintf("%d pending", strings.Count(st, "pending")), fmt.Sprintf("%d pending", strings.Count(after, "pending"))}
	if n == 0 || !cmp.Equal(want, got) {
		t.Errorf("migrate up, status, down then status: want %q, got %q (status %q)", want, got, st)
	}
}

func TestConfigErrorsReportedTogether(t *testing.T) {
	env := []string{"KEYGATE_DATABASE_URL=mysql://x", "KEYGATE_KEY_PREFIX=BAD", "KEYGATE_ADMIN_TOKEN=short", "KEYGATE_DEFAULT_RATE_LIMITS=lots"}
	err := run(context.Background(), []string{"serve"}, env, nil, io.Discard, io.Discard)
	for _, v := range []string{"KEYGATE_DATABASE_URL", "KEYGATE_KEY_PREFIX", "KEYGATE_ADMIN_TOKEN", "KEYGATE_DEFAULT_RATE_LIMITS"} {
		if err == nil || !strings.Contains(err.Error(), v) {
			t.Errorf("serve with bad config: %v; want it to name %s", err, v)
		}
	}
}

// Keys made through the API and the CLI appear in no table and no log line.
func TestNoPlaintextKeyStoredOrLogged(t *testing.T) {
	dbURL := sqliteURL(t)
	env := []string{"KEYGATE_DATABASE_URL=" + dbURL}
	out, cliLogs := cli(t, env, "keys", "create", "--name", "cli", "--admin", "--json")
	var c map[string]any
	_ = json.Unmarshal([]byte(out), &c)
	keys := []string{c["key"].(string), testToken}
	k := start(t, env...)
	for i := range 3 {
		_, r, _ := call(t, "POST", k.admin+"/admin/v1/keys", c["key"].(string), fmt.Sprintf(`{"name":"api%d"}`, i))
		keys = append(keys, r["key"].(string))
		_, rot, _ := call(t, "POST", k.admin+"/admin/v1/keys/"+r["id"].(string)+"/rotate", testToken, `{}`)
		keys = append(keys, rot["key"].(string))
		call(t, "GET", k.admin+"/admin/v1/keys", r["key"].(string), "")
	}
	dump := dumpSQLite(t, strings.TrimPrefix(dbURL, "sqlite://"))
	for _, key := range keys {
		for where, text := range map[string]string{"database": dump, "serve log": k.logs.String(), "cli log": cliLogs} {
			if strings.Contains(text, key) {
				t.Errorf("the %s contains a plaintext credential %.12s…", where, key)
			}
		}
	}
	if !strings.Contains(dump, "api0") || !k.logHas(`"status":201`) {
		t.Fatal("the dump or the log is empty: the check above proves nothing")
	}
}

// dumpSQLite renders every row of every table as text.
func dumpSQLite(t testing.TB, path string) string {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	names, err := db.Query("SELECT name FROM sqlite_master WHERE type = 'table'")
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for names.Next() {
		var n string
		_ = names.Scan(&n)
		tables = append(tables, n)
	}
	names.Close()
	var b strings.Builder
	for _, tbl := range tables {
		rows, err := db.Query("SELECT * FROM " + tbl)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			_ = rows.Scan(ptrs...)
			fmt.Fprintf(&b, "%s: %v\n", tbl, fmtRow(vals))
		}
		rows.Close()
	}
	return b.String()
}

func fmtRow(vals []any) string {
	parts := make([]string, len(vals))
	for i, v := range vals {
		if b, ok := v.([]byte); ok {
			v = string(b)
		}
		parts[i] = fmt.Sprint(v)
	}
	return strings.Join(parts, " | ")
}

func TestHealthcheckCommand(t *testing.T) {
	k := start(t, "KEYGATE_DATABASE_URL="+sqliteURL(t))
	out, _ := cli(t, nil, "healthcheck", "--url", k.public+"/healthz")
	err := run(context.Background(), []string{"healthcheck", "--url", k.public + "/nope"}, nil, nil, io.Discard, io.Discard)
	if out != "ok\n" || err == nil {
		t.Errorf("healthcheck of /healthz printed %q; of a 404 returned %v, want an error", out, err)
	}
}
