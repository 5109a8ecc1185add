package keystore_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/keygate/keygate/internal/testenv"
	"github.com/keygate/keygate/keystore"
)

// insertFlushKeys inserts n keys straight into api_keys, in one statement
// (Create would take a transaction and an audit event each), and returns
// their ids: rows for a flush to write usage of.
func insertFlushKeys(tb testing.TB, s *keystore.Store, n int) []string {
	tb.Helper()
	rows, err := s.SQLDB().Query(`INSERT INTO api_keys (id, hash, prefix, name, status, created_at, updated_at)
SELECT 'flush-' || i, sha256(i::text::bytea), 'kg_flush', 'k', 'active', now(), now()
FROM generate_series(1, $1::int) AS i RETURNING id`, n)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	ids := make([]string, 0, n)
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			tb.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return ids
}

// flushStatements reads, on every connection of s's pool held at once,
// the statements its Postgres session has prepared: the distinct texts of
// the flush's two kinds (last use, counts), and what all of them hold in
// Postgres (their plans) and in text (which pgx keeps too, a copy per
// connection), in bytes.
func flushStatements(tb testing.TB, s *keystore.Store) (texts int, planBytes, textBytes int64) {
	tb.Helper()
	ctx := context.Background()
	db := s.SQLDB()
	seen := map[string]bool{}
	for range db.Stats().OpenConnections {
		c, err := db.Conn(ctx)
		if err != nil {
			tb.Fatal(err)
		}
		defer c.Close()
		rows, err := c.QueryContext(ctx, `SELECT statement FROM pg_prepared_statements
WHERE statement LIKE 'INSERT INTO "key_usage"%' OR statement LIKE 'WITH v(id, t) AS (VALUES%'`)
		if err != nil {
			tb.Fatal(err)
		}
		for rows.Next() {
			var text string
			if err := rows.Scan(&text); err != nil {
				tb.Fatal(err)
			}
			seen[text] = true
		}
		if err := rows.Err(); err != nil {
			tb.Fatal(err)
		}
		rows.Close()
		var plan, text int64
		if err := c.QueryRowContext(ctx, `SELECT coalesce(sum(total_bytes), 0), (SELECT coalesce(sum(length(statement)), 0)
FROM pg_prepared_statements) FROM pg_backend_memory_contexts WHERE name LIKE 'CachedPlan%'`).Scan(&plan, &text); err != nil {
			tb.Fatal(err)
		}
		planBytes += plan
		textBytes += text
	}
	return len(seen), planBytes, textBytes
}

// recordAndFlush counts a request of each of ids and flushes.
func recordAndFlush(tb testing.TB, s *keystore.Store, ids []string, at time.Time) {
	tb.Helper()
	for _, id := range ids {
		s.RecordUse(id, true, at)
	}
	if err := s.Flush(context.Background()); err != nil {
		tb.Fatal(err)
	}
}

// A flush writes its keys in statements whose text depends on how many
// rows each holds, and pgx prepares and keeps (up to 512 a connection)
// every text it runs, in keygate and in the Postgres backend. Flushes of
// every size from 1 to 300 keys must not leave a prepared statement for
// each size: the statements' shapes are few, whatever the sizes.
func TestFlushPreparesFewStatements(t *testing.T) {
	t.Parallel()
	s := openStore(t, testenv.Postgres(t), keystore.Config{})
	const n = 300
	ids := insertFlushKeys(t, s, n)
	at := time.Now()
	for size := 1; size <= n; size++ {
		recordAndFlush(t, s, ids[:size], at)
	}
	texts, plan, text := flushStatements(t, s)
	// Two kinds, of 1, 2, 4 … 1,024 rows at most; the flushes here write
	// 1 to 300 keys over 16 shards, so far fewer.
	t.Logf("%d texts of the flush's statements prepared after %d flushes; the sessions' prepared statements: "+
		"%.1f MiB in Postgres, their texts %.1f MiB (pgx holds them too)", texts, n, float64(plan)/(1<<20), float64(text)/(1<<20))
	if texts == 0 || texts > 2*11 {
		t.Errorf("%d texts of the flush's statements prepared after flushes of 1 to %d keys, want from 1 to %d", texts, n, 2*11)
	}
}

// BenchmarkFlushPreparedStatements: 8,000 keys, then 30 flushes of 4,000 to
// 8,000 of them (each key used once an interval, as under steady traffic),
// and what the Postgres sessions then hold for the statements prepared:
// flush-texts (distinct texts of the flush's statements), pg-MiB (their
// plans and those of every other statement, in Postgres) and text-MiB
// (their texts, which pgx keeps too). One pass, whatever b.N.
func BenchmarkFlushPreparedStatements(b *testing.B) {
	s := openStore(b, testenv.Postgres(b), keystore.Config{})
	ids := insertFlushKeys(b, s, 8000)
	rng := rand.New(rand.NewPCG(1, 2))
	at := time.Now()
	for range 30 {
		recordAndFlush(b, s, ids[:4000+rng.IntN(4001)], at)
	}
	texts, plan, text := flushStatements(b, s)
	for b.Loop() {
	}
	b.ReportMetric(float64(texts), "flush-texts")
	b.ReportMetric(float64(plan)/(1<<20), "pg-MiB")
	b.ReportMetric(float64(text)/(1<<20), "text-MiB")
}
