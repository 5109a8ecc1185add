package keystore_test

import (
	"context"
	"testing"
	"time"

	"github.com/keygate/keygate/internal/testenv"
	"github.com/keygate/keygate/keystore"
)

// A flush writes its keys in statements whose text depends on how many
// rows each holds, and pgx prepares and keeps (up to 512 a connection)
// every text it runs, in keygate and in the Postgres backend. Flushes of
// every size from 1 to 300 keys must not leave a prepared statement for
// each size: the statements' shapes are few, whatever the sizes.
func TestFlushPreparesFewStatements(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, testenv.Postgres(t), keystore.Config{})
	const n = 300
	ids := make([]string, n)
	for i := range ids {
		rec, _, err := s.Create(ctx, "test", keystore.Spec{Name: "k", Owner: "o"})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = rec.ID
	}
	at := time.Now()
	for size := 1; size <= n; size++ {
		for _, id := range ids[:size] {
			s.RecordUse(id, true, at)
		}
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Every connection of the pool, held at once, and the flush's
	// statements its session prepared.
	db := s.SQLDB()
	open := db.Stats().OpenConnections
	texts := map[string]bool{}
	var planBytes int64 // what the sessions' prepared statements hold in Postgres
	var textBytes int64 // their texts, which pgx keeps too, a copy per connection
	for range open {
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		rows, err := c.QueryContext(ctx, `SELECT statement FROM pg_prepared_statements
WHERE statement LIKE '%key_usage%' OR statement LIKE '%last_used_at%'`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var text string
			if err := rows.Scan(&text); err != nil {
				t.Fatal(err)
			}
			texts[text] = true
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		var b int64
		var text int64
		if err := c.QueryRowContext(ctx, `SELECT coalesce(sum(total_bytes), 0), (SELECT coalesce(sum(length(statement)), 0)
FROM pg_prepared_statements) FROM pg_backend_memory_contexts WHERE name LIKE 'CachedPlan%'`).Scan(&b, &text); err != nil {
			t.Fatal(err)
		}
		planBytes += b
		textBytes += text
	}
	// Two kinds (last use, counts), of 1, 2, 4 … 1,024 rows at most; the
	// flushes here write 1 to 300 keys over 16 shards, so far fewer.
	t.Logf("%d texts of the flush's statements prepared on %d connections after %d flushes; "+
		"the sessions' prepared statements: %.1f MiB in Postgres, their texts %.1f MiB (pgx holds them too)",
		len(texts), open, n, float64(planBytes)/(1<<20), float64(textBytes)/(1<<20))
	if len(texts) == 0 || len(texts) > 2*11 {
		t.Errorf("%d texts of the flush's statements prepared after flushes of 1 to %d keys, want from 1 to %d", len(texts), n, 2*11)
	}
}
