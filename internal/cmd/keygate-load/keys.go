package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/keygate/keygate/keystore"
)

// keys inserts -n keys shaped like a typical partner key straight into
// api_keys of the Postgres database -db (migrated: keygate migrate up), in
// one COPY, and writes their plaintexts to -out, one a line. keystore's
// Create would write an audit event per key and take a transaction each;
// the rows are what BenchmarkCachedKeys (cmd/keygate) inserts.
func keys(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("keys", flag.ContinueOnError)
	n := fs.Int("n", 100_000, "how many keys")
	db := fs.String("db", "", "Postgres URL of a migrated keygate database")
	out := fs.String("out", "", "file to write the keys to, one a line")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *db == "" || *out == "" || *n < 1 {
		return errors.New("keys: want -db, -out and -n >= 1")
	}
	rows, plain, err := keyRows(*n)
	if err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, *db)
	if err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	defer conn.Close(context.Background())
	cols := []string{"id", "hash", "prefix", "name", "owner", "scopes", "rate_limits", "ip_allowlist", "status", "metadata", "created_at", "updated_at"}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"api_keys"}, cols, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("keys: insert: %w", err)
	}
	return os.WriteFile(*out, []byte(strings.Join(plain, "\n")+"\n"), 0o600)
}

// keyRows makes n keys: their api_keys rows and their plaintexts.
func keyRows(n int) ([][]any, []string, error) {
	now := time.Now().UTC()
	rows, plain := make([][]any, n), make([]string, n)
	for i := range rows {
		k, err := keystore.Generate(keystore.DefaultPrefix)
		if err != nil {
			return nil, nil, err
		}
		h := k.Hash()
		rows[i] = []any{uuid.Must(uuid.NewV7()).String(), h[:], k.Prefix(), "shop " + strconv.Itoa(i), "partner-" + strconv.Itoa(i%5000),
			`["odoo:res.partner:read","odoo:sale.order:*","route:GET:/api/**"]`, `["100/1s","10000/1h"]`, `[]`, "active", `{}`, now, now}
		plain[i] = k.Reveal()
	}
	return rows, plain, nil
}

// verify sends one forward-auth request per key of -keys to -url, as
// nginx would ask (GET /api/v1/partners), on -c keep-alive connections,
// and fails unless every answer is 200.
func verify(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	target := fs.String("url", "", "keygate's /auth URL (loopback)")
	file := fs.String("keys", "", "file of keys, one a line")
	conns := fs.Int("c", 4, "connections")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if _, err := loopbackURL("verify", *target); err != nil {
		return err
	}
	list, err := readKeys(*file)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *conns, MaxConnsPerHost: *conns}}
	var next atomic.Int64
	var failures []string
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range *conns {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(len(list)) && ctx.Err() == nil; i = next.Add(1) - 1 {
				if msg := authOnce(ctx, client, *target, list[i]); msg != "" {
					mu.Lock()
					failures = append(failures, msg)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if len(failures) > 0 {
		return fmt.Errorf("verify: %d of %d keys not answered 200, the first: %s", len(failures), len(list), failures[0])
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	_, err = fmt.Fprintf(stdout, "verified=%d\n", len(list))
	return err
}

// authOnce asks about one key; "" when the answer is 200, else what went
// wrong.
func authOnce(ctx context.Context, client *http.Client, target, key string) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err.Error()
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("X-Original-Method", http.MethodGet)
	req.Header.Set("X-Original-URI", "/api/v1/partners")
	resp, err := client.Do(req)
	if err != nil {
		return err.Error()
	}
	_, _ = io.Copy(io.Discard, resp.Body) // so that the connection is reused
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return resp.Status
	}
	return ""
}

func readKeys(file string) ([]string, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var list []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k := strings.TrimSpace(sc.Text()); k != "" {
			list = append(list, k)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("verify: no keys in %s", file)
	}
	return list, nil
}
