package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/keygate/keygate/keystore"
	"github.com/keygate/keygate/limiter"
	"github.com/keygate/keygate/migrations"
)

func newLogger(w io.Writer, cfg *config) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: cfg.logLevel()}))
}

// openStore opens the key store with the validators and policy compiler of
// the packages that own those rules.
func openStore(ctx context.Context, cfg *config, log *slog.Logger) (*keystore.Store, error) {
	return openStoreWith(ctx, cfg, log, nil)
}

// openStoreWith opens the store of serve, whose limiter leases credits.
func openStoreWith(ctx context.Context, cfg *config, log *slog.Logger, leases keystore.CreditLeases) (*keystore.Store, error) {
	return keystore.Open(ctx, keystore.Config{
		URL: cfg.DatabaseURL, Logger: log, KeyPrefix: cfg.KeyPrefix,
		ValidateScope: validateScope, ValidateRateLimit: validateRateLimit, Compile: compilePolicy,
		CacheSize: cfg.CacheSize, CacheTTL: cfg.CacheTTL, NegativeTTL: cfg.NegativeTTL,
		FlushInterval: cfg.FlushInterval, Credits: leases,
	})
}

func validateRateLimit(s string) error {
	_, err := limiter.ParseLimit(s)
	return err
}

func migrator(s *keystore.Store) (*migrations.Runner, error) {
	return migrations.New(s.SQLDB(), s.Dialect())
}

func migrateCommand(cfg *config, stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "migrate", Short: "Apply, roll back or list schema migrations"}
	step := func(use, short string, fn func(ctx context.Context, r *migrations.Runner) error) *cobra.Command {
		return &cobra.Command{Use: use, Short: short, Args: cobra.NoArgs, RunE: func(c *cobra.Command, _ []string) error {
			return withMigrator(c.Context(), cfg, stderr, fn)
		}}
	}
	cmd.AddCommand(
		step("up", "Apply every pending migration", func(ctx context.Context, r *migrations.Runner) error {
			n, err := r.Up(ctx)
			if err == nil {
				_, err = fmt.Fprintf(stdout, "applied %d migration(s)\n", n)
			}
			return err
		}),
		step("down", "Roll back the newest migration", func(ctx context.Context, r *migrations.Runner) error {
			return r.Down(ctx)
		}),
		step("status", "List migrations and whether each is applied", func(ctx context.Context, r *migrations.Runner) error {
			return printStatus(ctx, r, stdout)
		}),
	)
	return cmd
}

func withMigrator(ctx context.Context, cfg *config, stderr io.Writer, fn func(context.Context, *migrations.Runner) error) error {
	s, err := openStore(ctx, cfg, newLogger(stderr, cfg))
	if err != nil {
		return err
	}
	defer s.Close()
	r, err := migrator(s)
	if err != nil {
		return err
	}
	return fn(ctx, r)
}

func printStatus(ctx context.Context, r *migrations.Runner, w io.Writer) error {
	st, err := r.Status(ctx)
	if err != nil {
		return err
	}
	for _, m := range st {
		state := "pending"
		if m.Applied {
			state = "applied"
		}
		if _, err := fmt.Fprintf(w, "%05d  %-8s %s\n", m.Version, state, m.Name); err != nil {
			return err
		}
	}
	return nil
}
