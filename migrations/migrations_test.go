package migrations_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"sync"
	"testing"

	_ "github.com/glebarez/go-sqlite"
	"github.com/google/go-cmp/cmp"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/keygate/keygate/internal/testenv"
	"github.com/keygate/keygate/migrations"
)

var ctx = context.Background()

func open(t *testing.T, dialect string) *sql.DB {
	t.Helper()
	driver, dsn := "sqlite", filepath.Join(t.TempDir(), "m.db")
	if dialect == migrations.Postgres {
		driver, dsn = "pgx", testenv.Postgres(t)
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func tables(t *testing.T, db *sql.DB, dialect string) []string {
	t.Helper()
	q := "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'goose_db_version' ORDER BY name"
	if dialect == migrations.Postgres {
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name != 'goose_db_version' ORDER BY table_name"
	}
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

func TestUpDownUp(t *testing.T) {
	for _, dialect := range []string{migrations.SQLite, migrations.Postgres} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			db := open(t, dialect)
			r, err := migrations.New(db, dialect)
			if err != nil {
				t.Fatal(err)
			}
			all := allTables
			steps := []struct {
				name string
				run  func() error
				want []string
			}{
				{"up", func() error { _, err := r.Up(ctx); return err }, all},
				{"down_all", func() error { return downAll(r) }, []string{}},
				{"up_again", func() error { _, err := r.Up(ctx); return err }, all},
			}
			for _, s := range steps {
				if err := s.run(); err != nil {
					t.Fatalf("%s: %v", s.name, err)
				}
				if diff := cmp.Diff(s.want, tables(t, db, dialect)); diff != "" {
					t.Errorf("tables after %s (-want +got):\n%s", s.name, diff)
				}
			}
			st, err := r.Status(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range st {
				if !m.Applied {
					t.Errorf("migration %d not applied after up", m.Version)
				}
			}
		})
	}
}

func downAll(r *migrations.Runner) error {
	for {
		v, err := r.Version(ctx)
		if err != nil || v == 0 {
			return err
		}
		if err := r.Down(ctx); err != nil {
			return err
		}
	}
}

// Replicas starting together against one Postgres must apply each migration
// once: the advisory lock serializes them and the late ones find nothing.
func TestConcurrentUpOnPostgres(t *testing.T) {
	url := testenv.Postgres(t)
	const replicas = 4
	applied := make([]int, replicas)
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := sql.Open("pgx", url)
			if err != nil {
				errs[i] = err
				return
			}
			defer db.Close()
			r, err := migrations.New(db, migrations.Postgres)
			if err != nil {
				errs[i] = err
				return
			}
			applied[i], errs[i] = r.Up(ctx)
		}()
	}
	wg.Wait()
	total := 0
	for i := range replicas {
		if errs[i] != nil {
			t.Fatalf("replica %d: %v", i, errs[i])
		}
		total += applied[i]
	}
	db := open(t, migrations.SQLite) // any handle will do for counting sources
	r, _ := migrations.New(db, migrations.SQLite)
	st, _ := r.Status(ctx)
	if total != len(st) {
		t.Errorf("replicas applied %d migrations in all, want each of the %d once", total, len(st))
	}
}
