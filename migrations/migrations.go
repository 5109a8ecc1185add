package migrations

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// Dialects keygate ships migrations for.
const (
	Postgres = "postgres"
	SQLite   = "sqlite"
)

// ErrDialect reports a dialect without migrations.
var ErrDialect = errors.New("migrations: unknown dialect")

// Runner applies the embedded migrations of one dialect to one database.
type Runner struct {
	p *goose.Provider
}

// MigrationStatus is one migration and whether it is applied.
type MigrationStatus struct {
	Version int64
	Name    string
	Applied bool
}

// New returns a Runner for db. The caller keeps db and closes it; a Runner
// holds nothing else and needs no Close.
func New(db *sql.DB, dialect string) (*Runner, error) {
	var (
		gd   goose.Dialect
		opts []goose.ProviderOption
	)
	switch dialect {
	case Postgres:
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
		if err != nil {
			return nil, fmt.Errorf("migrations: lock: %w", err)
		}
		gd, opts = goose.DialectPostgres, append(opts, goose.WithSessionLocker(locker))
	case SQLite:
		gd = goose.DialectSQLite3
	default:
		return nil, fmt.Errorf("%w %q", ErrDialect, dialect)
	}
	sub, err := fs.Sub(files, dialect)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	p, err := goose.NewProvider(gd, db, sub, opts...)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return &Runner{p: p}, nil
}

// Up applies every pending migration and returns how many it applied.
func (r *Runner) Up(ctx context.Context) (int, error) {
	res, err := r.p.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("migrations: up: %w", err)
	}
	return len(res), nil
}

// Down rolls back the most recent migration.
func (r *Runner) Down(ctx context.Context) error {
	if _, err := r.p.Down(ctx); err != nil {
		return fmt.Errorf("migrations: down: %w", err)
	}
	return nil
}

// Status lists every migration with whether it is applied.
func (r *Runner) Status(ctx context.Context) ([]MigrationStatus, error) {
	st, err := r.p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrations: status: %w", err)
	}
	out := make([]MigrationStatus, len(st))
	for i, s := range st {
		out[i] = MigrationStatus{Version: s.Source.Version, Name: s.Source.Path, Applied: s.State == goose.StateApplied}
	}
	return out, nil
}

// Version returns the version of the newest applied migration (0 for none).
func (r *Runner) Version(ctx context.Context) (int64, error) {
	v, err := r.p.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrations: version: %w", err)
	}
	return v, nil
}
